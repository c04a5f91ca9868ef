-- A cancel request.
-- KEYS: record, state:queued, state:cancelled, all, history:cancelled, live.
-- ARGV: job id, now (ISO), now (ms).
-- Returns 'cancelled' | 'requested' | 'not-found' | 'finished'.
--!include fragments/listing-index.lua
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not-found' end
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished_at', ARGV[2], 'reason', 'cancelled while queued')
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
  indexFinished(KEYS[6], KEYS[5], KEYS[1], ARGV[1], ARGV[3])
  return 'cancelled'
end
if state == 'running' then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1')
  return 'requested'
end
return 'finished'
