import { LuaScript } from './lua-script.js';

/*
 * The job record's multi-key changes, each one atomic script. Key layout in
 * store-keys.ts; records hold plain fields (job-record.ts). BullMQ moves the
 * job itself after the script has decided (see bullmq-store.ts).
 */

/**
 * The holder check of finish/release; KEYS[1] record, ARGV[2] worker id ('' = any).
 * Leaves `holder` and `token` (the BullMQ lock token the lease was fetched with, or '') set.
 */
const HOLDS = `
local held = redis.call('HMGET', KEYS[1], 'state', 'worker_id', 'lock_token')
local state, holder, token = held[1], held[2], held[3] or ''
if not state then return {'not-found', ''} end
if state ~= 'running' then return {'lease-lost', ''} end
if ARGV[2] ~= '' and holder and holder ~= ARGV[2] then return {'lease-lost', ''} end
`;


/**
 * Is the queue (hash KEYS[q]) or the worker (hash KEYS[w], when ARGV[a] is
 * '1') disabled? Sets `blocked` to 'queue', 'worker' or ''.
 */
const gate = (q: number, w: number, a: number) => `
local blocked = ''
${gateChecks(q, w, a)}`;

/** {@link gate} without declaring `blocked` (it exists already). */
function gateChecks(q: number, w: number, a: number): string {
  return `if redis.call('HGET', KEYS[${q}], 'disabled') == 'true' then blocked = 'queue'
elseif ARGV[${a}] == '1' and redis.call('HGET', KEYS[${w}], 'disabled') == 'true' then blocked = 'worker' end
`;
}

/**
 * What a poll checks before it takes a job. KEYS: queue attributes, worker
 * attributes. ARGV: '1' when there is a worker to check. 'queue', 'worker' or ''.
 */
export const GATE = new LuaScript(`${gate(1, 2, 1)}
return blocked
`);

/**
 * Pass the BullMQ lock (KEYS[lock]) from the lease holder (`token`, set
 * before) to a fresh move token (ARGV[move], for ARGV[ms] ms) when it is
 * missing or still the holder's; sets `moveToken` to it, or to '' when
 * someone else holds the lock (the job is theirs then, not to be moved).
 */
const handOverLock = (lock: number, move: number, ms: number) => `
local moveToken = ''
local lock = redis.call('GET', KEYS[${lock}])
if not lock or lock == token then
  redis.call('SET', KEYS[${lock}], ARGV[${move}], 'PX', ARGV[${ms}])
  moveToken = ARGV[${move}]
end`;

/**
 * KEYS: record, state:queued, all. ARGV: job id, sort score, field/value pairs.
 * 1 when created, 0 when the id exists.
 */
export const SUBMIT = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
`);

/**
 * The lease of a job BullMQ just handed out (locked with the fetch's token).
 * KEYS: record, leases, state:queued, state:running, the BullMQ job's lock.
 * ARGV: job id, worker id ('' = anonymous), lease expiry, started_at, lock
 *       token, now (ms), lock duration (ms).
 * {1, record} when leased; {0, state} when the record is not leasable (gone
 * or finished); {2, 'running'} when its lease is alive (see {@link leaseRecord}).
 */
export const LEASE = new LuaScript(`
local record, id = KEYS[1], ARGV[1]
${leaseRecord(2, 3, 4, 2, 3, 4, 5, { now: 'ARGV[6]', lockKey: 'KEYS[5]', lockMs: 'ARGV[7]' })}
`);

/**
 * The lease of one job: `record` (record key) and `id` (job id) are locals
 * set before; KEYS[l] leases, KEYS[q] state:queued, KEYS[r] state:running;
 * ARGV[w] worker id ('' = anonymous), ARGV[e] lease expiry, ARGV[s]
 * started_at, ARGV[k] lock token (kept in the record); `at` names (Lua
 * expressions) now, the BullMQ job's lock key and the lock duration.
 * Returns `reply(1, record)` when leased, `reply(0, state)` when the record
 * is not leasable, `reply(2, 'running')` when it is running under a live
 * lease: BullMQ gave it back because its lock ran out (a renewal after an
 * outage longer than lease and grace), but it is still its holder's, so the
 * lock goes back to the holder's token and nobody else gets the job.
 */
function leaseRecord(
  l: number, q: number, r: number, w: number, e: number, s: number, k: number,
  at: { now: string; lockKey: string; lockMs: string },
  reply = (code: string, payload: string) => `{${code}, ${payload}}`,
): string {
  return `
local fields = redis.call('HMGET', record, 'state', 'lease_expires', 'attempts', 'added_ms', 'lock_token')
local state = fields[1]
if state ~= 'queued' and state ~= 'running' then return ${reply('0', "state or ''")} end
if state == 'running' then
  local expires = tonumber(fields[2])
  if expires and expires >= tonumber(${at.now}) then
    local holderToken = fields[5]
    if holderToken and holderToken ~= '' then redis.call('SET', ${at.lockKey}, holderToken, 'PX', ${at.lockMs}) end
    return ${reply('2', "'running'")}
  end
end
local attempts = (tonumber(fields[3]) or 0) + 1
if ARGV[${w}] == '' then
  redis.call('HSET', record, 'state', 'running', 'lease_expires', ARGV[${e}], 'started_at', ARGV[${s}], 'attempts', attempts, 'lock_token', ARGV[${k}])
  redis.call('HDEL', record, 'worker_id', 'finished_at', 'cancel_requested')
else
  redis.call('HSET', record, 'state', 'running', 'lease_expires', ARGV[${e}], 'started_at', ARGV[${s}], 'attempts', attempts, 'lock_token', ARGV[${k}], 'worker_id', ARGV[${w}])
  redis.call('HDEL', record, 'finished_at', 'cancel_requested')
end
redis.call('ZADD', KEYS[${l}], ARGV[${e}], id)
redis.call('ZREM', KEYS[${q}], id)
redis.call('ZADD', KEYS[${r}], fields[4] or 0, id)
return ${reply('1', "redis.call('HGETALL', record)")}
`;
}

/**
 * KEYS: record, leases, the BullMQ job's lock. ARGV: job id, worker id,
 * lease expiry, lock duration (ms).
 * The lock token when renewed (adopting an anonymous lease), nil otherwise.
 * A lock that ran out meanwhile (an outage longer than lease and grace) is
 * taken again, so the stalled check does not give a job with a live lease back.
 */
export const RENEW = new LuaScript(`
local held = redis.call('HMGET', KEYS[1], 'state', 'worker_id', 'lock_token')
local holder, token = held[2], held[3] or ''
if held[1] ~= 'running' then return false end
if holder and holder ~= ARGV[2] then return false end
if not holder and ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'lease_expires', ARGV[3], 'worker_id', ARGV[2])
else
  redis.call('HSET', KEYS[1], 'lease_expires', ARGV[3])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if token ~= '' then redis.call('SET', KEYS[3], token, 'NX', 'PX', ARGV[4]) end
return token
`);

/** FINISH up to its gate check; ends with `token` and `blocked` set (see {@link FINISH}). */
const FINISH_BODY = `${HOLDS}
local set, unset = {'state', ARGV[3], 'finished_at', ARGV[4]}, {'lease_expires', 'lock_token'}
if ARGV[6] == '1' then set[#set + 1] = 'result'; set[#set + 1] = ARGV[7] else unset[#unset + 1] = 'result' end
if ARGV[8] == '1' then set[#set + 1] = 'reason'; set[#set + 1] = ARGV[9] else unset[#unset + 1] = 'reason' end
if ARGV[2] ~= '' and not holder then set[#set + 1] = 'worker_id'; set[#set + 1] = ARGV[2] end
redis.call('HSET', KEYS[1], unpack(set))
redis.call('HDEL', KEYS[1], unpack(unset))
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
local blocked = ''
if ARGV[10] == '1' then
${gateChecks(6, 7, 10)}end
`;

/**
 * KEYS: record, leases, state:running, state:<outcome>, all,
 *       queue attributes, worker attributes.
 * ARGV: job id, worker id ('' = any), state, finished_at, finished ms,
 *       has result (1/0), result JSON, has reason (1/0), reason,
 *       '1' when the worker polls next (then the gate is checked too).
 * {'ok' | 'not-found' | 'lease-lost', lock token, blocked ('queue' | 'worker' | '')}.
 */
export const FINISH = new LuaScript(`${FINISH_BODY}
return {'ok', token, blocked}
`);

/**
 * FINISH, then the lease of the job BullMQ handed out just before, in the
 * same write, to the worker whose finish fetched it: `moveToFinished` with
 * fetchNext pushes it to the head of `active`, locked with the worker's
 * token, and no other job holds that token. So a report costs one round
 * trip: BullMQ's move, then this.
 * KEYS: FINISH's, then the BullMQ active list (8), state:queued (9).
 * ARGV: FINISH's (the 10th is '1'), then the BullMQ job key prefix
 *       ('PREFIX:jobs:', 11), our record key prefix (12), lease expiry (13),
 *       started_at (14), lock token (15), the finished job's BullMQ id (16),
 *       lock duration (17).
 * FINISH's reply, plus, when it is 'ok' and not blocked: 1, the leased
 * record and its id; 0, the state of our job at the head that is not
 * leasable and its id; 2 and its id when its lease is alive (see
 * leaseRecord); or 3 (nothing of ours at the head: another client came in
 * between, the move has not run, or an escaped id) so the caller leases by
 * id. The caller checks the id is the one the move fetched.
 */
export const FINISH_LEASE_HEAD = new LuaScript(`${FINISH_BODY}
if blocked ~= '' then return {'ok', token, blocked} end
local id = redis.call('LINDEX', KEYS[8], 0)
if not id or id == ARGV[16] or string.sub(id, 1, 1) == '~' then return {'ok', token, '', 3} end
if redis.call('GET', ARGV[11] .. id .. ':lock') ~= ARGV[15] then return {'ok', token, '', 3} end
local record = ARGV[12] .. id
${leaseRecord(2, 9, 3, 2, 13, 14, 15, { now: 'ARGV[5]', lockKey: "ARGV[11] .. id .. ':lock'", lockMs: 'ARGV[17]' }, (code, payload) => `{'ok', token, '', ${code}, ${payload}, id}`)}
`);

/**
 * KEYS: record, leases, state:running, state:queued, the BullMQ job's lock.
 * ARGV: job id, worker id ('' = any), a fresh move token, grace (ms).
 * {'ok' | 'not-found' | 'lease-lost', move token}. The BullMQ lock passes from
 * the holder to the move token (when it is missing or still the holder's), so
 * the holder's own moves (a report racing this release) fail from here on and
 * the stalled check leaves the job alone until the caller's move, which uses
 * the move token; '' when someone else holds the lock (the job is theirs).
 */
export const RELEASE = new LuaScript(`${HOLDS}
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'lease_expires', 'cancel_requested', 'lock_token')
redis.call('ZREM', KEYS[2], ARGV[1])
${handOverLock(5, 3, 4)}
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], redis.call('HGET', KEYS[1], 'added_ms'), ARGV[1])
return {'ok', moveToken}
`);

/**
 * One job whose lease may have ended. KEYS: record, leases,
 * state:running, state:queued, state:failed, state:cancelled, all,
 * the BullMQ job's lock.
 * ARGV: job id, now (ms), max attempts, now (ISO), a fresh move token, grace (ms).
 * {'requeued' | 'failed' | 'cancelled' | 'skip', move token, reason}.
 * The BullMQ lock goes with the lease, to the move token as in RELEASE: the
 * worker that lost the lease can no longer move the BullMQ job (a finish it
 * sends along with its report fails), nor can the stalled check before the
 * sweep's own move.
 */
export const EXPIRE = new LuaScript(`
local fields = redis.call('HMGET', KEYS[1], 'state', 'lease_expires', 'attempts', 'lock_token', 'cancel_requested', 'added_ms')
local state, expires = fields[1], tonumber(fields[2])
if state ~= 'running' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'skip', '', ''}
end
if not expires or expires >= tonumber(ARGV[2]) then return {'skip', '', ''} end
local attempts = tonumber(fields[3]) or 0
local token = fields[4] or ''
redis.call('ZREM', KEYS[2], ARGV[1])
${handOverLock(8, 5, 6)}
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], 'lease_expires', 'lock_token')
local outcome, reason, target
if fields[5] == '1' then
  outcome, target = 'cancelled', KEYS[6]
  reason = 'cancel requested; lease expired after ' .. attempts .. ' attempt(s)'
elseif attempts >= tonumber(ARGV[3]) then
  outcome, target = 'failed', KEYS[5]
  reason = 'lease expired ' .. attempts .. ' times (max attempts ' .. ARGV[3] .. ')'
else
  redis.call('HSET', KEYS[1], 'state', 'queued')
  redis.call('ZADD', KEYS[4], fields[6] or 0, ARGV[1])
  return {'requeued', moveToken, ''}
end
redis.call('HSET', KEYS[1], 'state', outcome, 'reason', reason, 'finished_at', ARGV[4])
redis.call('ZADD', target, ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[7], ARGV[2], ARGV[1])
return {outcome, moveToken, reason}
`);

/**
 * KEYS: record, state:queued, state:cancelled, all. ARGV: job id, now (ISO), now (ms).
 * 'cancelled' | 'requested' | 'not-found' | 'finished'.
 */
export const CANCEL = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not-found' end
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished_at', ARGV[2], 'reason', 'cancelled while queued')
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
  return 'cancelled'
end
if state == 'running' then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1')
  return 'requested'
end
return 'finished'
`);

/** KEYS: record, state:queued, all. ARGV: job id. 1 when the queued job's record was removed, else 0. */
export const REMOVE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`);
