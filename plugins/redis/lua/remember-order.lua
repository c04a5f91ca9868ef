-- Keep a just queued job's place in BullMQ's submission order (the counter
-- part of its prioritized score, see set-priority.lua) in its record as
-- `queue_order`: a job put back at the head of its priority (requeued) is
-- scored without it, and a later priority change puts it back in its place.
-- KEYS: record, BullMQ's prioritized set.
-- ARGV: BullMQ job id, score unit.
-- Returns 1 when kept, 0 when the job is gone or was handed out already.
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end
local counter = math.fmod(tonumber(score), tonumber(ARGV[2]))
if counter == 0 then return 0 end
redis.call('HSET', KEYS[1], 'queue_order', string.format('%.0f', counter))
return 1
