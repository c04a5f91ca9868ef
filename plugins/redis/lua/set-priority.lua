-- A queued job's new priority. It takes its place among the jobs of the new
-- priority by its original submission order: BullMQ scores its prioritized
-- set `priority * unit + counter` (counter: the job's submission number, 0
-- for a job put back at the head of its priority), so the new score keeps
-- the counter, or, for a job put back, takes the one remember-order.lua kept.
-- BullMQ's own changePriority would count the job as submitted now. (BullMQ's
-- score layout: bullmq-internals.ts.) The same priority again changes nothing.
-- KEYS: record, BullMQ's prioritized set, the BullMQ job's key.
-- ARGV: priority (ours), BullMQ priority, BullMQ job id, score unit.
-- Returns 'ok' | 'not-found' | 'not-queued'.
local f = redis.call('HMGET', KEYS[1], 'state', 'priority', 'queue_order')
if not f[1] then return 'not-found' end
if f[1] ~= 'queued' then return 'not-queued' end
if tonumber(f[2]) == tonumber(ARGV[1]) then return 'ok' end
redis.call('HSET', KEYS[1], 'priority', ARGV[1])
-- Not in the prioritized set: being handed out right now (the lease decides).
local score = redis.call('ZSCORE', KEYS[2], ARGV[3])
if score and redis.call('EXISTS', KEYS[3]) == 1 then
  local unit = tonumber(ARGV[4])
  local counter = math.fmod(tonumber(score), unit)
  if counter == 0 and f[3] then counter = tonumber(f[3]) end
  redis.call('ZADD', KEYS[2], string.format('%.0f', tonumber(ARGV[2]) * unit + counter), ARGV[3])
  redis.call('HSET', KEYS[3], 'priority', ARGV[2])
end
return 'ok'
