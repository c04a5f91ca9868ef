-- The ready indexes of capability routing (key names in store-keys.ts,
-- made from the store's key base `base`):
--   ready:<set id>     sorted set: the queued jobs of one requirement set
--                      (requirement-sets.ts; `any`: jobs without requirements)
--                      that BullMQ holds, scored as BullMQ's prioritized set
--                      scores them (priority * unit + submission counter, 0
--                      for a job put back at the head of its priority)
--   ready-sets         set: the ids of the sets whose index may hold jobs
--   requirement-sets   hash: set id -> the set's JobRequirements JSON
-- A lease takes the best head among the sets the worker can run
-- (lease-next.lua). A job joins its set's index once BullMQ holds it
-- (enqueued.lua, after BullMQ's add; release and expire put it back at the
-- head of its priority) and leaves it with `state:queued`, in the same
-- script. The record names its set (`requires_set`; absent: `any`).

-- Job `id` (record key `record`) into its set's ready index at `score` (a string: Lua's own number format drops digits).
local function makeReady(base, record, id, score)
  local f = redis.call('HMGET', record, 'requires_set', 'requires')
  local set = f[1] or 'any'
  redis.call('ZADD', base .. 'ready:' .. set, score, id)
  redis.call('SADD', base .. 'ready-sets', set)
  if f[2] then redis.call('HSETNX', base .. 'requirement-sets', set, f[2]) end
end

-- Job `id` back into its set's ready index at the head of its priority, as
-- BullMQ's moveToWait puts it back: its BullMQ priority (the `priority`
-- field of its BullMQ hash `bullmqJob`) times `unit`; 0 (first of all) when
-- BullMQ does not hold it, so that the next lease sends it to the outbox.
local function putBackReady(base, record, id, bullmqJob, unit)
  local priority = tonumber(redis.call('HGET', bullmqJob, 'priority')) or 0
  makeReady(base, record, id, string.format('%.0f', priority * tonumber(unit)))
end

-- Job `id` out of the ready index of set `set`.
local function unreadyIn(base, set, id)
  local key = base .. 'ready:' .. set
  if redis.call('ZREM', key, id) == 1 and redis.call('ZCARD', key) == 0 then redis.call('SREM', base .. 'ready-sets', set) end
end

-- Job `id` (record key `record`) out of its set's ready index.
local function dropReady(base, record, id)
  unreadyIn(base, redis.call('HGET', record, 'requires_set') or 'any', id)
end
