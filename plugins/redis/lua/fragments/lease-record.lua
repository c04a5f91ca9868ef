-- The lease of one queued job (lease-next.lua chose it; its caller checked
-- the record says queued and took it in BullMQ). `lease` holds:
--   record   the job's record key          id        its job id
--   leases, queued, running                the index keys (leases, state:queued, state:running)
--   worker   worker id ('' = anonymous)    expires   lease expiry (epoch ms)
--   startedAt                              token     the BullMQ lock token (kept in the record)
-- Returns the record (HGETALL) as leased.
local function leaseRecord(lease)
  local record, id = lease.record, lease.id
  local fields = redis.call('HMGET', record, 'attempts', 'added_ms')
  local attempts = (tonumber(fields[1]) or 0) + 1
  if lease.worker == '' then
    redis.call('HSET', record, 'state', 'running', 'lease_expires', lease.expires, 'started_at', lease.startedAt, 'attempts', attempts, 'lock_token', lease.token)
    redis.call('HDEL', record, 'worker_id', 'finished_at', 'cancel_requested')
  else
    redis.call('HSET', record, 'state', 'running', 'lease_expires', lease.expires, 'started_at', lease.startedAt, 'attempts', attempts, 'lock_token', lease.token, 'worker_id', lease.worker)
    redis.call('HDEL', record, 'finished_at', 'cancel_requested')
  end
  redis.call('ZADD', lease.leases, lease.expires, id)
  redis.call('ZREM', lease.queued, id)
  redis.call('ZADD', lease.running, fields[2] or 0, id)
  return redis.call('HGETALL', record)
end
