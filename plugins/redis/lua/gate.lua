-- What a poll checks before it takes a job.
-- KEYS: queue attributes, worker attributes.
-- ARGV: '1' when there is a worker to check.
-- Returns 'queue', 'worker' or ''.
--!include fragments/gate-check.lua
return blockedBy(KEYS[1], KEYS[2], ARGV[1])
