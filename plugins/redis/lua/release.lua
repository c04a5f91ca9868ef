-- The worker gave the job back: it is nobody's (no last holder whose report
-- would still count).
-- KEYS: record, leases, state:running, state:queued, the BullMQ job's lock,
--       the BullMQ job (its hash).
-- ARGV: job id, worker id ('' = any), a fresh move token, grace (ms), the
--       store's key base, BullMQ's score unit. The job is back in its ready
--       index at the head of its priority at once (fragments/ready-index.lua),
--       where the caller's move to wait puts it in BullMQ.
-- Returns {'ok' | 'not-found' | 'lease-lost', move token}. The BullMQ lock
-- passes from the holder to the move token (when it is missing or still the
-- holder's), so the holder's own moves (a report racing this release) fail
-- from here on and the stalled check leaves the job alone until the caller's
-- move, which uses the move token; '' when someone else holds the lock (the
-- job is theirs).
--!include fragments/holder-check.lua
--!include fragments/hand-over-lock.lua
--!include fragments/ready-index.lua
local result, state, _, token = checkHolder(KEYS[1], ARGV[2])
if result ~= 'ok' then return {result, ''} end
if state == 'queued' then
  redis.call('HDEL', KEYS[1], 'worker_id')
  return {'ok', ''}
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'lease_expires', 'cancel_requested', 'lock_token', 'worker_id')
redis.call('ZREM', KEYS[2], ARGV[1])
local moveToken = handOverLock(KEYS[5], token, ARGV[3], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], redis.call('HGET', KEYS[1], 'added_ms'), ARGV[1])
putBackReady(ARGV[5], KEYS[1], ARGV[1], KEYS[6], ARGV[6])
return {'ok', moveToken}
