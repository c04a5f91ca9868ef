-- A job BullMQ just added joins the ready index of its requirement set
-- (fragments/ready-index.lua), out of the outbox (job-outbox.ts), at the
-- place BullMQ gave it:
-- - 'order': a new job, in the submission order: the score BullMQ gave it;
--   its record keeps the counter part of it as `queue_order`, so that a job
--   put back at the head of its priority (counter 0) and then given another
--   priority takes its place again (set-priority.lua);
-- - 'head': a resumed parent of a flow, leased like a job put back: the head
--   of its priority, as BullMQ's moveToWait puts a job back
--   (pushBackJobWithPriority), in BullMQ's prioritized set too.
-- (BullMQ's score layout: bullmq-internals.ts.) A job BullMQ held already
-- in another state (active: a leftover of a crash) joins at the head of its
-- priority: the lease takes it where it is.
-- KEYS: record, BullMQ's prioritized set, the outbox.
-- ARGV: job id, BullMQ job id, score unit, 'order' | 'head', BullMQ
--       priority, the store's key base.
-- Returns 1 when the job is ready, 0 when it is no longer queued.
--!include fragments/ready-index.lua
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end
if ARGV[2] ~= ARGV[1] then redis.call('HSET', KEYS[1], 'bullmq_id', ARGV[2]) end
local unit = tonumber(ARGV[3])
local head = string.format('%.0f', tonumber(ARGV[5]) * unit)
local score
if ARGV[4] == 'head' then
  redis.call('ZADD', KEYS[2], 'XX', head, ARGV[2])
else
  score = redis.call('ZSCORE', KEYS[2], ARGV[2])
  if score then
    local counter = math.fmod(tonumber(score), unit)
    if counter ~= 0 then redis.call('HSET', KEYS[1], 'queue_order', string.format('%.0f', counter)) end
  end
end
makeReady(ARGV[6], KEYS[1], ARGV[1], score or head)
return 1
