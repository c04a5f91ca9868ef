-- A new job's record.
-- KEYS: record, state:queued, all, live (see fragments/listing-index.lua).
-- ARGV: job id, sort score, field/value pairs.
-- Returns 1 when created, 0 when the id exists.
--!include fragments/listing-index.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
indexQueued(KEYS[4], KEYS[1], ARGV[1], ARGV[2])
return 1
