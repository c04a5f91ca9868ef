-- BullMQ's side of a lease of a job chosen by id (lease-next.lua; BullMQ's
-- own fetch can only pop the head of its queue, which may be a job the
-- worker cannot run). What BullMQ's moveToActive does to the job it pops
-- (moveJobFromPrioritizedToActive, prepareJobForProcessing), for this one:
-- out of the prioritized set, or of the wait list where BullMQ's stalled
-- check puts a job back, to the head of the active list; an `active` event
-- in its events stream; `processedOn` and the started-attempts count `ats`
-- on its hash. The caller then locks it (`jobPrefix .. id .. lockSuffix`).
-- bullmq-internals.ts names what this relies on; its test compares it with
-- BullMQ's own fetch. `b` holds BullMQ's keys: prioritized, wait, active,
-- events, jobPrefix, lockSuffix.

-- Move BullMQ job `bullmqId` from waiting to active, as BullMQ's fetch does.
-- False when it was not waiting (BullMQ holds it in another state, or not at all).
local function activateInBullmq(b, bullmqId, nowMs)
  if redis.call('ZREM', b.prioritized, bullmqId) == 0 and redis.call('LREM', b.wait, 0, bullmqId) == 0 then return false end
  local jobKey = b.jobPrefix .. bullmqId
  redis.call('LPUSH', b.active, bullmqId)
  redis.call('XADD', b.events, '*', 'event', 'active', 'jobId', bullmqId, 'prev', 'waiting')
  redis.call('HSET', jobKey, 'processedOn', nowMs)
  redis.call('HINCRBY', jobKey, 'ats', 1)
  return true
end

-- Take BullMQ job `bullmqId` for a lease locked with `token` for `lockMs`:
-- activated when waiting; one BullMQ holds otherwise is active already (a
-- job given back whose move to wait is still to come: that move then fails
-- on the lock) and only gets the lock. False (nothing changed) when BullMQ
-- does not hold it: its add is still to come.
local function takeInBullmq(b, bullmqId, token, lockMs, nowMs)
  local jobKey = b.jobPrefix .. bullmqId
  if not activateInBullmq(b, bullmqId, nowMs) and redis.call('EXISTS', jobKey) == 0 then return false end
  redis.call('SET', jobKey .. b.lockSuffix, token, 'PX', lockMs)
  return true
end
