/**
 * Fan-out on the Redis store beyond the shared conformance suite: what
 * BullMQ holds of a flow (a waiting parent is out of BullMQ, a resumed one
 * is added at the head of its priority, cancelled children leave it), the
 * outbox that keeps a crash between a script and BullMQ's add from
 * stranding a job, the cancel channel of cascading cancels, the
 * one-round-trip report of a child that resumes its parent, and the flow
 * keys (named in store-keys.ts and in lua/fragments/job-ended.lua alike).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewJob, WaitForChildren } from '@sisyphus/server/store';
import { PRIORITY_SCORE_UNIT } from '../src/bullmq-internals.js';
import { BullmqStore } from '../src/bullmq-store.js';
import { toBullmqId } from '../src/job-ids.js';
import { OUTBOX_SWEEP_AGE_MS } from '../src/job-outbox.js';
import { commandOf } from '../src/lua-scripts.js';
import { toBullmqPriority } from '../src/priority-mapping.js';
import { StoreKeys } from '../src/store-keys.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);
const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 3;

const prefixes = new Set<string>();
const stores: BullmqStore[] = [];
const raws: Redis[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const raw of raws.splice(0)) await raw.quit();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

type Internals = {
  redis: Redis;
  bull: {
    queue: { getJobState(id: string): Promise<string> };
    fetcher: { moveStalledJobsToWait(): Promise<void> };
    keys: { prioritized: string };
    add: (...args: unknown[]) => Promise<void>;
    addBulk: (...args: unknown[]) => Promise<void>;
  };
  moves: { retire: (...args: unknown[]) => Promise<void> };
};
const internals = (store: BullmqStore) => store as unknown as Internals;

/** A fresh prefix, a store on it (stalled check off: run by hand), a raw connection and helpers. */
async function setup() {
  const prefix = `sis-flow-${randomUUID()}`;
  prefixes.add(prefix);
  const warnings: string[] = [];
  const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false, log: (_level, message) => warnings.push(message) });
  stores.push(store);
  const raw = new Redis(URL);
  raws.push(raw);
  const keys = new StoreKeys(prefix);
  let count = 0;
  const newJob = (priority = 0, title = ''): NewJob => {
    count++;
    const job_id = randomUUID();
    const job_title = title || `job ${count}`;
    return { job_id, job_title, priority, added: new Date(T0 + count * 1000).toISOString(), job: { job_id, job_title, tasks: [] } };
  };
  const submit = async (priority = 0) => (await store.submit(newJob(priority))).job_id;
  /** A job of `priority` leased to `workerId` that waited for `n` children of `childPriority`. */
  const waiting = async (n: number, options: { priority?: number; childPriority?: number; finally?: boolean } = {}) => {
    const parent = await submit(options.priority ?? 0);
    expect((await store.lease('w1', LEASE_MS, T0))?.job_id).toBe(parent);
    const children = Array.from({ length: n }, () => newJob(options.childPriority ?? options.priority ?? 0, 'chunk'));
    const wait: WaitForChildren = { result: { so: 'far' }, task_index: 1, state: { plan: [1, 2.5] }, children };
    if (options.finally) wait.finally = newJob(0, 'finally');
    expect(await store.waitForChildren(parent, 'w1', wait, T0 + 1)).toBe('ok');
    return { parent, children: children.map((c) => c.job_id), finallyId: wait.finally?.job_id };
  };
  const bullState = (jobId: string) => internals(store).bull.queue.getJobState(toBullmqId(jobId));
  const prioritizedScore = async (jobId: string) => {
    const score = await raw.zscore(internals(store).bull.keys.prioritized, toBullmqId(jobId));
    return score === null ? null : Number(score);
  };
  const drain = async (workerId: string, now: number) => {
    const ids: string[] = [];
    for (let job = await store.lease(workerId, LEASE_MS, now); job; job = await store.lease(workerId, LEASE_MS, now)) {
      ids.push(job.job_id);
      if (ids.length > 50) break;
    }
    return ids;
  };
  /** Make the next call of BullMQ method `name` fail, as a crash right after our script would leave things. */
  const failOnce = (name: 'add' | 'addBulk') => {
    const bull = internals(store).bull;
    const original = bull[name];
    bull[name] = async () => {
      bull[name] = original;
      throw new Error('the process died here');
    };
  };
  return { prefix, store, raw, keys, warnings, newJob, submit, waiting, bullState, prioritizedScore, drain, failOnce };
}

describe('flows in BullMQ', () => {
  it('a waiting parent is out of BullMQ; resumed, it is added again at the head of its priority', async () => {
    const { store, waiting, submit, bullState, prioritizedScore, drain } = await setup();
    const { parent, children } = await waiting(2, { priority: 4, childPriority: 9 });
    expect(await bullState(parent)).toBe('unknown');
    const [before] = [await submit(4)];
    for (const id of children) expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(id);
    for (const id of children) expect(await store.finish(id, 'w2', { state: 'completed' }, T0 + 3)).toBe('ok');
    expect(await bullState(parent)).toBe('prioritized');
    // BullMQ's score of a job put back (pushBackJobWithPriority): its priority, counter 0.
    expect(await prioritizedScore(parent)).toBe(toBullmqPriority(4) * PRIORITY_SCORE_UNIT);
    expect(await drain('w3', T0 + 4)).toEqual([parent, before]);
  });

  it('children cancelled with their parent leave BullMQ at once; running ones hear it on the cancel channel', async () => {
    const { store, waiting, bullState, prioritizedScore } = await setup();
    const heard: string[] = [];
    store.onCancelRequested((id) => heard.push(id));
    // The subscription is made on first use: let it connect before the cancel.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { parent, children } = await waiting(4);
    const [k1, k2, k3, k4] = children as [string, string, string, string];
    for (const id of [k1, k2]) expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(id);
    expect(await store.cancel(parent, T0 + 3)).toBe('cancelled');
    for (const id of [k3, k4]) {
      expect(await store.get(id)).toMatchObject({ state: 'cancelled', reason: `parent ${parent} was cancelled` });
      expect(await prioritizedScore(id)).toBeNull();
      expect(await bullState(id)).toBe('unknown');
    }
    for (const id of [k1, k2]) expect(await store.get(id)).toMatchObject({ state: 'running', cancel_requested: true });
    await expect.poll(() => [...heard].sort(), { timeout: 2000 }).toEqual([k1, k2].sort());
  });

  it('a failing child: its running siblings hear the cancel; the parent ends failed', async () => {
    const { store, waiting } = await setup();
    const heard: string[] = [];
    store.onCancelRequested((id) => heard.push(id));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { parent, children } = await waiting(2);
    const [k1, k2] = children as [string, string];
    for (const id of [k1, k2]) expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(id);
    expect(await store.finish(k1, 'w2', { state: 'failed', reason: 'boom' }, T0 + 3)).toBe('ok');
    expect(await store.get(parent)).toMatchObject({ state: 'failed', reason: `child ${k1} (chunk) failed: boom` });
    await expect.poll(() => heard, { timeout: 2000 }).toEqual([k2]);
  });
});

describe('flows: one round trip for a child\'s report', () => {
  it('the last child\'s finishAndPoll (fast path) resumes the parent and hands it out as a poll would, ahead of a lower-priority job', async () => {
    const { store, waiting, submit, drain } = await setup();
    const { parent, children } = await waiting(1, { priority: 5, childPriority: 9 });
    expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(children[0]);
    const low = await submit(1);
    const redis = internals(store).redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const name = commandOf('finish-lease');
    const original = redis[name]!;
    let fastPath = 0;
    redis[name] = function (this: unknown, ...args: unknown[]) {
      fastPath++;
      return original.apply(this, args);
    };
    try {
      const next = await store.finishAndPoll(children[0]!, 'w2', { state: 'completed' }, T0 + 3, LEASE_MS);
      expect(fastPath).toBe(1);
      expect(next).toMatchObject({ result: 'ok', job: { job_id: parent, state: 'running', attempts: 1, worker_id: 'w2' } });
    } finally {
      redis[name] = original;
    }
    expect(await store.get(low)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await drain('w3', T0 + 4)).toEqual([low]);
  });

  it('a higher-priority job is the one handed out; the parent waits its turn', async () => {
    const { store, waiting, submit, drain } = await setup();
    const { parent, children } = await waiting(1, { priority: 5, childPriority: 9 });
    expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(children[0]);
    const high = await submit(8);
    const next = await store.finishAndPoll(children[0]!, 'w2', { state: 'completed' }, T0 + 3, LEASE_MS);
    expect(next).toMatchObject({ result: 'ok', job: { job_id: high, attempts: 1 } });
    expect(await drain('w3', T0 + 4)).toEqual([parent]);
  });
});

describe('flows: the outbox', () => {
  it('children queued by the wait whose BullMQ add did not happen are added by the lease sweep, in order', async () => {
    const { store, raw, keys, warnings, waiting, failOnce, drain } = await setup();
    failOnce('addBulk');
    const { parent, children } = await waiting(3);
    expect(await store.get(parent)).toMatchObject({ state: 'waiting-children' });
    expect(warnings.join('\n')).toContain('the process died here');
    expect(await store.queueLength()).toBe(3);
    expect(await drain('w2', T0 + 2)).toEqual([]); // not in BullMQ
    expect(await raw.zrange(keys.outbox, 0, -1)).toEqual(expect.arrayContaining(children));
    // Young entries are left to the process that queued them.
    await store.expireLeases(T0 + 1 + OUTBOX_SWEEP_AGE_MS - 1, MAX_ATTEMPTS);
    expect(await drain('w2', T0 + 2)).toEqual([]);
    expect(await store.expireLeases(T0 + 2 + OUTBOX_SWEEP_AGE_MS, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
    expect(await raw.zcard(keys.outbox)).toBe(0);
    expect(await drain('w2', T0 + 3)).toEqual(children);
  });

  it('a parent resumed by a script whose BullMQ add did not happen is added by the sweep at the head of its priority', async () => {
    const { store, raw, keys, waiting, submit, failOnce, drain } = await setup();
    const { parent, children } = await waiting(1, { priority: 2, childPriority: 7 });
    expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(children[0]);
    const other = await submit(2);
    failOnce('add');
    expect(await store.finish(children[0]!, 'w2', { state: 'completed' }, T0 + 3)).toBe('ok');
    expect(await store.get(parent)).toMatchObject({ state: 'queued' });
    expect(await raw.zrange(keys.outbox, 0, -1)).toEqual([parent]);
    await store.expireLeases(T0 + 3 + OUTBOX_SWEEP_AGE_MS, MAX_ATTEMPTS);
    expect(await raw.zcard(keys.outbox)).toBe(0);
    expect(await drain('w3', T0 + 4)).toEqual([parent, other]);
  });

  it('an entry whose job is no longer queued (cancelled meanwhile) is dropped without adding anything', async () => {
    const { store, raw, keys, waiting, failOnce, bullState } = await setup();
    failOnce('addBulk');
    const { parent, children } = await waiting(2);
    expect(await store.cancel(parent, T0 + 2)).toBe('cancelled');
    await store.expireLeases(T0 + 2 + OUTBOX_SWEEP_AGE_MS, MAX_ATTEMPTS);
    expect(await raw.zcard(keys.outbox)).toBe(0);
    for (const id of children) expect(await bullState(id)).toBe('unknown');
  });

  it('a parent whose BullMQ job was not taken out when it began to wait (a crash) is handed out once it resumes', async () => {
    const { prefix, store, raw, waiting, drain } = await setup();
    const moves = internals(store).moves;
    const retire = moves.retire;
    moves.retire = async () => undefined; // the process died before taking the parent out of BullMQ
    const { parent, children } = await waiting(1);
    moves.retire = retire;
    expect(await drain('w2', T0 + 2)).toEqual(children);
    expect(await store.finish(children[0]!, 'w2', { state: 'completed' }, T0 + 3)).toBe('ok');
    expect(await store.get(parent)).toMatchObject({ state: 'queued' });
    // Still active and locked by the old lease in BullMQ: once the lock lapses, BullMQ's stalled check gives it back.
    await raw.del(`${prefix}:jobs:${toBullmqId(parent)}:lock`);
    for (let i = 0; i < 2; i++) {
      await raw.del(`${prefix}:jobs:stalled-check`);
      await internals(store).bull.fetcher.moveStalledJobsToWait();
    }
    expect(await drain('w3', T0 + 4)).toEqual([parent]);
  });
});

describe('flows: keys', () => {
  it('the flow keys are named as store-keys.ts names them; purging the parent deletes them, the outbox is empty', async () => {
    const { store, raw, keys, waiting, submit } = await setup();
    const plain = await submit();
    expect((await store.lease('w0', LEASE_MS, T0))?.job_id).toBe(plain);
    expect(await store.finish(plain, 'w0', { state: 'completed' }, T0)).toBe('ok');
    const { parent, children, finallyId } = await waiting(2, { finally: true });
    expect(await raw.lrange(keys.children(parent), 0, -1)).toEqual(children);
    expect((await raw.smembers(keys.dependencies(parent))).sort()).toEqual([...children].sort());
    expect(await raw.hget(keys.finally(parent), 'parent_id')).toBe(parent);
    expect((await store.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(children[0]);
    expect(await store.finish(children[0]!, 'w2', { state: 'failed', reason: 'x' }, T0 + 3)).toBe('ok');
    expect(await raw.hkeys(keys.processed(parent))).toEqual(expect.arrayContaining(children));
    expect(await raw.exists(keys.finally(parent))).toBe(0);
    expect(await raw.lrange(keys.children(parent), 0, -1)).toEqual([...children, finallyId]);
    expect(await raw.zcard(keys.outbox)).toBe(0);
    // A job that is nobody's child and never waited has none of them.
    for (const key of [keys.children(plain), keys.dependencies(plain), keys.processed(plain), keys.finally(plain)]) expect(await raw.exists(key)).toBe(0);

    expect(await store.purge('failed', { before: T0 + 1_000_000 }, 10)).toBe(2); // the parent and its failed child
    expect(await store.get(parent)).toBeUndefined();
    for (const key of [keys.children(parent), keys.dependencies(parent), keys.processed(parent), keys.finally(parent)]) expect(await raw.exists(key)).toBe(0);
    expect(await store.childResults(parent)).toEqual([]);
  });
});

describe('flows: what the contract leaves to the store', () => {
  it('a job whose cancel was asked for while it ran and that then waits ends cancelled at once, with its children; its finally job is queued', async () => {
    const { store, newJob, submit, drain, bullState } = await setup();
    const parent = await submit();
    expect((await store.lease('w1', LEASE_MS, T0))?.job_id).toBe(parent);
    expect(await store.cancel(parent, T0 + 1)).toBe('requested');
    const children = [newJob(), newJob()];
    const cleanup = newJob(0, 'finally');
    expect(await store.waitForChildren(parent, 'w1', { result: {}, task_index: 0, children, finally: cleanup }, T0 + 2)).toBe('ok');
    expect(await store.get(parent)).toMatchObject({ state: 'cancelled', reason: 'cancelled', flow: { pending: 0, finally_id: cleanup.job_id } });
    for (const child of children) {
      expect(await store.get(child.job_id)).toMatchObject({ state: 'cancelled', reason: `parent ${parent} was cancelled` });
      expect(await bullState(child.job_id)).toBe('unknown');
    }
    expect(await drain('w2', T0 + 3)).toEqual([cleanup.job_id]);
  });

  it('filtered listings: waiting-children by title and worker filter, all jobs by title; finished leaves the waiting parent out', async () => {
    const { store, waiting } = await setup();
    const { parent, children } = await waiting(2);
    const title = (await store.get(parent))!.job_title;
    expect((await store.list({ limit: 10, state: 'waiting-children', title })).jobs.map((j) => j.job_id)).toEqual([parent]);
    expect((await store.list({ limit: 10, state: 'waiting-children', title: 'nothing like it' })).jobs).toEqual([]);
    expect((await store.list({ limit: 10, state: 'waiting-children', since: T0 - 1 })).jobs.map((j) => j.job_id)).toEqual([parent]);
    expect((await store.list({ limit: 10, title })).jobs.map((j) => j.job_id)).toEqual([parent]);
    expect((await store.list({ limit: 10, title: 'chunk' })).jobs.map((j) => j.job_id).sort()).toEqual([...children].sort());
    expect((await store.list({ limit: 10, state: 'finished', title })).jobs).toEqual([]);
    expect((await store.list({ limit: 10, state: 'finished' })).jobs).toEqual([]);
    // It keeps its last holder while it waits (nobody's once it resumes).
    expect((await store.list({ limit: 10, state: 'waiting-children', workerId: 'w1' })).jobs.map((j) => j.job_id)).toEqual([parent]);
    expect((await store.list({ limit: 10, state: 'waiting-children', workerId: 'w2' })).jobs).toEqual([]);
  });
});
