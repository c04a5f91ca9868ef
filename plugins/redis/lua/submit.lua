-- A new job's record. It is in the outbox until BullMQ holds it
-- (enqueued.lua takes it out): if the caller's add does not happen, the
-- lease sweep's does (job-outbox.ts).
-- KEYS: record, state:queued, all, live (see fragments/listing-index.lua), outbox.
-- ARGV: job id, sort score, now (ms, the outbox's score), field/value pairs.
-- Returns 1 when created, 0 when the id exists.
--!include fragments/listing-index.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
indexQueued(KEYS[4], KEYS[1], ARGV[1], ARGV[2])
return 1
