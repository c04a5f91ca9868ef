-- One stretch of a filtered queue listing, in queue order: walk BullMQ's
-- prioritized set (score ascending, then member, the order BullMQ hands jobs
-- out) from a position, read each queued job's record and collect those that
-- match, looking at no more than a budget of entries (the caller calls again
-- from where this one stopped).
-- KEYS: BullMQ's prioritized set.
-- ARGV: 1 what every record key starts with
--       2 the lowercased title to find as plain text ('' = any)
--       3 '1' to keep only jobs of worker ARGV[4]
--       4 worker id
--       5 only jobs added at or after this epoch ms ('' = no bound)
--       6 only jobs added before this epoch ms ('' = no bound)
--       7 start after this score ('' = from the head) ...
--       8 ... and, among equal scores, after this member (byte order)
--       9 how many matches to find
--       10 how many entries to look at, at most
-- Returns {done, last score, last member, member1, score1, ...} as
-- list-scan.lua does; members are BullMQ job ids.
local key, prefix, needle = KEYS[1], ARGV[1], ARGV[2]
local byWorker, worker = ARGV[3] == '1', ARGV[4]
local since, before = tonumber(ARGV[5]), tonumber(ARGV[6])
local want, budget = tonumber(ARGV[9]), tonumber(ARGV[10])
local CHUNK = 500

--!include fragments/byte-order.lua

-- Our job id of a BullMQ id: job-ids.ts carries an id BullMQ refuses as
-- '~' + base64url of it. nil when it does not decode.
local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
local VALUE = {}
for i = 1, 64 do VALUE[string.byte(B64, i)] = i - 1 end
local function jobIdOf(member)
  if string.sub(member, 1, 1) ~= '~' then return member end
  local out, bits, n = {}, 0, 0
  for i = 2, #member do
    local v = VALUE[string.byte(member, i)]
    if v == nil then return nil end
    bits, n = bits * 64 + v, n + 6
    if n >= 8 then
      n = n - 8
      local byte = math.floor(bits / 2 ^ n)
      out[#out + 1] = string.char(byte)
      bits = bits - byte * 2 ^ n
    end
  end
  return table.concat(out)
end

local function matches(member)
  local id = jobIdOf(member)
  if not id then return false end
  local f = redis.call('HMGET', prefix .. id, 'state', 'title_lc', 'job_title', 'worker_id', 'added_ms')
  if f[1] ~= 'queued' then return false end
  if byWorker and f[4] ~= worker then return false end
  local added = tonumber(f[5]) or 0
  if (since and added < since) or (before and added >= before) then return false end
  return needle == '' or string.find(f[2] or string.lower(f[3] or ''), needle, 1, true) ~= nil
end

local first = 0
if ARGV[7] ~= '' then
  first = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[7])
  local ties = redis.call('ZRANGEBYSCORE', key, ARGV[7], ARGV[7])
  for i = 1, #ties do
    if not less(ARGV[8], ties[i]) then first = first + 1 end
  end
end
local last = redis.call('ZCARD', key) - 1

local out = {0, '', ''}
local found, rank, lastMember = 0, first, nil
while rank <= last and found < want and rank - first < budget do
  local rows = redis.call('ZRANGE', key, rank, math.min(last, rank + CHUNK - 1, first + budget - 1))
  if #rows == 0 then rank = last + 1 break end
  for i = 1, #rows do
    local m = rows[i]
    rank, lastMember = rank + 1, m
    if matches(m) then
      found = found + 1
      out[#out + 1] = m
      out[#out + 1] = redis.call('ZSCORE', key, m)
      if found >= want then break end
    end
  end
end
if rank > last then out[1] = 1 end
if lastMember then
  out[2] = redis.call('ZSCORE', key, lastMember)
  out[3] = lastMember
end
return out
