-- The lease of one job BullMQ handed out. `lease` holds:
--   record   the job's record key          id        its job id
--   leases, queued, running                the index keys (leases, state:queued, state:running)
--   worker   worker id ('' = anonymous)    expires   lease expiry (epoch ms)
--   startedAt                              token     the BullMQ lock token (kept in the record)
--   now      now (epoch ms)                lockKey   the BullMQ job's lock key
--   lockMs   the lock's duration (ms)
--   grace    the lease grace key (epoch ms until which an expired lease still
--            counts as alive: the sweep's grace period after an outage)
-- Returns 1 and the record (HGETALL) when leased; 0 and its state ('' when
-- gone) when it is not leasable; 2 and 'running' when it runs under a live
-- lease: BullMQ gave it back because its lock ran out (a renewal after an
-- outage longer than lease and grace), or it is a requeued job its last holder
-- took back (renew.lua), but it is still its holder's, so nobody else gets
-- the job: the lock goes back to the holder's token, or, when the lease has
-- none (taken back), the fetch's token becomes the lease's (the job is then
-- active and locked in BullMQ, as a leased job is).
local function leaseRecord(lease)
  local record, id = lease.record, lease.id
  local fields = redis.call('HMGET', record, 'state', 'lease_expires', 'attempts', 'added_ms', 'lock_token')
  local state = fields[1]
  if state ~= 'queued' and state ~= 'running' then return 0, state or '' end
  if state == 'running' then
    local expires = tonumber(fields[2])
    if expires and (expires >= tonumber(lease.now) or (tonumber(redis.call('GET', lease.grace)) or 0) >= tonumber(lease.now)) then
      local holderToken = fields[5]
      if holderToken and holderToken ~= '' then
        redis.call('SET', lease.lockKey, holderToken, 'PX', lease.lockMs)
      else
        redis.call('HSET', record, 'lock_token', lease.token)
        redis.call('SET', lease.lockKey, lease.token, 'PX', lease.lockMs)
      end
      return 2, 'running'
    end
  end
  local attempts = (tonumber(fields[3]) or 0) + 1
  if lease.worker == '' then
    redis.call('HSET', record, 'state', 'running', 'lease_expires', lease.expires, 'started_at', lease.startedAt, 'attempts', attempts, 'lock_token', lease.token)
    redis.call('HDEL', record, 'worker_id', 'finished_at', 'cancel_requested')
  else
    redis.call('HSET', record, 'state', 'running', 'lease_expires', lease.expires, 'started_at', lease.startedAt, 'attempts', attempts, 'lock_token', lease.token, 'worker_id', lease.worker)
    redis.call('HDEL', record, 'finished_at', 'cancel_requested')
  end
  redis.call('ZADD', lease.leases, lease.expires, id)
  redis.call('ZREM', lease.queued, id)
  redis.call('ZADD', lease.running, fields[4] or 0, id)
  return 1, redis.call('HGETALL', record)
end
