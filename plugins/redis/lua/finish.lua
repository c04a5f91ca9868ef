-- A job's end, as its holder (or the server) reports it. BullMQ moves the
-- job after this has decided.
-- KEYS and ARGV: see fragments/finish-record.lua.
-- Returns {'ok', lock token, blocked ('queue' | 'worker' | ''), ids queued,
-- ids discarded (the flow's effects, fragments/job-ended.lua)} or
-- {'not-found' | 'lease-lost', ''}.
--!include fragments/finish-record.lua
local result, token, blocked, effects = finishRecord()
if result ~= 'ok' then return {result, ''} end
return {'ok', token, blocked, effects.queued, effects.discarded}
