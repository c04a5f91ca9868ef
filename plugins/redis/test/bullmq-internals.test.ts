/**
 * The guard of bullmq-internals.ts: what the Redis store takes from BullMQ
 * beyond its documented API, checked against the installed BullMQ. A BullMQ
 * upgrade that renames a key, changes the lock, the reply of a fetching move
 * or the backend's internals fails here, instead of silently turning the
 * one-round-trip report off (the store would still work, only slower).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqInternals, PRIORITY_SCORE_UNIT } from '../src/bullmq-internals.js';
import { BullmqStore } from '../src/bullmq-store.js';
import { commandOf, defineScripts } from '../src/lua-scripts.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);
const LEASE_MS = 60_000;
const LOCK_MS = 60_000;

const prefixes = new Set<string>();
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

const freshPrefix = () => {
  const prefix = `sis-internals-${randomUUID()}`;
  prefixes.add(prefix);
  return prefix;
};

/** A connection of our own, with BullMQ's queue and fetching worker on it (stalled check off: nothing runs in the background). */
async function openInternals() {
  const prefix = freshPrefix();
  const redis = new Redis(URL, { maxRetriesPerRequest: null });
  defineScripts(redis);
  const bull = BullmqInternals.create(redis, { prefix, lockMs: LOCK_MS });
  cleanups.push(async () => {
    await bull.close();
    await redis.quit();
  });
  await bull.start(false);
  return { prefix, redis, bull };
}

type StoreInternals = { redis: Redis; bull: BullmqInternals };
const internals = (store: BullmqStore) => store as unknown as StoreInternals;
/** BullMQ's own fetch (the store never uses it: see bullmq-internals.ts), to compare ours with. */
type Fetcher = { getNextJob(token: string, options: { block: boolean }): Promise<{ id?: string } | undefined>; moveStalledJobsToWait(): Promise<unknown> };
const fetcherOf = (bull: BullmqInternals) => (bull as unknown as { fetcher: Fetcher }).fetcher;
const bullmqFetch = async (bull: BullmqInternals, token: string) => (await fetcherOf(bull).getNextJob(token, { block: false }))?.id;


/** Record, for each write on the connection's socket, how corked the socket was; `write` is the original, to put back. */
function recordCorkedWrites(redis: { stream: import('node:net').Socket }) {
  const socket = redis.stream;
  const writes: number[] = [];
  const write = socket.write;
  socket.write = function (this: typeof socket, ...args: unknown[]) {
    writes.push(socket.writableCorked);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof socket.write;
  return { socket, write, writes };
}

describe('BullMQ internals the Redis store relies on', () => {
  it('only bullmq-internals.ts imports BullMQ', () => {
    const dir = new globalThis.URL('../src/', import.meta.url);
    const importers = readdirSync(dir)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /from ['"]bullmq['"]/.test(readFileSync(new globalThis.URL(file, dir), 'utf8')));
    expect(importers).toEqual(['bullmq-internals.ts']);
  });

  it('the installed BullMQ offers everything the one-round-trip report takes', async () => {
    const { bull } = await openInternals();
    expect(bull.fastPathAvailable()).toBe(true);
  });

  it('key names, the lock of a fetched job and its duration are as the store assumes', async () => {
    const { redis, bull } = await openInternals();
    await bull.add('job-b', { job_id: 'job-b' }, 20);
    await bull.add('job-a', { job_id: 'job-a' }, 10);
    // The prioritized set is the queue, in BullMQ's hand-out order.
    expect(await redis.zrange(bull.keys.prioritized, 0, -1)).toEqual(['job-a', 'job-b']);
    // A job's key is jobPrefix + id.
    expect(JSON.parse((await redis.hget(`${bull.keys.jobPrefix}job-a`, 'data'))!)).toEqual({ job_id: 'job-a' });
    expect([bull.keys.wait, bull.keys.events]).toEqual([`${bull.keys.jobPrefix}wait`, `${bull.keys.jobPrefix}events`]);
    expect(await bull.waiting('job-a')).toBe(true);
    const token = randomUUID();
    expect(await bullmqFetch(bull, token)).toBe('job-a');
    expect(await bull.waiting('job-a')).toBe(false);
    // The fetch locked it with our token, for the worker's lockDuration, under lockKey().
    expect(bull.lockKey('job-a')).toBe(`${bull.keys.jobPrefix}job-a${bull.keys.lockSuffix}`);
    expect(await redis.get(bull.lockKey('job-a'))).toBe(token);
    expect(bull.lockMs).toBe(LOCK_MS);
    const ttl = await redis.pttl(bull.lockKey('job-a'));
    expect(ttl).toBeGreaterThan(LOCK_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(LOCK_MS);
    expect(await redis.lrange(bull.keys.active, 0, -1)).toEqual(['job-a']);
    // extendLock and moveToWait with the token work on a handle made without a fetch.
    await bull.extendLock('job-a', token, 2 * LOCK_MS);
    expect(await redis.pttl(bull.lockKey('job-a'))).toBeGreaterThan(LOCK_MS);
    await bull.moveToWait('job-a', token);
    expect(await redis.zrange(bull.keys.prioritized, 0, -1)).toEqual(['job-a', 'job-b']);
  });

  it('the prioritized set scores priority * PRIORITY_SCORE_UNIT + a submission counter (0 when put back); the job hash keeps the priority', async () => {
    const { redis, bull } = await openInternals();
    await bull.add('job-a', {}, 10);
    await bull.add('job-b', {}, 20);
    await bull.add('job-c', {}, 10);
    const score = async (id: string) => Number(await redis.zscore(bull.keys.prioritized, id));
    const [a, b, c] = [await score('job-a'), await score('job-b'), await score('job-c')];
    expect([Math.floor(a / PRIORITY_SCORE_UNIT), Math.floor(b / PRIORITY_SCORE_UNIT), Math.floor(c / PRIORITY_SCORE_UNIT)]).toEqual([10, 20, 10]);
    // The counter numbers submissions, whatever their priority.
    expect([b % PRIORITY_SCORE_UNIT, c % PRIORITY_SCORE_UNIT]).toEqual([(a % PRIORITY_SCORE_UNIT) + 1, (a % PRIORITY_SCORE_UNIT) + 2]);
    expect(await redis.hget(bull.jobKey('job-b'), 'priority')).toBe('20');
    // A job given back goes to the head of its priority: counter 0.
    const token = randomUUID();
    expect(await bullmqFetch(bull, token)).toBe('job-a');
    await bull.moveToWait('job-a', token);
    expect(await score('job-a')).toBe(10 * PRIORITY_SCORE_UNIT);
  });

  it('our take of a job the lease chose leaves it as BullMQ\'s own fetch leaves the job it hands out', async () => {
    // The same job in two queues: BullMQ fetches it from one, our lease takes it (by id) from the other.
    const { redis, bull } = await openInternals();
    await bull.add('job-a', { job_id: 'job-a', job_title: 'job-a' }, 2 ** 20);
    const theirToken = randomUUID();
    expect(await bullmqFetch(bull, theirToken)).toBe('job-a');
    const prefix = freshPrefix();
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false, leaseMs: LEASE_MS });
    cleanups.push(() => store.close());
    await store.submit({ job_id: 'job-a', job_title: 'job-a', job: {}, priority: 0, added: new Date(T0).toISOString() });
    const ours = internals(store).bull;
    expect(await store.lease('w', LEASE_MS, T0)).toMatchObject({ job_id: 'job-a', state: 'running' });
    const ourToken = (await redis.hget(`${prefix}:sis:job:job-a`, 'lock_token'))!;
    for (const [b, token] of [[bull, theirToken], [ours, ourToken]] as const) {
      // Out of the queue, at the head of active, locked with the token.
      expect(await redis.zscore(b.keys.prioritized, 'job-a')).toBeNull();
      expect(await redis.lrange(b.keys.active, 0, -1)).toEqual(['job-a']);
      expect(await redis.get(b.lockKey('job-a'))).toBe(token);
      expect(await redis.pttl(b.lockKey('job-a'))).toBeGreaterThan(0);
      // The last event says it went active.
      const [[, fields]] = (await redis.xrevrange(b.keys.events, '+', '-', 'COUNT', 1)) as [[string, string[]]];
      expect(fields).toEqual(['event', 'active', 'jobId', 'job-a', 'prev', 'waiting']);
    }
    // The same fields on the job's hash (processedOn, the started-attempts count ats, ...).
    const [theirs, mine] = [await redis.hgetall(bull.jobKey('job-a')), await redis.hgetall(ours.jobKey('job-a'))];
    expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
    expect(mine['ats']).toBe(theirs['ats']);
    expect(Number(mine['processedOn'])).toBe(T0);
    // BullMQ's moves work on it as on a job it fetched itself.
    await ours.complete('job-a', ourToken);
    expect(await redis.zscore(`${ours.keys.jobPrefix}completed`, 'job-a')).not.toBeNull();
    expect(await redis.llen(ours.keys.active)).toBe(0);
  });

  it('our take finds a job BullMQ\'s stalled check gave back in the wait list', async () => {
    const prefix = freshPrefix();
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false, leaseMs: LEASE_MS });
    cleanups.push(() => store.close());
    const { redis, bull } = internals(store);
    const submit = (id: string) => store.submit({ job_id: id, job_title: id, job: {}, priority: 0, added: new Date(T0).toISOString() });
    await submit('job-a');
    await submit('job-b');
    expect((await store.lease('w1', LEASE_MS, T0))?.job_id).toBe('job-a');
    // Its lock lapses; two stalled checks give it back (to wait), then the sweep requeues it.
    await redis.del(bull.lockKey('job-a'));
    for (let i = 0; i < 2; i++) {
      await redis.del(`${prefix}:jobs:stalled-check`);
      await fetcherOf(bull).moveStalledJobsToWait();
    }
    expect(await redis.lrange(bull.keys.wait, 0, -1)).toEqual(['job-a']);
    expect(await store.expireLeases(T0 + LEASE_MS + 1, 5)).toEqual({ requeued: ['job-a'], failed: [] });
    expect((await store.lease('w2', LEASE_MS, T0 + LEASE_MS + 2))?.job_id).toBe('job-a');
    expect(await redis.llen(bull.keys.wait)).toBe(0);
    expect(await redis.lrange(bull.keys.active, 0, -1)).toEqual(['job-a']);
    const token = (await redis.hget(`${prefix}:sis:job:job-a`, 'lock_token'))!;
    expect(await redis.get(bull.lockKey('job-a'))).toBe(token);
    await bull.complete('job-a', token);
    expect(await redis.zscore(`${bull.keys.jobPrefix}completed`, 'job-a')).not.toBeNull();
  });

  it('fastComplete sends the move and the command after it in one write; Redis runs them in that order', async () => {
    const { redis, bull } = await openInternals();
    for (const id of ['job-1', 'job-2']) await bull.add(id, {}, 1);
    const token = randomUUID();
    expect(await bullmqFetch(bull, token)).toBe('job-1');
    const { socket, write, writes } = recordCorkedWrites(redis);
    try {
      // What Redis sees right after the move: job-1 completed, job-2 still queued (the move fetches nothing).
      const done = await bull.fastComplete('job-1', token, () => redis.zrange(bull.keys.prioritized, 0, -1));
      expect(done).toEqual({ completed: true, error: null, reply: ['job-2'] });
    } finally {
      socket.write = write;
    }
    expect(writes.length).toBe(2);
    expect(writes.every((corked) => corked > 0), 'both commands written while the socket is corked').toBe(true);
    expect(await redis.zscore(`${bull.keys.jobPrefix}completed`, 'job-1')).not.toBeNull();
  });

  it('a holder\'s finishAndPoll goes the one-round-trip way: two commands on the store\'s connection, in one write', async () => {
    const prefix = freshPrefix();
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false, leaseMs: LEASE_MS });
    cleanups.push(() => store.close());
    const { redis } = internals(store);
    let n = 0;
    const submit = (id: string) => store.submit({ job_id: id, job_title: id, job: {}, priority: 0, added: new Date(T0 + ++n).toISOString() });
    for (const id of ['job-1', 'job-2', 'job-3']) await submit(id);
    const completed = { state: 'completed', result: { ok: true } } as const;
    expect((await store.lease('w', LEASE_MS, T0))?.job_id).toBe('job-1');
    // A first report: the scripts are known to this connection from here on (EVALSHA, not EVAL).
    expect(await store.finishAndPoll('job-1', 'w', completed, T0 + 1, LEASE_MS)).toMatchObject({ result: 'ok', job: { job_id: 'job-2' } });

    // Every command of the store's connection, as Redis saw it, between two markers.
    const monitor = await new Redis(URL).monitor();
    cleanups.push(async () => monitor.disconnect());
    const source = `${redis.stream.localAddress}:${redis.stream.localPort}`;
    const seen: string[][] = [];
    const markers = new Map<string, () => void>();
    monitor.on('monitor', (_time: string, args: string[], from: string) => {
      if (from !== source) return;
      if (args[0]?.toLowerCase() === 'echo' && markers.has(args[1]!)) markers.get(args[1]!)!();
      else seen.push(args);
    });
    const mark = async () => {
      const text = randomUUID();
      const heard = new Promise<void>((resolve) => markers.set(text, resolve));
      await redis.echo(text);
      await heard;
    };
    await mark();
    const { socket, write, writes } = recordCorkedWrites(redis);
    let report: unknown;
    try {
      report = await store.finishAndPoll('job-2', 'w', completed, T0 + 2, LEASE_MS);
    } finally {
      socket.write = write;
    }
    await mark();

    expect(report).toMatchObject({ result: 'ok', job: { job_id: 'job-3', worker_id: 'w', state: 'running' } });
    // BullMQ's moveToFinished (completing job-2), then our finish-lease (leasing job-3): nothing else.
    const scripts = (redis as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet;
    const nameOf = (sha: string | undefined) => Object.entries(scripts).find(([, script]) => script.sha === sha)?.[0];
    expect(seen.map((args) => [args[0]!.toLowerCase(), nameOf(args[1])])).toEqual([
      ['evalsha', expect.stringMatching(/^moveToFinished:/)],
      ['evalsha', commandOf('finish-lease')],
    ]);
    expect(writes.length).toBe(2);
    expect(writes.every((corked) => corked > 0), 'both commands written while the socket is corked').toBe(true);
    expect(await store.get('job-2')).toMatchObject({ state: 'completed' });
  });
});
