/**
 * Interleavings of the Redis store's two-step operations (our Lua script, then
 * a BullMQ move) with other clients, driven deterministically: two store
 * instances on one prefix, raw Redis commands, and a hook that runs another
 * client's steps between a store's script and the BullMQ move that follows it.
 *
 * The ones not named "safe:" lost a job, handed one out twice or broke a sweep
 * before the BullMQ lock was handed over inside RELEASE/EXPIRE (and never
 * moved with token '0'), RENEW took a lapsed lock again and a lease refused a
 * job whose lease is alive.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqStore, type BullmqStoreOptions } from '../src/bullmq-store.js';
import { commandOf, type ScriptName } from '../src/lua-scripts.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);
const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 5;

const prefixes = new Set<string>();
const stores: BullmqStore[] = [];
const raws: Redis[] = [];
const unhooks: Array<() => void> = [];

afterEach(async () => {
  while (unhooks.length) unhooks.pop()!();
  for (const store of stores.splice(0)) await store.close();
  for (const raw of raws.splice(0)) await raw.quit();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

/** A fresh prefix with `n` store instances on it (stalled check off: the tests run it by hand) and a raw connection. */
async function setup(n: number, options: Partial<BullmqStoreOptions> = {}) {
  const prefix = `sis-race-${randomUUID()}`;
  prefixes.add(prefix);
  const opened: BullmqStore[] = [];
  for (let i = 0; i < n; i++) {
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false, ...options });
    stores.push(store);
    opened.push(store);
  }
  const raw = new Redis(URL);
  raws.push(raw);
  let count = 0;
  const submit = async (jobId: string, priority = 0) => {
    count++;
    await opened[0]!.submit({ job_id: jobId, job_title: jobId, job: { jobId }, priority, added: new Date(T0 + count).toISOString() });
    return jobId;
  };
  /** BullMQ's state of a job ('completed', 'active', 'prioritized', 'wait', 'unknown', ...). */
  const bullState = (jobId: string) => internals(opened[0]!).bull.queue.getJobState(jobId);
  /** One run of BullMQ's stalled check, as the timer of any instance runs it (the guard key is dropped so it runs now). */
  const stalledCheck = async () => {
    await raw.del(`${prefix}:jobs:stalled-check`);
    await internals(opened[0]!).bull.fetcher.moveStalledJobsToWait();
  };
  /** Lease until nothing comes; the ids in hand-out order. */
  const drain = async (store: BullmqStore, workerId: string, now: number) => {
    const ids: string[] = [];
    for (let job = await store.lease(workerId, LEASE_MS, now); job; job = await store.lease(workerId, LEASE_MS, now)) {
      ids.push(job.job_id);
      if (ids.length > 20) break;
    }
    return ids;
  };
  return { prefix, stores: opened, raw, submit, bullState, stalledCheck, drain };
}

type Internals = {
  redis: Redis;
  bull: {
    queue: { getJobState(id: string): Promise<string>; getJobCounts(...types: string[]): Promise<Record<string, number>> };
    fetcher: { moveStalledJobsToWait(): Promise<void> };
  };
};
const internals = (store: BullmqStore) => store as unknown as Internals;

type Command = (this: unknown, ...keysAndArgs: unknown[]) => Promise<unknown>;

/**
 * Run `step` once, when `store` next runs `script` (an ioredis command on the
 * store's own connection, wrapped there): before the script (`'before'`) or
 * after its reply arrived and before the store goes on (`'after'`, i.e.
 * between the script and the BullMQ move that follows it).
 */
function hook(script: ScriptName, store: BullmqStore, when: 'before' | 'after', step: () => Promise<unknown>): void {
  const commands = internals(store).redis as unknown as Record<string, Command>;
  const name = commandOf(script);
  const original = commands[name]!;
  let fired = false;
  commands[name] = async function (this: unknown, ...keysAndArgs: unknown[]) {
    if (fired) return original.apply(this, keysAndArgs);
    fired = true;
    if (when === 'before') {
      await step();
      return original.apply(this, keysAndArgs);
    }
    const reply = await original.apply(this, keysAndArgs);
    await step();
    return reply;
  };
  unhooks.push(() => {
    commands[name] = original;
  });
}

const completed = { state: 'completed', result: { ok: true } } as const;

describe('bullmq store races: a release racing the holder\'s one-round-trip report', () => {
  it('a report arriving between RELEASE and its BullMQ move (two instances) loses nothing: the release took the lock', async () => {
    const { stores: [a, b], submit, bullState, drain } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    expect((await a!.lease('w', LEASE_MS, T0))?.job_id).toBe(x); // a remembers x's token for w: its reports take the fast path
    let report: unknown;
    // b gives x back (a requeue report of w, or one without worker id) ...
    hook('release', b!, 'after', async () => {
      // ... and w's completion reaches a after b's RELEASE script, before b's moveToWait(token).
      report = await a!.finishAndPoll(x, 'w', completed, T0 + 1, LEASE_MS);
    });
    expect(await b!.release(x, undefined, T0 + 1)).toBe('ok');
    expect(report).toEqual({ result: 'lease-lost' }); // the record says: released, not completed
    expect((await b!.get(x))?.state).toBe('queued');
    // The record says queued, so BullMQ must still hand x out. It does not: a's move (sent with the
    // token before FINISH decided) completed x in BullMQ, and b's moveToWait then found nothing active.
    expect.soft(await bullState(x), 'BullMQ state of a queued job').not.toBe('completed');
    expect(await drain(b!, 'w2', T0 + 2), 'every queued job is handed out').toEqual([x, y]);
  });

  it('release and the holder\'s one-round-trip report at once on one instance lose nothing', async () => {
    const { stores: [a], submit, bullState, drain } = await setup(1);
    const x = await submit('job-x');
    const y = await submit('job-y');
    expect((await a!.lease('w', LEASE_MS, T0))?.job_id).toBe(x);
    // Two requests in flight at once (e.g. a stopping worker's requeue and its completion, or an
    // anonymous late requeue): RELEASE leaves first, the fast path's move overtakes release's moveToWait.
    const [released, report] = await Promise.all([a!.release(x, undefined, T0 + 1), a!.finishAndPoll(x, 'w', completed, T0 + 1, LEASE_MS)]);
    expect(released).toBe('ok');
    expect(report).toEqual({ result: 'lease-lost' });
    expect((await a!.get(x))?.state).toBe('queued');
    expect.soft(await bullState(x), 'BullMQ state of a queued job').not.toBe('completed');
    expect(await drain(a!, 'w2', T0 + 2), 'every queued job is handed out').toEqual([x, y]);
  });

  it('safe: a release that completes before the report makes the report lease-lost and moves nothing', async () => {
    const { stores: [a, b], submit, drain } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    await a!.lease('w', LEASE_MS, T0);
    expect(await b!.release(x, 'w', T0 + 1)).toBe('ok');
    expect(await a!.finishAndPoll(x, 'w', completed, T0 + 2, LEASE_MS)).toEqual({ result: 'lease-lost' });
    expect(await drain(b!, 'w2', T0 + 3)).toEqual([x, y]);
  });
});

describe('bullmq store races: the lease sweeper\'s token-less BullMQ moves', () => {
  it('a stalled check and a new lease between EXPIRE and the sweep\'s move do not hand the job out twice', async () => {
    const { stores: [a, b], submit, stalledCheck, bullState } = await setup(2);
    const x = await submit('job-x');
    expect((await b!.lease('w1', 1000, T0))?.job_id).toBe(x);
    await stalledCheck(); // any instance's timer: marks every active job as possibly stalled (w1 has not renewed since)
    let second: string | undefined;
    // a's sweeper: EXPIRE requeues x and drops its BullMQ lock; before a's moveToWait('0') leaves ...
    hook('expire', a!, 'after', async () => {
      await stalledCheck(); // ... the next stalled check finds x without a lock and moves it to wait,
      second = (await b!.lease('w2', LEASE_MS, T0 + 2000))?.job_id; // and w2 leases it, with a new lock.
    });
    expect(await a!.expireLeases(T0 + 2000, MAX_ATTEMPTS)).toEqual({ requeued: [x], failed: [] });
    // Today w2 gets x in the gap (second === x), and its lease is alive until T0 + 62 000. But a's
    // moveToWait('0') then took x out of `active` (token '0' skips the lock check) and queued it again.
    const third = (await b!.lease('w3', LEASE_MS, T0 + 2001))?.job_id;
    // Whether x went to w2 in the gap or to w3 after the sweep: once, not twice.
    expect([second, third].filter((id) => id === x), 'x handed out while w2 holds it').toHaveLength(1);
    expect((await b!.get(x))?.worker_id).toBe(second === x ? 'w2' : 'w3');
    expect(await bullState(x)).toBe('active');
  });

  it('the sweep\'s move of a cancelled job cannot hit a lease in progress', async () => {
    const { stores: [a, b], submit, stalledCheck, bullState } = await setup(2);
    const x = await submit('job-x');
    expect((await b!.lease('w1', 1000, T0))?.job_id).toBe(x);
    expect(await b!.cancel(x, T0 + 1)).toBe('requested');
    await stalledCheck();
    let fetched!: () => void;
    const reachedLease = new Promise<void>((resolve) => (fetched = resolve));
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    let polling: Promise<unknown> | undefined;
    hook('expire', a!, 'after', async () => {
      await stalledCheck(); // x keeps the lock EXPIRE handed to the sweep: it stays active
      // b's poll is about to run LEASE ...
      hook('lease', b!, 'before', async () => {
        fetched();
        await gate;
      });
      polling = b!.lease('w2', LEASE_MS, T0 + 2000).then(
        (job) => job?.job_id,
        (error: unknown) => error,
      );
      await Promise.race([reachedLease, polling]);
    });
    // ... while a's sweep moves x to failed with the lock EXPIRE handed it.
    expect(await a!.expireLeases(T0 + 2000, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [x] });
    go();
    // x is cancelled: b's poll just finds nothing (LEASE only takes jobs its ready indexes name: never x).
    expect(await polling).toBeUndefined();
    expect((await a!.get(x))?.state).toBe('cancelled');
    expect(await bullState(x)).not.toBe('active');
  });

  it('a requeued job cancelled before the sweep moves it does not stop the sweep', async () => {
    const { stores: [a, b], submit, drain } = await setup(2);
    const x = await submit('job-x');
    const z = await submit('job-z');
    await b!.lease('w1', 1000, T0);
    await b!.lease('w2', 1000, T0);
    // Right after EXPIRE requeued x (record queued, lock dropped), a user cancels it: CANCEL and
    // BullMQ's remove succeed (no lock), so a's moveToWait('0') finds no job and throws.
    hook('expire', a!, 'after', async () => {
      expect(await b!.cancel(x, T0 + 1500)).toBe('cancelled');
    });
    await expect(a!.expireLeases(T0 + 2000, MAX_ATTEMPTS)).resolves.toMatchObject({ requeued: expect.arrayContaining([z]) });
    expect((await a!.get(z))?.state).toBe('queued');
    expect(await drain(b!, 'w3', T0 + 2001)).toEqual([z]);
  });

  it('safe: a stalled check between EXPIRE and its requeue with no new lease in between keeps the job once', async () => {
    const { stores: [a, b], submit, stalledCheck, drain } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    await b!.lease('w1', 1000, T0);
    await stalledCheck();
    hook('expire', a!, 'after', stalledCheck);
    expect(await a!.expireLeases(T0 + 2000, MAX_ATTEMPTS)).toEqual({ requeued: [x], failed: [] });
    expect(await drain(b!, 'w2', T0 + 2001)).toEqual([x, y]);
  });
});

describe('bullmq store races: a lease renewed after its BullMQ lock ran out', () => {
  it('a lease renewed after its lock ran out takes the lock again: the stalled check leaves the job alone', async () => {
    // Short locks (lease 100 ms + grace 100 ms) stand in for the usual 30 s + 30 s: e.g. Redis was away
    // for longer than lease + grace, and the worker's heartbeat comes back before any sweep runs.
    const { stores: [a, b], submit, stalledCheck } = await setup(2, { leaseMs: 100, lockGraceMs: 100 });
    const x = await submit('job-x');
    expect((await a!.lease('w1', 100, T0))?.job_id).toBe(x);
    await new Promise((resolve) => setTimeout(resolve, 400)); // the BullMQ lock (200 ms, wall clock) runs out
    // No sweep yet: the record still says running, held by w1, so the renew is accepted (as the contract
    // says) and w1's lease is alive again until T0 + 60 300. Its extendLock finds no lock and is ignored.
    expect(await a!.renew(x, 'w1', LEASE_MS, T0 + 300)).toBe(true);
    expect(await a!.expireLeases(T0 + 400, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
    await stalledCheck(); // marks x
    await stalledCheck(); // x has no lock: back to wait
    const other = await b!.lease('w2', LEASE_MS, T0 + 500);
    expect(other?.job_id, 'x handed to w2 while w1 holds a live lease').toBeUndefined();
    expect((await a!.get(x))?.worker_id).toBe('w1');
  });
});

describe('bullmq store races: a job BullMQ gives back while its lease is alive', () => {
  /** Lease x to w1, then lose its BullMQ lock and let two stalled checks put it back in `wait`. */
  async function givenBack(n: number) {
    const ctx = await setup(n);
    const x = await ctx.submit('job-x');
    expect((await ctx.stores[0]!.lease('w1', LEASE_MS, T0))?.job_id).toBe(x);
    await ctx.raw.del(`${ctx.prefix}:jobs:${x}:lock`); // e.g. lapsed during an outage, after the renewal
    await ctx.stalledCheck();
    await ctx.stalledCheck();
    expect(await ctx.bullState(x)).toBe('waiting');
    return { ...ctx, x };
  }
  const holderLockIsBack = async (raw: Redis, prefix: string, x: string) =>
    expect(await raw.get(`${prefix}:jobs:${x}:lock`)).toBe(await raw.hget(`${prefix}:sis:job:${x}`, 'lock_token'));

  it('a poll does not take it; the holder\'s next renewal makes it active again, locked with its token', async () => {
    const { stores: [a, b], raw, prefix, x } = await givenBack(2);
    expect(await b!.lease('w2', LEASE_MS, T0 + 1)).toBeUndefined();
    expect(await a!.get(x)).toMatchObject({ state: 'running', worker_id: 'w1', attempts: 1 });
    expect(await b!.renew(x, 'w1', LEASE_MS, T0 + 2)).toBe(true);
    await holderLockIsBack(raw, prefix, x);
    expect(await internals(a!).bull.queue.getJobState(x)).toBe('active');
    expect(await a!.finish(x, 'w1', completed, T0 + 3)).toBe('ok');
    expect(await internals(a!).bull.queue.getJobState(x)).toBe('completed');
  });

  it('a report that leases the next job does not take it either', async () => {
    const { stores: [a], raw, prefix, submit, x } = await givenBack(1);
    const y = await submit('job-y');
    expect((await a!.lease('w2', LEASE_MS, T0 + 1))?.job_id).toBe(y);
    // w2's report with the next job: x waits in BullMQ's wait list, but our record says it is w1's.
    expect(await a!.finishAndPoll(y, 'w2', completed, T0 + 2, LEASE_MS)).toEqual({ result: 'ok' });
    expect(await a!.get(x)).toMatchObject({ state: 'running', worker_id: 'w1', attempts: 1 });
    expect(await a!.renew(x, 'w1', LEASE_MS, T0 + 3)).toBe(true);
    await holderLockIsBack(raw, prefix, x);
    expect(await a!.finishAndPoll(x, 'w1', completed, T0 + 4, LEASE_MS)).toEqual({ result: 'ok' });
    expect(await internals(a!).bull.queue.getJobState(x)).toBe('completed');
  });

  it('a finish without a renewal first takes it out of BullMQ\'s wait list', async () => {
    const { stores: [a, b], x, drain } = await givenBack(2);
    expect(await b!.finish(x, 'w1', completed, T0 + 1)).toBe('ok');
    expect(await internals(a!).bull.queue.getJobState(x)).toBe('unknown');
    expect(await drain(a!, 'w2', T0 + 2)).toEqual([]);
  });
});

describe('bullmq store races: late reports after a lease was lost', () => {
  it('safe: the old holder\'s fast report after expiry, requeue and a new lease on another instance changes nothing', async () => {
    const { stores: [a, b], submit, bullState } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    expect((await a!.lease('w1', 1000, T0))?.job_id).toBe(x); // a keeps w1's token for x
    expect(await b!.expireLeases(T0 + 2000, MAX_ATTEMPTS)).toEqual({ requeued: [x], failed: [] });
    expect((await b!.lease('w2', LEASE_MS, T0 + 2001))?.job_id).toBe(x);
    expect(await a!.finishAndPoll(x, 'w1', completed, T0 + 2002, LEASE_MS)).toEqual({ result: 'lease-lost' });
    expect(await bullState(x)).toBe('active');
    expect(await bullState(y)).toBe('prioritized');
    expect(await b!.finishAndPoll(x, 'w2', completed, T0 + 2003, LEASE_MS)).toMatchObject({ result: 'ok', job: { job_id: y, worker_id: 'w2' } });
    expect(await bullState(x)).toBe('completed');
  });

  it('safe: the old holder\'s fast report after expiry with the job still queued is recorded and the job leaves BullMQ\'s queue', async () => {
    const { stores: [a, b], submit, drain, bullState } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    await a!.lease('w1', 1000, T0);
    await b!.expireLeases(T0 + 2000, MAX_ATTEMPTS);
    // The last holder of a requeued job not leased again still holds it (an outage longer than the lease).
    const report = await a!.finishAndPoll(x, 'w1', completed, T0 + 2001, LEASE_MS);
    expect(report).toMatchObject({ result: 'ok', job: { job_id: y } });
    expect((await b!.get(x))?.state).toBe('completed');
    expect(await bullState(x)).not.toBe('prioritized');
    expect(await drain(b!, 'w2', T0 + 2002)).toEqual([]);
  });

  it('safe: a report after a release is not the last holder\'s: lease-lost, the job stays queued', async () => {
    const { stores: [a, b], submit, drain } = await setup(2);
    const x = await submit('job-x');
    await a!.lease('w1', LEASE_MS, T0);
    expect(await b!.release(x, 'w1', T0 + 1)).toBe('ok');
    expect(await a!.finishAndPoll(x, 'w1', completed, T0 + 2, LEASE_MS)).toEqual({ result: 'lease-lost' });
    expect(await drain(b!, 'w2', T0 + 3)).toEqual([x]);
  });

  it('safe: the same worker re-leased on another instance reports through the instance with its stale token', async () => {
    const { stores: [a, b], submit, bullState } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    await a!.lease('w1', 1000, T0); // a remembers token T1
    await b!.expireLeases(T0 + 2000, MAX_ATTEMPTS);
    expect((await b!.lease('w1', LEASE_MS, T0 + 2001))?.job_id).toBe(x); // new token T2, held by b
    // The report reaches a: its move with T1 fails (lock is T2), FINISH is w1's and goes through.
    const report = await a!.finishAndPoll(x, 'w1', completed, T0 + 2002, LEASE_MS);
    expect(report).toMatchObject({ result: 'ok', job: { job_id: y, worker_id: 'w1' } });
    expect(await bullState(x)).toBe('completed');
    expect(await bullState(y)).toBe('active');
    expect(await internals(a!).bull.queue.getJobCounts('active', 'prioritized', 'wait')).toEqual({ active: 1, prioritized: 0, wait: 0 });
  });

  it('safe: a finish by anyone else between its FINISH and its BullMQ move, overtaken by the holder\'s fast report', async () => {
    const { stores: [a, b], submit, bullState, drain } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    await a!.lease('w', LEASE_MS, T0);
    let report: unknown;
    hook('finish', b!, 'after', async () => {
      report = await a!.finishAndPoll(x, 'w', completed, T0 + 2, LEASE_MS);
    });
    expect(await b!.finish(x, undefined, { state: 'failed', reason: 'decided by the server' }, T0 + 1)).toBe('ok');
    expect(report).toEqual({ result: 'lease-lost' });
    expect((await b!.get(x))?.state).toBe('failed');
    expect(['completed', 'failed']).toContain(await bullState(x));
    expect(await drain(b!, 'w2', T0 + 3)).toEqual([y]);
  });
});

describe('bullmq store races: cancel, remove and the stalled check against a lease', () => {
  it('safe: a cancel right before a lease: the next job is handed out, the cancelled one left BullMQ', async () => {
    const { stores: [a, b], submit, bullState } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    hook('lease', a!, 'before', async () => {
      expect(await b!.cancel(x, T0 + 1)).toBe('cancelled');
    });
    expect((await a!.lease('w', LEASE_MS, T0 + 2))?.job_id).toBe(y);
    expect((await a!.get(x))?.state).toBe('cancelled');
    expect(await bullState(x)).toBe('unknown');
  });

  it('safe: a remove right before a lease: nothing is handed out, the job left BullMQ too', async () => {
    const { stores: [a, b], submit, bullState } = await setup(2);
    const x = await submit('job-x');
    hook('lease', a!, 'before', async () => {
      expect(await b!.remove(x)).toBe(true);
    });
    expect(await a!.lease('w', LEASE_MS, T0 + 2)).toBeUndefined();
    expect(await a!.get(x)).toBeUndefined();
    expect(await bullState(x)).toBe('unknown');
  });

  it('safe: stalled checks around a lease leave the locked job alone', async () => {
    const { stores: [a, b], submit, stalledCheck, bullState } = await setup(2);
    const x = await submit('job-x');
    hook('lease', a!, 'before', async () => {
      await stalledCheck();
      await stalledCheck();
    });
    expect((await a!.lease('w', LEASE_MS, T0))?.job_id).toBe(x);
    await stalledCheck();
    expect(await bullState(x)).toBe('active');
    expect(await b!.lease('w2', LEASE_MS, T0 + 1)).toBeUndefined();
  });

  it('safe: the fast path after the script cache was flushed (Redis restart) finishes and leases once', async () => {
    const { stores: [a, b], submit, raw, bullState } = await setup(2);
    const x = await submit('job-x');
    const y = await submit('job-y');
    const z = await submit('job-z');
    await a!.lease('w', LEASE_MS, T0);
    await raw.script('FLUSH');
    expect(await a!.finishAndPoll(x, 'w', completed, T0 + 1, LEASE_MS)).toMatchObject({ result: 'ok', job: { job_id: y, worker_id: 'w' } });
    expect(await bullState(x)).toBe('completed');
    expect(await bullState(y)).toBe('active');
    expect((await b!.lease('w2', LEASE_MS, T0 + 2))?.job_id).toBe(z);
    expect(await b!.lease('w3', LEASE_MS, T0 + 2)).toBeUndefined();
  });
});
