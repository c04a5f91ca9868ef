-- A cancel request.
-- KEYS: record, state:queued, state:cancelled, all, history:cancelled, live.
-- ARGV: job id, now (ISO), now (ms), the store's key base (for the flow
--       rules, fragments/job-ended.lua).
-- Returns {'cancelled' | 'requested' | 'not-found' | 'finished', ids queued,
-- ids discarded (the flow's effects)}. A job waiting for children is
-- cancelled at once, and its unfinished children with it (running ones get
-- cancel_requested, published on the cancel channel).
--!include fragments/listing-index.lua
--!include fragments/job-ended.lua
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'not-found', {}, {}} end
local effects = newEffects()
if state == 'queued' then
  dropReady(ARGV[4], KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished_at', ARGV[2], 'reason', 'cancelled while queued')
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
  indexFinished(KEYS[6], KEYS[5], KEYS[1], ARGV[1], ARGV[3])
  jobEnded(ARGV[4], ARGV[1], KEYS[1], 'cancelled', ARGV[3], ARGV[2], effects)
  return {'cancelled', effects.queued, effects.discarded}
end
if state == 'waiting-children' then
  flowRules().endWaitingParent(ARGV[4], ARGV[1], KEYS[1], 'cancelled', 'cancelled', 'parent ' .. ARGV[1] .. ' was cancelled', ARGV[3], ARGV[2], effects)
  return {'cancelled', effects.queued, effects.discarded}
end
if state == 'running' then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1')
  return {'requested', {}, {}}
end
return {'finished', {}, {}}
