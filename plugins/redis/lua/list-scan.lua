-- One stretch of a filtered listing, newest first: walk one index (score
-- descending, then member descending, as ZREVRANGE orders it) from a
-- position and collect the jobs that match the filter, looking at no more
-- than a budget of entries so that no call holds Redis for long (the caller
-- calls again from where this one stopped).
-- KEYS: the index: a listing index (fragments/listing-index.lua), whose
--       members carry the title, or a set of job ids (a state's, or all),
--       whose records are read when a title or worker is filtered on.
-- ARGV: 1 kind: 'm' (listing index: the title is matched in the member; a
--         worker filter is the index's own, a worker's history), 'l' (listing
--         index, and the worker is read from the record of a job whose
--         title matched) or 'i' (job ids)
--       2 what every record key starts with
--       3 the lowercased title to find as plain text ('' = any)
--       4 '1' to keep only jobs of worker ARGV[5] (kinds 'l' and 'i')
--       5 worker id
--       6 start after this score ('' = from the newest) ...
--       7 ... and, among equal scores, after this job id (byte order)
--       8 only scores below this (until, exclusive; '' = no bound)
--       9 only scores at or above this (since, inclusive; '' = no bound)
--       10 how many matches to find
--       11 how many entries to look at, at most
-- Returns {done, last score, last id, id1, score1, id2, score2, ...}: done is
-- 1 when the walk reached the end of the range; last score and id are where
-- it stopped (the last entry looked at; '' when none), to start the next call
-- after it; then the matches in walk order.
local key, kind, prefix, needle = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local byWorker, worker = ARGV[4] == '1', ARGV[5]
local want, budget = tonumber(ARGV[10]), tonumber(ARGV[11])
local CHUNK = 1000

--!include fragments/byte-order.lua

local function idOf(member)
  if kind == 'i' then return member end
  return string.sub(member, 1, string.find(member, '\0', 1, true) - 1)
end

-- Does index member `m` match? Its job id when it does.
local matches
if kind == 'i' then
  if needle == '' and not byWorker then
    matches = function(m) return m end
  else
    matches = function(m)
      local f = redis.call('HMGET', prefix .. m, 'title_lc', 'job_title', 'worker_id')
      if byWorker and f[3] ~= worker then return nil end
      if needle ~= '' and not string.find(f[1] or string.lower(f[2] or ''), needle, 1, true) then return nil end
      return m
    end
  end
else
  local checkWorker = byWorker and kind == 'l'
  matches = function(m)
    -- A plain find over the whole member first (most members fail it), then the title part alone.
    if needle ~= '' and not string.find(m, needle, 1, true) then return nil end
    local a = string.find(m, '\0', 1, true)
    if needle ~= '' and not string.find(m, needle, a + 1, true) then return nil end
    local id = string.sub(m, 1, a - 1)
    if checkWorker and redis.call('HGET', prefix .. id, 'worker_id') ~= worker then return nil end
    return id
  end
end

-- The range in ranks (0 = newest): from the start position to the since bound.
local first = 0
if ARGV[8] ~= '' then first = redis.call('ZCOUNT', key, ARGV[8], '+inf') end
if ARGV[6] ~= '' then
  local pos = redis.call('ZCOUNT', key, '(' .. ARGV[6], '+inf')
  local ties = redis.call('ZRANGEBYSCORE', key, ARGV[6], ARGV[6])
  for i = 1, #ties do
    if not less(idOf(ties[i]), ARGV[7]) then pos = pos + 1 end
  end
  if pos > first then first = pos end
end
local last
if ARGV[9] ~= '' then last = redis.call('ZCOUNT', key, ARGV[9], '+inf') - 1 else last = redis.call('ZCARD', key) - 1 end

local out = {0, '', ''}
local found, rank, lastMember = 0, first, nil
while rank <= last and found < want and rank - first < budget do
  local rows = redis.call('ZREVRANGE', key, rank, math.min(last, rank + CHUNK - 1, first + budget - 1))
  if #rows == 0 then rank = last + 1 break end
  for i = 1, #rows do
    local m = rows[i]
    rank, lastMember = rank + 1, m
    local id = matches(m)
    if id then
      found = found + 1
      out[#out + 1] = id
      out[#out + 1] = redis.call('ZSCORE', key, m)
      if found >= want then break end
    end
  end
end
if rank > last then out[1] = 1 end
if lastMember then
  out[2] = redis.call('ZSCORE', key, lastMember)
  out[3] = idOf(lastMember)
end
return out
