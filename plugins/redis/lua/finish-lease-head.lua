-- finish.lua, then the lease of the job BullMQ handed out just before, in
-- the same write, to the worker whose finish fetched it: BullMQ's move to
-- completed with fetchNext pushes it to the head of `active`, locked with the
-- worker's token, and no other job holds that token. So a report costs one
-- round trip: BullMQ's move, then this (see bullmq-internals.ts, fastComplete).
-- KEYS: finish.lua's 10 (state:queued is 8), then BullMQ's active list (11),
--       the lease grace key (12).
-- ARGV: finish.lua's 11 (the 10th is '1'), then what starts a BullMQ job key
--       (12), our record key prefix (13), lease expiry (14), started_at (15),
--       lock token (16), the finished job's BullMQ id (17), lock duration
--       (18), what ends a BullMQ lock key after the job key (19).
-- Returns finish.lua's first three, then (4-6), when it is 'ok' and not
-- blocked: 1, the leased record and its id; 0, the state of our job at the
-- head that is not leasable and its id; 2 and its id when its lease is
-- alive (see fragments/lease-record.lua); or 3 (nothing of ours at the
-- head: another client came in between, the move has not run, or an escaped
-- id) so the caller leases by id, or (blocked, or the flow queued jobs) it
-- gives the fetched job back; then (7, 8) the flow's effects as finish.lua's.
-- The caller checks the id is the one the move fetched.
--!include fragments/finish-record.lua
--!include fragments/lease-record.lua
local result, token, blocked, effects = finishRecord()
if result ~= 'ok' then return {result, ''} end
-- Blocked, or the flow queued jobs (a resumed parent, a finally job) after the move fetched: that job is not leased here.
if blocked ~= '' or #effects.queued > 0 then return {'ok', token, blocked, 3, '', '', effects.queued, effects.discarded} end
local id = redis.call('LINDEX', KEYS[11], 0)
if not id or id == ARGV[17] or string.sub(id, 1, 1) == '~' then return {'ok', token, '', 3, '', '', effects.queued, effects.discarded} end
local lockKey = ARGV[12] .. id .. ARGV[19]
if redis.call('GET', lockKey) ~= ARGV[16] then return {'ok', token, '', 3, '', '', effects.queued, effects.discarded} end
local code, payload = leaseRecord({
  record = ARGV[13] .. id, id = id, leases = KEYS[2], queued = KEYS[8], running = KEYS[3],
  worker = ARGV[2], expires = ARGV[14], startedAt = ARGV[15], token = ARGV[16],
  now = ARGV[5], lockKey = lockKey, lockMs = ARGV[18], grace = KEYS[12],
})
return {'ok', token, '', code, payload, id, effects.queued, effects.discarded}
