-- finish.lua, then the lease of the job BullMQ handed out just before, in
-- the same write, to the worker whose finish fetched it: BullMQ's move to
-- completed with fetchNext pushes it to the head of `active`, locked with the
-- worker's token, and no other job holds that token. So a report costs one
-- round trip: BullMQ's move, then this (see bullmq-internals.ts, fastComplete).
-- KEYS: finish.lua's 10 (state:queued is 8), then BullMQ's active list (11),
--       the lease grace key (12).
-- ARGV: finish.lua's 10 (the 10th is '1'), then what starts a BullMQ job key
--       (11), our record key prefix (12), lease expiry (13), started_at (14),
--       lock token (15), the finished job's BullMQ id (16), lock duration
--       (17), what ends a BullMQ lock key after the job key (18).
-- Returns finish.lua's reply, plus, when it is 'ok' and not blocked: 1, the
-- leased record and its id; 0, the state of our job at the head that is not
-- leasable and its id; 2 and its id when its lease is alive (see
-- fragments/lease-record.lua); or 3 (nothing of ours at the head: another
-- client came in between, the move has not run, or an escaped id) so the
-- caller leases by id. The caller checks the id is the one the move fetched.
--!include fragments/finish-record.lua
--!include fragments/lease-record.lua
local result, token, blocked = finishRecord()
if result ~= 'ok' then return {result, ''} end
if blocked ~= '' then return {'ok', token, blocked} end
local id = redis.call('LINDEX', KEYS[11], 0)
if not id or id == ARGV[16] or string.sub(id, 1, 1) == '~' then return {'ok', token, '', 3} end
local lockKey = ARGV[11] .. id .. ARGV[18]
if redis.call('GET', lockKey) ~= ARGV[15] then return {'ok', token, '', 3} end
local code, payload = leaseRecord({
  record = ARGV[12] .. id, id = id, leases = KEYS[2], queued = KEYS[8], running = KEYS[3],
  worker = ARGV[2], expires = ARGV[13], startedAt = ARGV[14], token = ARGV[15],
  now = ARGV[5], lockKey = lockKey, lockMs = ARGV[17], grace = KEYS[12],
})
return {'ok', token, '', code, payload, id}
