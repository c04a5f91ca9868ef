/**
 * Capability routing on Redis beyond the shared suite (store-suite/requirements.ts):
 * the work of a lease does not grow with the jobs nobody polling can run (the
 * commands its script runs, counted), a report's next job is the
 * best one across requirement sets, put-back jobs go first across sets, two
 * instances hand each job out once, a job missing from BullMQ is passed over
 * and repaired by the sweep, jobs queued before routing existed are
 * leased after an upgrade, and a worker's capability list is sent only when
 * a lease meets a set it has no answer for.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRequirements, NewJob, StoredJob } from '@sisyphus/server/store';
import { BullmqStore } from '../src/bullmq-store.js';
import { toBullmqId } from '../src/job-ids.js';
import { OUTBOX_SWEEP_AGE_MS } from '../src/job-outbox.js';
import { capabilityFingerprint } from '../src/requirement-sets.js';
import { commandOf, loadLua, SCRIPT_KEYS } from '../src/lua-scripts.js';
import { StoreKeys } from '../src/store-keys.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);
const LEASE_MS = 60_000;

const FFMPEG: JobRequirements = { all: ['binary:ffmpeg', 'module:ffmpeg'], explicit: false };
const MKV: JobRequirements = { all: ['binary:mkvmerge', 'module:mkvmerge'], explicit: false };
const gpu = (i: number): JobRequirements => ({ all: ['binary:ffmpeg', 'encoder:hevc_nvenc', 'module:ffmpeg', `tag:gpu-${i}`], explicit: true });
const CPU = ['binary:ffmpeg', 'binary:mkvmerge', 'encoder:libx264', 'module:ffmpeg', 'module:mkvmerge'];

const prefixes = new Set<string>();
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

type Internals = { redis: Redis; bull: { remove(bullmqId: string): Promise<void> } };
const internals = (store: BullmqStore) => store as unknown as Internals;

/** A fresh prefix with `n` store instances on it (stalled check off), a raw connection and helpers. */
async function setup(n = 1) {
  const prefix = `sis-routing-${randomUUID()}`;
  prefixes.add(prefix);
  const open = async () => {
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
    cleanups.push(() => store.close());
    return store;
  };
  const stores: BullmqStore[] = [];
  for (let i = 0; i < n; i++) stores.push(await open());
  const raw = new Redis(URL);
  cleanups.push(() => raw.quit());
  let count = 0;
  const newJob = (requires: JobRequirements | undefined, priority = 0, id: string = randomUUID()): NewJob => ({
    job_id: id,
    job_title: id,
    job: { id },
    priority,
    added: new Date(T0 + ++count).toISOString(),
    ...(requires ? { requires } : {}),
  });
  const submit = async (requires: JobRequirements | undefined, priority = 0, id?: string) => (await stores[0]!.submit(newJob(requires, priority, id))).job_id;
  /** Lease as `workerId` with `capabilities` until nothing comes; the ids in hand-out order. */
  const drain = async (store: BullmqStore, workerId: string, capabilities: readonly string[] | undefined, now = T0) => {
    const ids: string[] = [];
    for (;;) {
      const job = await store.lease(workerId, LEASE_MS, now, capabilities ? { capabilities } : {});
      if (!job) return ids;
      ids.push(job.job_id);
    }
  };
  return { prefix, keys: new StoreKeys(prefix), stores, raw, open, newJob, submit, drain };
}

type Command = (...keysAndArgs: unknown[]) => Promise<unknown>;

/**
 * Record the commands each lease of `store` runs in Redis: its lease script
 * (lease.lua) is run as a copy whose `redis.call`s are counted, and answers
 * as the script does. The names of each lease's commands, in order.
 */
function countLeaseCommands(store: BullmqStore): string[][] {
  const commands = internals(store).redis as unknown as Record<string, Command> & Redis;
  const source = loadLua('lease.lua').replace(/redis\.call\(/g, 'counted(');
  const lua = [
    'local called = {}',
    'local function counted(...) called[#called + 1] = string.lower(select(1, ...)) return redis.call(...) end',
    `local function lease()\n${source}\nend`,
    'local reply = lease()',
    'return {called, reply}',
  ].join('\n');
  commands.defineCommand('sisyphus:lease-counted', { numberOfKeys: SCRIPT_KEYS.lease, lua });
  const seen: string[][] = [];
  const name = commandOf('lease');
  const original = commands[name]!;
  commands[name] = async (...keysAndArgs: unknown[]) => {
    const [called, reply] = (await commands['sisyphus:lease-counted']!(...keysAndArgs)) as [string[], unknown];
    seen.push(called);
    return reply;
  };
  cleanups.push(async () => {
    commands[name] = original;
  });
  return seen;
}

describe('capability routing on Redis', () => {
  it('a lease runs the same commands whether 30 or 3,000 jobs nobody polling can run are queued ahead', async () => {
    const { stores: [store], submit } = await setup();
    const blocked = async (n: number) => {
      for (let i = 0; i < n; i += 250) await Promise.all(Array.from({ length: Math.min(250, n - i) }, (_, k) => submit(gpu((i + k) % 3), 7)));
    };
    const leases = countLeaseCommands(store!);
    const lease = async () => (await store!.lease('cpu', LEASE_MS, T0, { capabilities: CPU }))?.job_id;
    await blocked(30);
    // The first lease of a worker finds out which sets it can run (kept per capability fingerprint); the ones after only look.
    const warm = await submit(FFMPEG);
    expect(await lease()).toBe(warm);
    const first = await submit(FFMPEG);
    expect(await lease()).toBe(first);
    await blocked(2970);
    const second = await submit(FFMPEG);
    expect(await lease()).toBe(second);
    expect(await store!.queueLength()).toBe(3000);
    const [, few, many] = leases as [string[], string[], string[]];
    // A lookup per requirement set the worker can run and the lease itself: nothing per blocked job, nor per set it cannot run.
    expect(few).toEqual(expect.arrayContaining(['smembers', 'hgetall', 'zrange']));
    expect(few.filter((command) => command === 'zrange')).toHaveLength(1);
    expect(many).toEqual(few);
    expect(many.length).toBeLessThan(30);
  });

  it('a report\'s next job (one round trip) is the best one the worker can run, whatever set the finished job was in', async () => {
    const { stores: [store], submit } = await setup();
    const a = await submit(FFMPEG);
    const b = await submit(MKV);
    const c = await submit(FFMPEG);
    const g = await submit(gpu(0), 9);
    const options = { capabilities: CPU };
    expect((await store!.lease('cpu', LEASE_MS, T0, options))?.job_id).toBe(a);
    const afterA = await store!.finishAndPoll(a, 'cpu', { state: 'completed' }, T0 + 1, LEASE_MS, options);
    expect(afterA).toMatchObject({ result: 'ok', job: { job_id: b, worker_id: 'cpu', requires: MKV } });
    const afterB = await store!.finishAndPoll(b, 'cpu', { state: 'completed' }, T0 + 2, LEASE_MS, options);
    expect(afterB).toMatchObject({ result: 'ok', job: { job_id: c } });
    expect(await store!.finishAndPoll(c, 'cpu', { state: 'failed', reason: 'no' }, T0 + 3, LEASE_MS, options)).toEqual({ result: 'ok' });
    expect((await store!.get(g))?.state).toBe('queued');
  });

  it('after its first lease a worker sends its capability fingerprint alone; a set with no kept answer costs one call more, with the list', async () => {
    const { stores: [store], submit, keys, raw } = await setup();
    // Each lease script call: which script, and whether the capability list went with it.
    const sent: Array<[string, boolean]> = [];
    const commands = internals(store!).redis as unknown as Record<string, Command>;
    for (const script of ['lease', 'finish-lease'] as const) {
      const name = commandOf(script);
      const original = commands[name]!;
      commands[name] = async (...keysAndArgs: unknown[]) => {
        sent.push([script, keysAndArgs.slice(SCRIPT_KEYS[script]).includes('encoder:libx264')]);
        return original.apply(commands, keysAndArgs);
      };
      cleanups.push(async () => {
        commands[name] = original;
      });
    }
    const options = { capabilities: CPU };
    const a = await submit(FFMPEG);
    const b = await submit(FFMPEG);
    expect((await store!.lease('cpu', LEASE_MS, T0, options))?.job_id).toBe(a);
    expect(sent.splice(0)).toEqual([['lease', true]]);
    expect(await store!.finishAndPoll(a, 'cpu', { state: 'completed' }, T0 + 1, LEASE_MS, options)).toMatchObject({ result: 'ok', job: { job_id: b } });
    expect(sent.splice(0)).toEqual([['finish-lease', false]]);
    // A set first met after the list went (no answer kept for it): the report's lease asks for the list, the next lease sends it.
    const m = await submit(MKV);
    expect(await store!.finishAndPoll(b, 'cpu', { state: 'completed' }, T0 + 2, LEASE_MS, options)).toMatchObject({ result: 'ok', job: { job_id: m, worker_id: 'cpu' } });
    expect(sent.splice(0)).toEqual([['finish-lease', false], ['lease', true]]);
    // The kept answers gone (expired): the same.
    const d = await submit(FFMPEG);
    await raw.del(keys.eligible(capabilityFingerprint(CPU)));
    expect((await store!.lease('cpu', LEASE_MS, T0 + 3, options))?.job_id).toBe(d);
    expect(sent.splice(0)).toEqual([['lease', false], ['lease', true]]);
    // A set it cannot run: found out once with the list, then known.
    const g = await submit(gpu(0));
    expect(await store!.lease('cpu', LEASE_MS, T0 + 4, options)).toBeUndefined();
    expect(await store!.lease('cpu', LEASE_MS, T0 + 5, options)).toBeUndefined();
    expect(sent.splice(0)).toEqual([['lease', false], ['lease', true], ['lease', false]]);
    expect((await store!.get(g))?.state).toBe('queued');
    expect((await store!.get(m))?.state).toBe('running');
  });

  it('a job put back goes first within its priority, ahead of older jobs of other sets', async () => {
    const { stores: [store], submit, drain } = await setup();
    const older = await submit(MKV);
    const putBack = await submit(FFMPEG);
    const newer = await submit(MKV);
    expect((await store!.lease('ffmpeg-only', 1000, T0, { capabilities: ['binary:ffmpeg', 'module:ffmpeg'] }))?.job_id).toBe(putBack);
    expect(await store!.expireLeases(T0 + 2000, 5)).toEqual({ requeued: [putBack], failed: [] });
    expect(await drain(store!, 'cpu', CPU, T0 + 2001)).toEqual([putBack, older, newer]);
  });

  it('setPriority, cancel, remove and clear keep the ready indexes in step', async () => {
    const { keys, stores: [store], raw, submit, drain } = await setup();
    const a = await submit(FFMPEG);
    const b = await submit(MKV);
    const c = await submit(FFMPEG);
    const d = await submit(MKV);
    expect(await store!.setPriority(c, 4)).toBe('ok');
    expect(await store!.cancel(a, T0)).toBe('cancelled');
    expect(await store!.remove(d)).toBe(true);
    expect(await drain(store!, 'cpu', CPU)).toEqual([c, b]);
    const e = await submit(gpu(1));
    await submit(FFMPEG);
    await store!.clear();
    expect(await store!.get(e)).toBeUndefined();
    expect(await drain(store!, 'gpu', [...CPU, 'encoder:hevc_nvenc', 'tag:gpu-1'])).toEqual([]);
    // Nothing left behind: no ready index, no set listed as ready.
    expect(await raw.scard(keys.readySets)).toBe(0);
    expect(await raw.keys(`${keys.root}ready:*`)).toEqual([]);
  });

  it('two instances hand each job out once to concurrent workers of different kinds', async () => {
    const { stores: [a, b], submit } = await setup(2);
    const ffmpeg = await Promise.all(Array.from({ length: 15 }, () => submit(FFMPEG)));
    const mkv = await Promise.all(Array.from({ length: 15 }, () => submit(MKV)));
    const kinds = [['binary:ffmpeg', 'module:ffmpeg'], ['binary:mkvmerge', 'module:mkvmerge'], CPU];
    const leased = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a! : b!).lease(`w${i}`, LEASE_MS, T0, { capabilities: kinds[i % 3]! }).then((job) => ({ job, kind: i % 3 }))),
    );
    const got = leased.filter((x): x is { job: StoredJob; kind: number } => x.job !== undefined);
    expect(got).toHaveLength(30);
    expect(new Set(got.map((x) => x.job.job_id)).size).toBe(30);
    for (const { job, kind } of got) expect(kind === 2 || (kind === 0 ? ffmpeg : mkv).includes(job.job_id)).toBe(true);
  });

  it('a job queued in our record but missing from BullMQ is passed over; the sweep adds it and it is leased', async () => {
    const { keys, stores: [store], raw, submit, drain } = await setup();
    const x = await submit(FFMPEG);
    const y = await submit(FFMPEG);
    await internals(store!).bull.remove(toBullmqId(x)); // e.g. lost with a Redis failover
    expect(await drain(store!, 'cpu', CPU)).toEqual([y]);
    expect(await raw.zrange(keys.outbox, 0, -1)).toEqual([x]);
    await store!.expireLeases(T0 + OUTBOX_SWEEP_AGE_MS, 5);
    expect(await raw.zcard(keys.outbox)).toBe(0);
    expect(await drain(store!, 'cpu', CPU, T0 + 1)).toEqual([x]);
  });

  it('jobs queued before capability routing existed are leased after an upgrade, escaped ids and running jobs too', async () => {
    const { prefix, keys, stores: [old], raw, open, submit, drain } = await setup();
    const ids = [await submit(undefined, 0, 'a'), await submit(undefined, 0, '42'), await submit(undefined, 5, 'wait'), await submit(undefined, 0, 'b')];
    expect((await old!.lease('w1', 1000, T0))?.job_id).toBe('wait');
    await old!.close();
    // What an older version left: no ready index, no BullMQ ids in the records.
    await raw.del(keys.ready('any'), keys.readySets, keys.requirementSets, keys.readyVersion);
    for (const id of ids) await raw.hdel(keys.job(id), 'bullmq_id');
    const store = await open();
    expect(await raw.get(keys.readyVersion)).toBe('1');
    expect(await raw.hget(keys.job('42'), 'bullmq_id')).toBe(toBullmqId('42'));
    expect(await raw.hget(keys.job('wait'), 'bullmq_id')).toBe(toBullmqId('wait'));
    expect(await drain(store, 'w2', undefined)).toEqual(['a', '42', 'b']);
    // The job that ran under the old version goes back to the queue and is leased again.
    expect(await store.expireLeases(T0 + 2000, 5)).toEqual({ requeued: ['wait'], failed: [] });
    expect(await drain(store, 'w3', CPU, T0 + 2001)).toEqual(['wait']);
    expect(await store.finish('wait', 'w3', { state: 'completed' }, T0 + 2002)).toBe('ok');
    expect(await raw.zscore(`${prefix}:jobs:completed`, toBullmqId('wait'))).not.toBeNull();
  });
});
