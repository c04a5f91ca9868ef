-- The removal of a queued job.
-- KEYS: record, state:queued, all, live. ARGV: job id.
-- Returns 1 when the queued job's record was removed, else 0.
--!include fragments/listing-index.lua
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end
unindexQueued(KEYS[4], KEYS[1], ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
