--!include fragments/listing-index.lua
--!include fragments/ready-index.lua
-- Fan-out (flows): what a job's end does to its parent (when it is a child)
-- and to its finally job (when it waited for children), in the same script
-- as the end itself (finish, finish-lease, expire, cancel). BullMQ's
-- flows are the model, kept in our own keys, made from the store's key base
-- `base` ('PREFIX:sis:') and named as in store-keys.ts:
--   job:<id>               a record (job-record.ts: parent_id, flow_* fields)
--   children:<parent>      list: every child queued, all rounds and the finally job
--   dependencies:<parent>  set: the round's children that have not ended (BullMQ's :dependencies)
--   processed:<parent>     hash: child id -> ChildResult JSON (BullMQ's :processed)
--   finally:<parent>       hash: the finally job's record fields until it is queued
--   outbox                 sorted set: id -> ms a script queued it, until its BullMQ add
--   cancel                 the cancel channel (store-channels.ts)
-- and the state indexes, `all`, `live` and the history indexes.
-- `effects` (newEffects()) collects what BullMQ must follow once the script
-- is done (job-outbox.ts): `queued`, the ids put in the outbox (to add), and
-- `discarded`, queued children cancelled here (to remove).
-- A job without parent_id and flow costs one HMGET: the rules' functions
-- are made only when a script needs them (flowRules()).

local function newEffects()
  return {queued = {}, discarded = {}}
end

-- The flow rules (functions), made on first use: see the functions' comments.
local flowRulesMade
local function flowRules()
  if flowRulesMade then return flowRulesMade end

  local function flowKey(base, name, id)
    return base .. name .. ':' .. id
  end

  -- Job `id` was queued by this script: into the outbox (and the effects) for its BullMQ add.
  local function toOutbox(base, id, nowMs, effects)
    redis.call('ZADD', base .. 'outbox', nowMs, id)
    effects.queued[#effects.queued + 1] = id
  end

  -- Job `id` (record `record`, in state `from`) ends in `state` with `reason`.
  local function endRecord(base, record, id, from, state, reason, nowMs, nowIso)
    if from == 'queued' then dropReady(base, record, id) end
    redis.call('HSET', record, 'state', state, 'reason', reason, 'finished_at', nowIso)
    redis.call('ZREM', base .. 'state:' .. from, id)
    redis.call('ZADD', base .. 'state:' .. state, nowMs, id)
    redis.call('ZADD', base .. 'all', nowMs, id)
    indexFinished(base .. 'live', base .. 'history:' .. state, record, id, nowMs)
  end

  -- A ChildResult as JSON: the result is the record's JSON text as it is (never decoded and encoded again).
  local function childResultJson(id, title, state, result, reason)
    local json = '{"job_id":' .. cjson.encode(id) .. ',"job_title":' .. cjson.encode(title or '') .. ',"state":"' .. state .. '"'
    if result then json = json .. ',"result":' .. result end
    if reason then json = json .. ',"reason":' .. cjson.encode(reason) end
    return json .. '}'
  end

  -- Keep how child `childId` (record `record`) ended with its parent; its title, result and reason.
  local function keepChildResult(base, parentId, childId, record, state)
    local c = redis.call('HMGET', record, 'job_title', 'result', 'reason')
    redis.call('HSET', flowKey(base, 'processed', parentId), childId, childResultJson(childId, c[1], state, c[2], c[3]))
    return c
  end

  -- What a failed child's failure says: its reason, else its result's `message`, else 'failed'.
  local function failureOf(reason, result)
    if reason then return reason end
    if result then
      local ok, decoded = pcall(cjson.decode, result)
      if ok and type(decoded) == 'table' and type(decoded.message) == 'string' then return decoded.message end
    end
    return 'failed'
  end

  -- The finally job of job `parentId` (record `parentRecord`), once it ended
  -- failed or cancelled and none of its children is pending: queued once.
  local function queueFinally(base, parentId, parentRecord, nowMs, effects)
    local f = redis.call('HMGET', parentRecord, 'flow_pending', 'flow_finally', 'flow_finally_id')
    if (tonumber(f[1]) or 0) > 0 or not f[2] or f[3] then return end
    local id, pending = f[2], flowKey(base, 'finally', parentId)
    local fields = redis.call('HGETALL', pending)
    redis.call('DEL', pending)
    redis.call('HSET', parentRecord, 'flow_finally_id', id)
    redis.call('HDEL', parentRecord, 'flow_finally')
    local record = base .. 'job:' .. id
    -- (Its id was free at the wait; taken since, it is someone else's job.)
    if #fields == 0 or redis.call('EXISTS', record) == 1 then return end
    redis.call('HSET', record, unpack(fields))
    local score = redis.call('HGET', record, 'added_ms') or 0
    redis.call('ZADD', base .. 'state:queued', score, id)
    redis.call('ZADD', base .. 'all', score, id)
    indexQueued(base .. 'live', record, id, score)
    redis.call('RPUSH', flowKey(base, 'children', parentId), id)
    toOutbox(base, id, nowMs, effects)
  end

  -- Cancel the unfinished children of this round of `parentId` with
  -- `reason`: queued ones at once (each one's end kept with the parent),
  -- running ones get cancel_requested (published on the cancel channel).
  local function cancelChildren(base, parentId, parentRecord, reason, nowMs, nowIso, effects)
    local deps = flowKey(base, 'dependencies', parentId)
    local ids = cjson.decode(redis.call('HGET', parentRecord, 'flow_children') or '[]')
    for _, id in ipairs(ids) do
      if redis.call('SISMEMBER', deps, id) == 1 then
        local record = base .. 'job:' .. id
        local state = redis.call('HGET', record, 'state')
        if state == 'running' then
          redis.call('HSET', record, 'cancel_requested', '1')
          redis.call('PUBLISH', base .. 'cancel', id)
        else
          if state == 'queued' then
            endRecord(base, record, id, 'queued', 'cancelled', reason, nowMs, nowIso)
            effects.discarded[#effects.discarded + 1] = id
          end
          -- (A record in another state here would be a child whose end was missed: it counts as ended.)
          redis.call('SREM', deps, id)
          if state then keepChildResult(base, parentId, id, record, state == 'queued' and 'cancelled' or state) end
          redis.call('HINCRBY', parentRecord, 'flow_pending', -1)
        end
      end
    end
  end

  -- Waiting parent `parentId` ends in `outcome` (failed or cancelled) with
  -- `reason`; its other unfinished children are cancelled with `childReason`.
  local function endWaitingParent(base, parentId, parentRecord, outcome, reason, childReason, nowMs, nowIso, effects)
    endRecord(base, parentRecord, parentId, 'waiting-children', outcome, reason, nowMs, nowIso)
    cancelChildren(base, parentId, parentRecord, childReason, nowMs, nowIso, effects)
    queueFinally(base, parentId, parentRecord, nowMs, effects)
  end

  -- Every child of the round completed: the parent is queued again (to resume;
  -- its BullMQ job goes to the head of its priority, see job-outbox.ts).
  local function resumeParent(base, parentId, parentRecord, nowMs, effects)
    redis.call('HSET', parentRecord, 'state', 'queued')
    redis.call('HDEL', parentRecord, 'worker_id') -- nobody's: its last holder's report stays lease-lost
    redis.call('ZREM', base .. 'state:waiting-children', parentId)
    redis.call('ZADD', base .. 'state:queued', redis.call('HGET', parentRecord, 'added_ms') or 0, parentId)
    toOutbox(base, parentId, nowMs, effects)
  end

  -- Child `childId` (record `record`) of `parentId` just ended in `state`.
  local function childEnded(base, parentId, childId, record, state, nowMs, nowIso, effects)
    -- Not a pending child of the round (the finally job): nothing to do.
    if redis.call('SREM', flowKey(base, 'dependencies', parentId), childId) == 0 then return end
    local parentRecord = base .. 'job:' .. parentId
    local parentState = redis.call('HGET', parentRecord, 'state')
    if not parentState then return end
    local c = keepChildResult(base, parentId, childId, record, state)
    local pending = redis.call('HINCRBY', parentRecord, 'flow_pending', -1)
    if parentState == 'waiting-children' then
      if state == 'completed' then
        if pending <= 0 then resumeParent(base, parentId, parentRecord, nowMs, effects) end
        return
      end
      local named = 'child ' .. childId .. ' (' .. (c[1] or '') .. ')'
      if state == 'failed' then
        endWaitingParent(base, parentId, parentRecord, 'failed', named .. ' failed: ' .. failureOf(c[3], c[2]),
          'parent ' .. parentId .. ' failed', nowMs, nowIso, effects)
      else
        endWaitingParent(base, parentId, parentRecord, 'cancelled', named .. ' was cancelled',
          'parent ' .. parentId .. ' was cancelled', nowMs, nowIso, effects)
      end
    elseif parentState == 'failed' or parentState == 'cancelled' then
      -- The parent ended before this child: only its finally job may be due now.
      queueFinally(base, parentId, parentRecord, nowMs, effects)
    end
  end

  flowRulesMade = {
    flowKey = flowKey, toOutbox = toOutbox, queueFinally = queueFinally, endWaitingParent = endWaitingParent,
    resumeParent = resumeParent, childEnded = childEnded,
  }
  return flowRulesMade
end

-- Job `id` (record `record`) just ended in `state` (its record and indexes
-- say so already): the flow rules, for a child and for a job that waited.
local function jobEnded(base, id, record, state, nowMs, nowIso, effects)
  local f = redis.call('HMGET', record, 'parent_id', 'flow_round')
  if not f[1] and not f[2] then return end
  local rules = flowRules()
  if f[1] then rules.childEnded(base, f[1], id, record, state, nowMs, nowIso, effects) end
  if f[2] then
    if state == 'completed' then
      redis.call('DEL', rules.flowKey(base, 'finally', id))
      redis.call('HDEL', record, 'flow_finally')
    else
      rules.queueFinally(base, id, record, nowMs, effects)
    end
  end
end
