-- finish.lua, then, when the worker's next poll is not blocked and the flow
-- queued nothing (a resumed parent, a finally job: the caller leases after
-- adding them), the lease of its next job as lease.lua leases
-- (fragments/lease-next.lua): a report and the next job in one script. Sent
-- in one write right after BullMQ's move of the finished job, a report costs
-- one round trip (see bullmq-internals.ts, fastComplete).
-- KEYS: finish.lua's 10 (2 leases, 3 state:running, 8 state:queued), then
--       11 the outbox, BullMQ's 12 prioritized set, 13 wait list, 14 active
--       list, 15 events stream.
-- ARGV: finish.lua's 11 (the 10th is '1', the 11th the store's key base),
--       then 12 lease expiry of the next job (ms), 13 its started_at (ISO),
--       14 its lock token, 15 the lock's duration (ms), 16 what starts a
--       BullMQ job key, 17 what a BullMQ lock key adds to it, 18 '1' when the
--       worker advertises capabilities ('0' when not), then 19 their
--       fingerprint (requirement-sets.ts) and 20... the capabilities; or 18
--       '2' and 19 the fingerprint alone.
-- Returns finish.lua's first three, then 1, the next job's record and its id
-- when one was leased, 3 when the lease needs the capabilities ('2' came:
-- the caller leases with them, lease.lua), else 0; then the flow's effects
-- as finish.lua's.
--!include fragments/finish-record.lua
--!include fragments/lease-next.lua
local result, token, blocked, effects = finishRecord()
if result ~= 'ok' then return {result, ''} end
if blocked ~= '' or #effects.queued > 0 then return {'ok', token, blocked, 0, '', '', effects.queued, effects.discarded} end
local code, record, id = leaseNext({
  base = ARGV[11], caps = 18, worker = ARGV[2], expires = ARGV[12], startedAt = ARGV[13], token = ARGV[14],
  now = ARGV[5], lockMs = ARGV[15], leases = KEYS[2], queued = KEYS[8], running = KEYS[3], outbox = KEYS[11],
  bull = {prioritized = KEYS[12], wait = KEYS[13], active = KEYS[14], events = KEYS[15], jobPrefix = ARGV[16], lockSuffix = ARGV[17]},
})
if code == 1 then return {'ok', token, '', 1, record, id, effects.queued, effects.discarded} end
return {'ok', token, '', code, '', '', effects.queued, effects.discarded}
