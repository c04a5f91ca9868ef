-- Build the listing indexes (fragments/listing-index.lua) of jobs written
-- before they existed, a batch of one state's jobs per call.
-- KEYS: state:<state>, the index (history:<state> for a final state, live
--       for queued, running and waiting-children).
-- ARGV: what every record key starts with, the state, then for each job
--       its id and its lowercased title ('' when the record has its own).
-- Returns how many jobs were indexed. Idempotent (an entry is the same
-- whoever writes it); a job whose record is gone or in another state by now
-- is left out.
--!include fragments/listing-index.lua
local final = ARGV[2] ~= 'queued' and ARGV[2] ~= 'running' and ARGV[2] ~= 'waiting-children'
local indexed = 0
for i = 3, #ARGV - 1, 2 do
  local id, record = ARGV[i], ARGV[1] .. ARGV[i]
  if redis.call('HGET', record, 'state') == ARGV[2] then
    if ARGV[i + 1] ~= '' then redis.call('HSETNX', record, 'title_lc', ARGV[i + 1]) end
    local score = redis.call('ZSCORE', KEYS[1], id)
    if final then
      indexHistory(KEYS[2], record, id, score)
    else
      indexQueued(KEYS[2], record, id, score)
    end
    indexed = indexed + 1
  end
end
return indexed
