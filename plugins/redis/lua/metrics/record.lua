--[[
  One `record` of the queue metrics (redis-queue-metrics.ts): each series'
  increment added to its total, all in one step (a reader sees a record
  whole), in one command rather than a MULTI of one HINCRBYFLOAT per series
  (a busy direct worker writes ten times a second).

  KEYS[1] the metrics hash (field: series key, value: total)
  ARGV    field, increment, field, increment, ...

  HINCRBYFLOAT for counts too: one field may get whole and fractional
  increments (a sum of seconds). Returns the number of fields added to.
]]
local key = KEYS[1]
for i = 1, #ARGV - 1, 2 do
  redis.call('HINCRBYFLOAT', key, ARGV[i], ARGV[i + 1])
end
return math.floor(#ARGV / 2)
