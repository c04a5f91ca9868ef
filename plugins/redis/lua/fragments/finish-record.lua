--!include fragments/holder-check.lua
--!include fragments/gate-check.lua
--!include fragments/listing-index.lua
--!include fragments/job-ended.lua
--!include fragments/ready-index.lua
-- The finish of finish.lua and finish-lease.lua, which take their first
-- 10 KEYS and 11 ARGV alike:
-- KEYS: record, leases, state:running, state:<outcome>, all,
--       queue attributes, worker attributes, state:queued (a requeued job's last holder may finish it),
--       history:<outcome>, live (see listing-index.lua).
-- ARGV: job id, worker id ('' = any), state, finished_at, finished ms,
--       has result (1/0), result JSON, has reason (1/0), reason,
--       '1' when the worker polls next (then the gate is checked too),
--       the store's key base (for the flow rules, fragments/job-ended.lua).
-- Returns 'ok', the lock token, what blocks the poll ('queue', 'worker'
-- or '') and the flow's effects (job-ended.lua); else 'not-found' or
-- 'lease-lost' (the record is left alone).
local function finishRecord()
  local result, state, holder, token = checkHolder(KEYS[1], ARGV[2])
  if result ~= 'ok' then return result end
  -- A requeued job its last holder finishes: out of the ready index too.
  if state == 'queued' then dropReady(ARGV[11], KEYS[1], ARGV[1]) end
  local set, unset = {'state', ARGV[3], 'finished_at', ARGV[4]}, {'lease_expires', 'lock_token'}
  if ARGV[6] == '1' then set[#set + 1] = 'result'; set[#set + 1] = ARGV[7] else unset[#unset + 1] = 'result' end
  if ARGV[8] == '1' then set[#set + 1] = 'reason'; set[#set + 1] = ARGV[9] else unset[#unset + 1] = 'reason' end
  if ARGV[2] ~= '' and not holder then set[#set + 1] = 'worker_id'; set[#set + 1] = ARGV[2] end
  redis.call('HSET', KEYS[1], unpack(set))
  redis.call('HDEL', KEYS[1], unpack(unset))
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[8], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
  indexFinished(KEYS[10], KEYS[9], KEYS[1], ARGV[1], ARGV[5])
  local effects = newEffects()
  jobEnded(ARGV[11], ARGV[1], KEYS[1], ARGV[3], ARGV[5], ARGV[4], effects)
  local blocked = ''
  if ARGV[10] == '1' then blocked = blockedBy(KEYS[6], KEYS[7], ARGV[10]) end
  return 'ok', token, blocked, effects
end
