-- A job's end, as its holder (or the server) reports it. BullMQ moves the
-- job after this has decided.
-- KEYS and ARGV: see fragments/finish-record.lua.
-- Returns {'ok', lock token, blocked ('queue' | 'worker' | '')} or
-- {'not-found' | 'lease-lost', ''}.
--!include fragments/finish-record.lua
local result, token, blocked = finishRecord()
if result ~= 'ok' then return {result, ''} end
return {'ok', token, blocked}
