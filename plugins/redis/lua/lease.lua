-- A lease: the best job the worker can run (fragments/lease-next.lua), taken
-- in BullMQ and leased in our record in one step; with a gate, nothing while
-- the queue or the worker is disabled (a poll).
-- KEYS: 1 leases, 2 state:queued, 3 state:running, 4 outbox, 5 queue
--       attributes, 6 worker attributes, then BullMQ's 7 prioritized set,
--       8 wait list, 9 active list, 10 events stream.
-- ARGV: 1 worker id ('' = anonymous), 2 now (ms), 3 the store's key base,
--       4 the gate: '' (none), '0' (the queue's), '1' (the queue's and the
--       worker's), then as finish-lease.lua's 12-19: 5 lease expiry (ms),
--       6 started_at (ISO), 7 lock token, 8 lock duration (ms), 9 what starts
--       a BullMQ job key, 10 what a BullMQ lock key adds to it, 11 '1' when
--       the worker advertises capabilities ('0' when not), then 12 their
--       fingerprint (requirement-sets.ts) and 13... the capabilities; or 11
--       '2' and 12 the fingerprint alone.
-- Returns {1, record, job id} when leased, {0} when there is nothing it can
-- run, {2, 'queue' | 'worker'} when the gate is closed, {3} when it needs
-- the capabilities ('2' came: call again with '1' and the list).
--!include fragments/gate-check.lua
--!include fragments/lease-next.lua
if ARGV[4] ~= '' then
  local blocked = blockedBy(KEYS[5], KEYS[6], ARGV[4])
  if blocked ~= '' then return {2, blocked} end
end
local code, record, id = leaseNext({
  base = ARGV[3], caps = 11, worker = ARGV[1], expires = ARGV[5], startedAt = ARGV[6], token = ARGV[7],
  now = ARGV[2], lockMs = ARGV[8], leases = KEYS[1], queued = KEYS[2], running = KEYS[3], outbox = KEYS[4],
  bull = {prioritized = KEYS[7], wait = KEYS[8], active = KEYS[9], events = KEYS[10], jobPrefix = ARGV[9], lockSuffix = ARGV[10]},
})
if code == 1 then return {1, record, id} end
if code == 3 then return {3} end
return {0}
