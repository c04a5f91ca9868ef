--[[
  Queued jobs per BullMQ priority, highest of ours (lowest of BullMQ's) first.
  BullMQ scores its prioritized set `priority * UNIT + counter` (counter < UNIT),
  so each priority is one score range: per priority present, one
  ZRANGEBYSCORE for the first job at or after the range's start and one ZCOUNT
  of the range, whatever the number of jobs (O(priorities * log(jobs))).

  KEYS[1] BullMQ's prioritized set
  ARGV[1] UNIT (2^32)
  ARGV[2] most priorities to count

  Returns a flat list: BullMQ priority, count, BullMQ priority, count, ...
  (Bounds are written with %.0f: scores reach 2^53, beyond what Lua's
  default number-to-text keeps exactly.)
]]
local key = KEYS[1]
local unit = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local out = {}
local from = '-inf'
for _ = 1, limit do
  local first = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then break end
  local priority = math.floor(tonumber(first[2]) / unit)
  local upper = string.format('%.0f', (priority + 1) * unit)
  out[#out + 1] = priority
  out[#out + 1] = redis.call('ZCOUNT', key, string.format('%.0f', priority * unit), '(' .. upper)
  from = upper
end
return out
