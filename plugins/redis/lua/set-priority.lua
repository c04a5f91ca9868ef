-- A queued job's new priority. It takes its place among the jobs of the new
-- priority by its original submission order: BullMQ scores its prioritized
-- set `priority * unit + counter` (counter: the job's submission number, 0
-- for a job put back at the head of its priority), so the new score keeps
-- the counter, or, for a job put back, takes the one enqueued.lua kept.
-- BullMQ's own changePriority would count the job as submitted now. (BullMQ's
-- score layout: bullmq-internals.ts.) The job's ready index
-- (fragments/ready-index.lua) scores it the same way. The same priority
-- again changes nothing.
-- KEYS: record, BullMQ's prioritized set, the BullMQ job's key.
-- ARGV: priority (ours), BullMQ priority, BullMQ job id, score unit, the
--       store's key base, job id.
-- Returns 'ok' | 'not-found' | 'not-queued'.
local f = redis.call('HMGET', KEYS[1], 'state', 'priority', 'queue_order', 'requires_set')
if not f[1] then return 'not-found' end
if f[1] ~= 'queued' then return 'not-queued' end
if tonumber(f[2]) == tonumber(ARGV[1]) then return 'ok' end
redis.call('HSET', KEYS[1], 'priority', ARGV[1])
local unit = tonumber(ARGV[4])
-- The score of the new priority for a job scored `score` now.
local function rescored(score)
  local counter = math.fmod(tonumber(score), unit)
  if counter == 0 and f[3] then counter = tonumber(f[3]) end
  return string.format('%.0f', tonumber(ARGV[2]) * unit + counter)
end
-- BullMQ's side: the job's score while it waits there, and the priority its hash keeps (a job given
-- back whose move to wait is still to come goes to the head of that one).
if redis.call('EXISTS', KEYS[3]) == 1 then
  local score = redis.call('ZSCORE', KEYS[2], ARGV[3])
  if score then redis.call('ZADD', KEYS[2], rescored(score), ARGV[3]) end
  redis.call('HSET', KEYS[3], 'priority', ARGV[2])
end
local ready = ARGV[5] .. 'ready:' .. (f[4] or 'any')
local readyScore = redis.call('ZSCORE', ready, ARGV[6])
if readyScore then redis.call('ZADD', ready, rescored(readyScore), ARGV[6]) end
return 'ok'
