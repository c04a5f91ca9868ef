-- Capability routing on a prefix written before it existed (by an older
-- version): a batch of jobs of one live state into the ready indexes
-- (fragments/ready-index.lua; none has requirements, so all go to `any`).
-- A queued job takes the score BullMQ's prioritized set gives it, or the head
-- of its priority when BullMQ holds it in another state (a job given back
-- whose move to wait is still to come); one BullMQ does not hold goes to the
-- outbox, whose sweep adds it (job-outbox.ts). Every job of the batch whose
-- BullMQ id is not its job id gets it as `bullmq_id` (job-record.ts).
-- KEYS: BullMQ's prioritized set, the outbox.
-- ARGV: the store's key base, BullMQ's score unit, what starts a BullMQ job
--       key, now (ms), then for each job its id and its BullMQ id.
-- Returns how many queued jobs are in a ready index now. Idempotent; a job
-- whose record is gone or no longer live by now is left alone.
--!include fragments/ready-index.lua
local base, unit, bullPrefix = ARGV[1], ARGV[2], ARGV[3]
local ready = 0
for i = 5, #ARGV - 1, 2 do
  local id, bullmqId = ARGV[i], ARGV[i + 1]
  local record = base .. 'job:' .. id
  local state = redis.call('HGET', record, 'state')
  if state == 'queued' or state == 'running' or state == 'waiting-children' then
    if bullmqId ~= id then redis.call('HSETNX', record, 'bullmq_id', bullmqId) end
  end
  if state == 'queued' then
    local score = redis.call('ZSCORE', KEYS[1], bullmqId)
    if score then
      makeReady(base, record, id, score)
      ready = ready + 1
    elseif redis.call('EXISTS', bullPrefix .. bullmqId) == 1 then
      putBackReady(base, record, id, bullPrefix .. bullmqId, unit)
      ready = ready + 1
    else
      redis.call('ZADD', KEYS[2], 'NX', ARGV[4], id)
    end
  end
end
return ready
