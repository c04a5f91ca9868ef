-- The removal of a queued job.
-- KEYS: record, state:queued, all. ARGV: job id.
-- Returns 1 when the queued job's record was removed, else 0.
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
