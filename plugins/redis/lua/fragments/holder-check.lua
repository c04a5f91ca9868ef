-- The holder check of finish and release: is the job behind record key
-- `record` held by worker `workerId` ('' = anyone)? A running job is its
-- holder's; a requeued job not leased again is still its last holder's
-- (state 'queued', token '').
-- Returns 'ok', the state, the holder (false when anonymous) and the BullMQ
-- lock token the lease was taken with (or ''); else 'not-found' or
-- 'lease-lost'.
local function checkHolder(record, workerId)
  local held = redis.call('HMGET', record, 'state', 'worker_id', 'lock_token')
  local state, holder, token = held[1], held[2], held[3] or ''
  if not state then return 'not-found' end
  if state == 'queued' and workerId ~= '' and holder == workerId then
    token = ''
  elseif state ~= 'running' then return 'lease-lost'
  elseif workerId ~= '' and holder and holder ~= workerId then return 'lease-lost' end
  return 'ok', state, holder, token
end
