-- Append events to the event log (a stream) and trim it to the newest
-- `keep` entries once it holds `slack` more, remembering the newest id it
-- trimmed: a reader whose id is older than that one missed events, a reader
-- at it or after it missed none (Redis' own MAXLEN trimming records no such
-- id, so a reader just before the first entry kept could not be told apart
-- from one further back).
-- KEYS: the stream, the key of the newest trimmed id.
-- ARGV: keep, slack, then type, at, data of each event.
-- Returns the new entries' ids.
local ids = {}
for i = 3, #ARGV, 3 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'type', ARGV[i], 'at', ARGV[i + 1], 'data', ARGV[i + 2])
end
local keep, length = tonumber(ARGV[1]), redis.call('XLEN', KEYS[1])
if length > keep + tonumber(ARGV[2]) then
  -- The entries to drop, and the first one to keep (the last of these).
  local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - keep + 1)
  redis.call('SET', KEYS[2], head[#head - 1][1])
  redis.call('XTRIM', KEYS[1], 'MINID', head[#head][1])
end
return ids
