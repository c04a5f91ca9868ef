-- The removal of a finished job from the history.
-- KEYS: record, state:<state>, all, history:<state>, then the job's own flow
--       keys (as a parent: children, dependencies, processed, finally; see
--       fragments/job-ended.lua). ARGV: job id, state.
-- Returns 1 when the job (still in that state) and its record were deleted,
-- else 0. A parent's kept child results go with it; its children's records
-- are history of their own.
--!include fragments/listing-index.lua
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[2] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
unindexFinished(KEYS[4], KEYS[1], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
