-- The removal of a queued job.
-- KEYS: record, state:queued, all, live, then the job's own flow keys (as a
--       parent: children, dependencies, processed, finally; see
--       fragments/job-ended.lua). ARGV: job id, the store's key base (for
--       its ready index, fragments/ready-index.lua).
-- Returns 1 when the queued job's record was removed, 'child' for a queued
-- child of a flow (never removed: its parent is cancelled instead), else 0.
--!include fragments/listing-index.lua
--!include fragments/ready-index.lua
local f = redis.call('HMGET', KEYS[1], 'state', 'parent_id')
if f[1] ~= 'queued' then return 0 end
if f[2] then return 'child' end
unindexQueued(KEYS[4], KEYS[1], ARGV[1])
dropReady(ARGV[2], KEYS[1], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
