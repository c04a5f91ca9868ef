-- Put a job just added to BullMQ at the head of its priority, as BullMQ's
-- moveToWait puts a job back (pushBackJobWithPriority: the counter part of
-- its prioritized score 0; see set-priority.lua): a resumed parent of a flow
-- is leased like a requeued job. Its record keeps its original place
-- (`queue_order`) for a later priority change.
-- KEYS: BullMQ's prioritized set.
-- ARGV: BullMQ job id, BullMQ priority, score unit.
-- Returns 1 when moved, 0 when the job is not waiting there (handed out already).
return redis.call('ZADD', KEYS[1], 'XX', 'CH', string.format('%.0f', tonumber(ARGV[2]) * tonumber(ARGV[3])), ARGV[1])
