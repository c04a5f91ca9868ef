-- The lease of a job BullMQ just handed out (locked with the fetch's token).
-- KEYS: record, leases, state:queued, state:running, the BullMQ job's lock, the lease grace key.
-- ARGV: job id, worker id ('' = anonymous), lease expiry, started_at, lock
--       token, now (ms), lock duration (ms).
-- Returns {1, record} when leased; {0, state} when the record is not
-- leasable (gone or finished); {2, 'running'} when its lease is alive (see
-- fragments/lease-record.lua).
--!include fragments/lease-record.lua
local code, payload = leaseRecord({
  record = KEYS[1], id = ARGV[1], leases = KEYS[2], queued = KEYS[3], running = KEYS[4],
  worker = ARGV[2], expires = ARGV[3], startedAt = ARGV[4], token = ARGV[5],
  now = ARGV[6], lockKey = KEYS[5], lockMs = ARGV[7], grace = KEYS[6],
})
return {code, payload}
