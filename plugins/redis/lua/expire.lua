-- One job whose lease may have ended.
-- KEYS: record, leases, state:running, state:queued, state:failed,
--       state:cancelled, all, the BullMQ job's lock, the lease grace key
--       (no lease expires before the epoch ms it holds: a grace period any
--       instance on the prefix granted holds for every instance's sweep),
--       history:failed, history:cancelled, live (see fragments/listing-index.lua),
--       the BullMQ job (its hash).
-- ARGV: job id, now (ms), max attempts, now (ISO), a fresh move token, grace
--       (ms), the store's key base (for the flow rules, fragments/job-ended.lua,
--       and the ready index), BullMQ's score unit.
-- A requeued job is back in its ready index at the head of its priority at
-- once (fragments/ready-index.lua), where the caller's move to wait puts it
-- in BullMQ.
-- Returns {'requeued' | 'failed' | 'cancelled' | 'skip', move token, reason,
-- ids queued, ids discarded (the flow's effects of a job that ended)}.
-- The BullMQ lock goes with the lease, to the move token as in release.lua:
-- the worker that lost the lease can no longer move the BullMQ job (a finish
-- it sends along with its report fails), nor can the stalled check before
-- the sweep's own move.
--!include fragments/hand-over-lock.lua
--!include fragments/listing-index.lua
--!include fragments/job-ended.lua
local fields = redis.call('HMGET', KEYS[1], 'state', 'lease_expires', 'attempts', 'lock_token', 'cancel_requested', 'added_ms')
local state, expires = fields[1], tonumber(fields[2])
if state ~= 'running' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'skip', '', ''}
end
if not expires or expires >= tonumber(ARGV[2]) then return {'skip', '', ''} end
if (tonumber(redis.call('GET', KEYS[9])) or 0) >= tonumber(ARGV[2]) then return {'skip', '', ''} end
local attempts = tonumber(fields[3]) or 0
local token = fields[4] or ''
redis.call('ZREM', KEYS[2], ARGV[1])
local moveToken = handOverLock(KEYS[8], token, ARGV[5], ARGV[6])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], 'lease_expires', 'lock_token')
local outcome, reason, target, index
if fields[5] == '1' then
  outcome, target, index = 'cancelled', KEYS[6], KEYS[11]
  reason = 'cancel requested; lease expired after ' .. attempts .. ' attempt(s)'
elseif attempts >= tonumber(ARGV[3]) then
  outcome, target, index = 'failed', KEYS[5], KEYS[10]
  reason = 'lease expired ' .. attempts .. ' times (max attempts ' .. ARGV[3] .. ')'
else
  redis.call('HSET', KEYS[1], 'state', 'queued')
  redis.call('ZADD', KEYS[4], fields[6] or 0, ARGV[1])
  putBackReady(ARGV[7], KEYS[1], ARGV[1], KEYS[13], ARGV[8])
  return {'requeued', moveToken, ''}
end
redis.call('HSET', KEYS[1], 'state', outcome, 'reason', reason, 'finished_at', ARGV[4])
redis.call('ZADD', target, ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[7], ARGV[2], ARGV[1])
indexFinished(KEYS[12], index, KEYS[1], ARGV[1], ARGV[2])
local effects = newEffects()
jobEnded(ARGV[7], ARGV[1], KEYS[1], outcome, ARGV[2], ARGV[4], effects)
return {outcome, moveToken, reason, effects.queued, effects.discarded}
