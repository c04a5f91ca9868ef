-- A lease renewal.
-- KEYS: record, leases, the BullMQ job's lock, state:queued, state:running,
--       then BullMQ's prioritized set, wait list, active list, events stream.
-- ARGV: job id, worker id, lease expiry, lock duration (ms), the store's key
--       base, the BullMQ job id, what starts a BullMQ job key, what a BullMQ
--       lock key adds to it, a fresh lock token, now (ms).
-- Returns the lock token when renewed (adopting an anonymous lease), nil
-- otherwise. A lock that ran out meanwhile (an outage longer than lease and
-- grace) is taken again, so the stalled check does not give a job with a
-- live lease back; one the stalled check gave back already (BullMQ's wait
-- list) is made active again under it. A job whose lease ran out and that
-- went back to the queue, not leased again since, is still its last
-- holder's: its renewal takes it back (running again under a new lease, out
-- of our queue and ready indexes, taken in BullMQ with the fresh token as a
-- lease takes a job: a move to wait still to come then fails on the lock)
-- and answers '~requeued'.
--!include fragments/ready-index.lua
--!include fragments/bullmq-take.lua
local held = redis.call('HMGET', KEYS[1], 'state', 'worker_id', 'lock_token')
local holder, token = held[2], held[3] or ''
local bull = {prioritized = KEYS[6], wait = KEYS[7], active = KEYS[8], events = KEYS[9], jobPrefix = ARGV[7], lockSuffix = ARGV[8]}
if held[1] == 'queued' and ARGV[2] ~= '' and holder == ARGV[2] then
  dropReady(ARGV[5], KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[1], 'state', 'running', 'lease_expires', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('ZADD', KEYS[5], redis.call('HGET', KEYS[1], 'added_ms') or 0, ARGV[1])
  if takeInBullmq(bull, ARGV[6], ARGV[9], ARGV[4], ARGV[10]) then redis.call('HSET', KEYS[1], 'lock_token', ARGV[9]) end
  return '~requeued'
end
if held[1] ~= 'running' then return false end
if holder and holder ~= ARGV[2] then return false end
if not holder and ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'lease_expires', ARGV[3], 'worker_id', ARGV[2])
else
  redis.call('HSET', KEYS[1], 'lease_expires', ARGV[3])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if token ~= '' then
  if activateInBullmq(bull, ARGV[6], ARGV[10]) then
    redis.call('SET', KEYS[3], token, 'PX', ARGV[4])
  else
    redis.call('SET', KEYS[3], token, 'NX', 'PX', ARGV[4])
  end
end
return token
