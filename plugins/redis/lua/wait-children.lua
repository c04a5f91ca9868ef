-- A running job hands over child jobs and waits for them, holding no worker
-- (QueueStore.waitForChildren; BullMQ's moveToWaitingChildren with the
-- children added in the same step, as its flows add a parent's children).
-- KEYS: record, leases, state:running, state:queued, state:waiting-children,
--       all, live (see fragments/listing-index.lua).
-- ARGV: 1 job id, 2 worker id ('' = any), 3 now (ms), 4 now (ISO), 5 the
--       store's key base (fragments/job-ended.lua), 6 result JSON, 7 task
--       index, 8 flow state JSON ('' = none), 9 the children's ids (JSON
--       array), 10 finally job id ('' = none), 11 how many field/value items
--       its record has (n), 12..11+n those items, then for each child: its
--       id, sort score, how many field/value items its record has (m), the m
--       items (each record complete, parent_id included).
-- Returns {'ok', lock token, ids queued, ids discarded (the flow's effects:
-- the children, or the job itself when there are none)}, {'not-found'},
-- {'lease-lost'} (holder rules as finish.lua's), {'child'} (a child cannot
-- wait) or {'exists', id} (a child's id is taken); nothing changed but on 'ok'.
-- The job goes to waiting-children: no lease, nobody's (a later report or
-- renewal of its worker is lease-lost; worker_id stays as its last holder
-- until it resumes), attempts 0, round + 1. A cancel requested while it ran
-- holds for the flow too: it ends cancelled at once, with its children. A
-- wait without a finally job keeps the one an earlier wait gave.
--!include fragments/holder-check.lua
--!include fragments/job-ended.lua
local record, id, base, nowMs, nowIso = KEYS[1], ARGV[1], ARGV[5], ARGV[3], ARGV[4]
local result, state, _, token = checkHolder(record, ARGV[2])
if result ~= 'ok' then return {result} end
local f = redis.call('HMGET', record, 'state', 'parent_id', 'flow_round', 'cancel_requested', 'added_ms')
if f[2] then return {'child'} end

local finallyId, finallyItems = ARGV[10], tonumber(ARGV[11])
local taken = {[id] = true}
if finallyId ~= '' then
  if redis.call('EXISTS', base .. 'job:' .. finallyId) == 1 then return {'exists', finallyId} end
  taken[finallyId] = true
end
local children = {}
local i = 12 + finallyItems
while i <= #ARGV do
  local child, items = ARGV[i], tonumber(ARGV[i + 2])
  if taken[child] or redis.call('EXISTS', base .. 'job:' .. child) == 1 then return {'exists', child} end
  taken[child] = true
  children[#children + 1] = {id = child, score = ARGV[i + 1], from = i + 3, to = i + 2 + items}
  i = i + 3 + items
end

-- The job: waiting, nobody's.
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', state == 'running' and KEYS[3] or KEYS[4], id)
if state == 'queued' then dropReady(base, record, id) end
redis.call('ZADD', KEYS[5], f[5] or 0, id)
local set = {
  'state', 'waiting-children', 'attempts', '0', 'result', ARGV[6],
  'flow_task_index', ARGV[7], 'flow_round', (tonumber(f[3]) or 0) + 1, 'flow_children', ARGV[9], 'flow_pending', #children,
}
local unset = {'lease_expires', 'lock_token', 'cancel_requested', 'reason', 'finished_at'}
if ARGV[8] ~= '' then set[#set + 1] = 'flow_state'; set[#set + 1] = ARGV[8] else unset[#unset + 1] = 'flow_state' end
if finallyId ~= '' then set[#set + 1] = 'flow_finally'; set[#set + 1] = finallyId end
redis.call('HSET', record, unpack(set))
redis.call('HDEL', record, unpack(unset))

-- This round: BullMQ's dependencies and processed, afresh; the finally job's record kept for later.
local rules = flowRules()
local deps, finallyKey = rules.flowKey(base, 'dependencies', id), rules.flowKey(base, 'finally', id)
redis.call('DEL', deps, rules.flowKey(base, 'processed', id))
if finallyId ~= '' then
  redis.call('DEL', finallyKey)
  redis.call('HSET', finallyKey, unpack(ARGV, 12, 11 + finallyItems))
end
local effects = newEffects()
for _, child in ipairs(children) do
  local childRecord = base .. 'job:' .. child.id
  redis.call('HSET', childRecord, unpack(ARGV, child.from, child.to))
  redis.call('ZADD', KEYS[4], child.score, child.id)
  redis.call('ZADD', KEYS[6], child.score, child.id)
  indexQueued(KEYS[7], childRecord, child.id, child.score)
  redis.call('SADD', deps, child.id)
  redis.call('RPUSH', rules.flowKey(base, 'children', id), child.id)
  rules.toOutbox(base, child.id, nowMs, effects)
end

if f[4] == '1' then
  rules.endWaitingParent(base, id, record, 'cancelled', 'cancelled', 'parent ' .. id .. ' was cancelled', nowMs, nowIso, effects)
elseif #children == 0 then
  rules.resumeParent(base, id, record, nowMs, effects)
end
return {'ok', token, effects.queued, effects.discarded}
