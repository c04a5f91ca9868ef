--!include fragments/byte-order.lua
--!include fragments/ready-index.lua
--!include fragments/bullmq-take.lua
--!include fragments/lease-record.lua
-- Capability routing: the lease of the best job a worker can run, of
-- lease.lua and finish-lease.lua. Each requirement set with queued jobs has
-- a ready index (ready-index.lua); the worker can run a set when it has all
-- of the set's requirements (QueueStore's `canRun`: a worker that advertises
-- nothing runs the sets without an explicit `requires`). The lease looks at
-- the head of each set it can run, one lookup each, and takes the best of
-- them by BullMQ's order (score, then id): jobs of sets it cannot run are
-- never walked past, however many are queued, and among the jobs it can
-- run the order is the queue's (priority, put-back jobs first, submission).
-- `o` holds:
--   base      the store's key base        now       now (epoch ms)
--   worker, expires, startedAt, token, leases, queued, running: as leaseRecord's (lease-record.lua)
--   lockMs    the BullMQ lock's duration (ms)
--   outbox    the outbox key              bull      BullMQ's keys (bullmq-take.lua)
--   caps      ARGV index of what the worker can do: '1', its capability
--             fingerprint and its capabilities; '2' and the fingerprint
--             alone; or '0' (it advertises none)
-- Whether a worker can run a set never changes (a set id names its
-- requirements), so the answers are kept per capability fingerprint
-- (`eligible:<fingerprint>`, a hash: set id -> '1' | '0', for a day): a set
-- a worker cannot run costs its leases nothing after the first. So callers
-- send the fingerprint alone ('2') once the list went with it: a lease that
-- meets a set with no answer for it then changes nothing and answers 3
-- ("send the capabilities"), and the caller sends them (requirement-sets.ts).

-- What is known of the sets the worker whose capabilities start at ARGV[caps] can run.
-- (Answers are read per set as the lease meets it, not the whole hash: it keeps answers for every set
-- ever met, the sets with queued jobs are what a lease looks at.)
local function eligibility(base, caps)
  local key = base .. 'eligible:' .. (ARGV[caps] ~= '0' and ARGV[caps + 1] or 'none')
  return {key = key, known = {}, caps = caps, have = nil}
end

-- May the worker of eligibility `e` run the jobs of set `set`? Worked out from the set's requirements
-- (QueueStore's canRun) the first time for its fingerprint, kept from then on; nil when that needs the
-- capabilities and only the fingerprint came ('2').
local function canRunSet(base, set, e)
  if set == 'any' then return true end
  local known = e.known[set]
  if known ~= nil then return known end
  local kept = redis.call('HGET', e.key, set)
  if kept then
    e.known[set] = kept == '1'
    return kept == '1'
  end
  local json = redis.call('HGET', base .. 'requirement-sets', set)
  if not json then return false end
  if ARGV[e.caps] == '2' then return nil end
  local requires = cjson.decode(json)
  local allowed = true
  if ARGV[e.caps] ~= '1' then
    allowed = requires.explicit ~= true
  else
    if not e.have then
      e.have = {}
      for i = e.caps + 2, #ARGV do e.have[ARGV[i]] = true end
    end
    for _, need in ipairs(requires.all or {}) do
      if not e.have[need] then
        allowed = false
        break
      end
    end
  end
  e.known[set] = allowed
  redis.call('HSET', e.key, set, allowed and '1' or '0')
  redis.call('PEXPIRE', e.key, 86400000)
  return allowed
end

-- Lease the best job worker `o.worker` can run: 1, the record and its id; 0 (none); or 3 (send the
-- capabilities, see above: nothing was leased; what changed before is only upkeep, the same again).
local function leaseNext(o)
  local e = eligibility(o.base, o.caps)
  local sets = redis.call('SMEMBERS', o.base .. 'ready-sets')
  -- Each round leases, or drops a head that is not leasable (a record no longer queued, a job BullMQ does not hold yet).
  for _ = 1, 100 do
    local bestId, bestScore, bestSet
    for _, set in ipairs(sets) do
      local can = canRunSet(o.base, set, e)
      if can == nil then return 3 end
      if can then
        local head = redis.call('ZRANGE', o.base .. 'ready:' .. set, 0, 0, 'WITHSCORES')
        if #head == 0 then
          redis.call('SREM', o.base .. 'ready-sets', set)
        else
          local score = tonumber(head[2])
          if not bestId or score < bestScore or (score == bestScore and less(head[1], bestId)) then bestId, bestScore, bestSet = head[1], score, set end
        end
      end
    end
    if not bestId then return 0 end
    local record = o.base .. 'job:' .. bestId
    local f = redis.call('HMGET', record, 'state', 'bullmq_id')
    unreadyIn(o.base, bestSet, bestId)
    if f[1] == 'queued' then
      if takeInBullmq(o.bull, f[2] or bestId, o.token, o.lockMs, o.now) then
        return 1, leaseRecord({
          record = record, id = bestId, leases = o.leases, queued = o.queued, running = o.running,
          worker = o.worker, expires = o.expires, startedAt = o.startedAt, token = o.token,
        }), bestId
      end
      -- Queued in our record but not in BullMQ (its add is still to come, or was lost): the outbox adds it
      -- (job-outbox.ts), and enqueued.lua puts it back here.
      redis.call('ZADD', o.outbox, o.now, bestId)
    end
  end
  return 0
end
