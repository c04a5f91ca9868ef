-- A lease renewal.
-- KEYS: record, leases, the BullMQ job's lock, state:queued, state:running.
-- ARGV: job id, worker id, lease expiry, lock duration (ms).
-- Returns the lock token when renewed (adopting an anonymous lease), nil
-- otherwise. A lock that ran out meanwhile (an outage longer than lease and
-- grace) is taken again, so the stalled check does not give a job with a
-- live lease back. A job whose lease ran out and that went back to the queue,
-- not leased again since, is still its last holder's: its renewal takes it
-- back (running again under a new lease, out of our queue index) and answers
-- '~requeued'. Its BullMQ job stays where it is (waiting): the poll that
-- fetches it keeps it for its holder (lease-record.lua).
local held = redis.call('HMGET', KEYS[1], 'state', 'worker_id', 'lock_token')
local holder, token = held[2], held[3] or ''
if held[1] == 'queued' and ARGV[2] ~= '' and holder == ARGV[2] then
  redis.call('HSET', KEYS[1], 'state', 'running', 'lease_expires', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('ZADD', KEYS[5], redis.call('HGET', KEYS[1], 'added_ms') or 0, ARGV[1])
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
if token ~= '' then redis.call('SET', KEYS[3], token, 'NX', 'PX', ARGV[4]) end
return token
