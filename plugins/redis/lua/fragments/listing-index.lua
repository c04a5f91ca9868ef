-- The listing indexes a filtered listing walks instead of each record
-- (list-scan.lua; key names in store-keys.ts). Each is a sorted set scored
-- by the job's listing time, whose members `job id \0 lowercased title`
-- carry what the title filter matches, so a walk reads them in bulk:
-- - history:<state>, one per final state, scored like state:<state>
--   (finished_at, epoch ms); and history:<state>:worker:<worker id> with
--   the same members for the jobs of one worker (the worker filter walks
--   only those). A finished job never changes again: its entries are
--   written once, when it finishes, and removed with it (purge). The
--   worker's key is named here after the history key (same prefix, so the
--   same hash slot as every key of the prefix).
-- - live: the queued, running and waiting-children jobs (every job not yet
--   finished), scored by added (epoch ms). Written at submit, retry and when
--   a flow queues a child, removed when the job finishes or is removed; the
--   holder changes while a job lives: a worker filter reads it from the record.
-- The title is the record's `title_lc` (lowercased by the store); records
-- written before it existed fall back to Lua's ASCII lowercasing. Job ids
-- contain no \0.
local function listingEntry(record, id)
  local f = redis.call('HMGET', record, 'title_lc', 'job_title')
  return id .. '\0' .. (f[1] or string.lower(f[2] or ''))
end

-- The history index of worker `workerId` beside history index `history`.
local function workerHistory(history, workerId)
  return history .. ':worker:' .. workerId
end

-- Finished job `id` (record key `record`) into history index `history` (and its worker's) at `score`.
local function indexHistory(history, record, id, score)
  local entry = listingEntry(record, id)
  redis.call('ZADD', history, score, entry)
  local workerId = redis.call('HGET', record, 'worker_id')
  if workerId then redis.call('ZADD', workerHistory(history, workerId), score, entry) end
end

-- Job `id` (record key `record`) just reached its final state: out of the
-- live index `live`, into history index `history` at `score`.
local function indexFinished(live, history, record, id, score)
  redis.call('ZREM', live, listingEntry(record, id))
  indexHistory(history, record, id, score)
end

-- Job `id` was just queued (its record is written): into the live index at `score`.
local function indexQueued(live, record, id, score)
  redis.call('ZADD', live, score, listingEntry(record, id))
end

-- Job `id` leaves the queue without finishing (removed): out of the live index (before its record goes).
local function unindexQueued(live, record, id)
  redis.call('ZREM', live, listingEntry(record, id))
end

-- Finished job `id` leaves the history (purged): out of history index `history` and its worker's (before its record goes).
local function unindexFinished(history, record, id)
  local entry = listingEntry(record, id)
  redis.call('ZREM', history, entry)
  local workerId = redis.call('HGET', record, 'worker_id')
  if workerId then redis.call('ZREM', workerHistory(history, workerId), entry) end
end
