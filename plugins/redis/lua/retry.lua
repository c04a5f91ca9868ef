-- A retry: a new queued job for a failed or cancelled one, linked both ways
-- (`retry_of` on the new record, `retried_as` on the old), in one step so
-- that a job is retried once however many ask at the same time.
-- KEYS: old record, new record, state:queued, all, live (see fragments/listing-index.lua),
--       outbox (the new job is in it until BullMQ holds it, as submit.lua's).
-- ARGV: old job id, new job id, sort score of the new job, what every record
--       key starts with, now (ms, the outbox's score), then the new record's
--       field/value pairs.
-- Returns {'ok'}, {'not-found'}, {'state', state of the old job},
-- {'retried', id of the earlier retry}, {'exists'} (the new id is taken) or
-- {'child', parent id} (a child of a flow: its parent is retried instead).
-- A retry that is gone (removed from the queue, purged) no longer counts.
--!include fragments/listing-index.lua
local old = redis.call('HMGET', KEYS[1], 'state', 'retried_as', 'parent_id')
if not old[1] then return {'not-found'} end
if old[3] then return {'child', old[3]} end
if old[2] and redis.call('EXISTS', ARGV[4] .. old[2]) == 1 then return {'retried', old[2]} end
if old[1] ~= 'failed' and old[1] ~= 'cancelled' then return {'state', old[1]} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('ZADD', KEYS[6], ARGV[5], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
indexQueued(KEYS[5], KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], 'retried_as', ARGV[2])
return {'ok'}
