import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobState, NewJob, QueueStore, StoredJob } from '../store/queue-store.js';

/** Options of {@link describeQueueStore}. */
export interface QueueStoreSuiteOptions {
  /**
   * Open the store that the last `open()` (or `reopen()`) returned again, after
   * it was closed. When given, the suite checks that everything survives a
   * close and reopen.
   */
  reopen?: () => Promise<QueueStore> | QueueStore;
}

/** Any fixed epoch; the suite passes times in and never sleeps. */
const T0 = Date.UTC(2026, 0, 1);
const LEASE = 60_000;
const EXPIRY = 30_000;
const MAX_ATTEMPTS = 3;

/** A string that breaks naive escaping: HTML specials, quotes, a backslash, non-Latin and astral characters. */
const TRICKY = 'Tom & Jerry <b>"quoted"</b> \'single\' \\ back ü ß 日本語 🎬 \u2028 end';

/**
 * Register the {@link QueueStore} conformance suite (a vitest `describe`
 * block) for one implementation. `open` must return a fresh, empty store each
 * time it is called; the suite closes it after each test.
 *
 * Conventions the suite relies on beyond the interface text:
 * - `lease('')` (an empty worker id) is an anonymous lease: `worker_id` stays
 *   unset, as for a poll by an original client.
 * - `started_at` / `finished_at` are the ISO form of the `now` passed in.
 * - A running job whose cancel was requested is not requeued when its lease
 *   expires: it ends as `cancelled` (its id is among `failed`, the jobs that
 *   left the queue for good).
 * - `worker(id, now)` of a worker whose heartbeat expired answers `status: {}`
 *   (the heartbeat is gone, as in the original) with its attributes.
 * - A worker counts as having attributes (and stays listed when expired) once
 *   `setWorkerAttributes` was called for it.
 *
 * @example
 * describeQueueStore('sqlite :memory:', () => openSqliteStore(':memory:'));
 */
export function describeQueueStore(
  name: string,
  open: () => Promise<QueueStore> | QueueStore,
  options: QueueStoreSuiteOptions = {},
): void {
  describe(`QueueStore conformance: ${name}`, () => {
    let store: QueueStore;
    let count = 0;

    beforeEach(async () => {
      count = 0;
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    /** A new job; `added` grows by one second per job. */
    function newJob(priority = 0, extra: Record<string, unknown> = {}): NewJob {
      count++;
      const job_id = randomUUID();
      const added = new Date(T0 + count * 1000).toISOString();
      const job_title = `job ${count}`;
      return {
        job_id,
        job_title,
        priority,
        added,
        job: { job_title, tasks: [{ module: 'cleanup', data: { delete: [`/tmp/${count}`] } }], job_id, added, ...extra },
      };
    }

    async function submit(n: number, priority = 0): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await store.submit(newJob(priority))).job_id);
      return ids;
    }

    async function leaseAll(workerId: string, now = T0): Promise<string[]> {
      const ids: string[] = [];
      for (let job = await store.lease(workerId, LEASE, now); job; job = await store.lease(workerId, LEASE, now)) {
        ids.push(job.job_id);
      }
      return ids;
    }

    async function queuedIds(): Promise<string[]> {
      return (await store.queued()).map((j) => j.job_id);
    }

    async function getJob(id: string): Promise<StoredJob> {
      const job = await store.get(id);
      expect(job, `job ${id}`).toBeDefined();
      return job!;
    }

    async function listAll(state: JobState | undefined, limit: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit, ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) });
        pages++;
        expect(page.jobs.length).toBeLessThanOrEqual(limit);
        if (page.next !== undefined) expect(page.jobs.length).toBe(limit);
        for (const job of page.jobs) {
          if (state) expect(job.state).toBe(state);
          ids.push(job.job_id);
        }
        cursor = page.next;
        expect(pages).toBeLessThan(1000);
      } while (cursor !== undefined);
      return { ids, pages };
    }

    describe('submit and get', () => {
      it('stores a queued job and answers it by id', async () => {
        const input = newJob(3);
        const stored = await store.submit(input);
        expect(stored).toMatchObject({
          job_id: input.job_id,
          job_title: input.job_title,
          job: input.job,
          state: 'queued',
          priority: 3,
          added: input.added,
          attempts: 0,
        });
        expect(stored.worker_id).toBeUndefined();
        expect(stored.lease_expires).toBeUndefined();
        expect(stored.finished_at).toBeUndefined();
        expect(stored.cancel_requested).toBeFalsy();
        expect(await store.get(input.job_id)).toEqual(stored);
      });

      it('answers undefined for an unknown id', async () => {
        expect(await store.get(randomUUID())).toBeUndefined();
      });

      it('round-trips the job document exactly (nesting, unicode, HTML specials)', async () => {
        const input = newJob(0, {
          nested: { a: [1, 2.5, -3, { b: [true, false, null] }], empty: {}, list: [] },
          text: TRICKY,
          [TRICKY]: 'key too',
          big: Number.MAX_SAFE_INTEGER,
        });
        input.job_title = TRICKY;
        await store.submit(input);
        const job = await getJob(input.job_id);
        expect(job.job).toEqual(input.job);
        expect(job.job_title).toBe(TRICKY);
        expect((await store.queued())[0]!.job).toEqual(input.job);
        expect((await store.lease('w1', LEASE, T0))!.job).toEqual(input.job);
      });
    });

    describe('lease order', () => {
      it('hands out FIFO within a priority, then nothing', async () => {
        const ids = await submit(5);
        expect(await leaseAll('w1')).toEqual(ids);
        expect(await store.lease('w1', LEASE, T0)).toBeUndefined();
      });

      it('hands out higher priorities first, FIFO within each', async () => {
        const low = await store.submit(newJob(0));
        const high1 = await store.submit(newJob(10));
        const neg = await store.submit(newJob(-5));
        const mid = await store.submit(newJob(5));
        const high2 = await store.submit(newJob(10));
        const order = [high1, high2, mid, low, neg].map((j) => j.job_id);
        expect(await queuedIds()).toEqual(order);
        expect(await leaseAll('w1')).toEqual(order);
      });

      it('answers undefined on an empty queue', async () => {
        expect(await store.lease('w1', LEASE, T0)).toBeUndefined();
      });

      it('marks the leased job running, held by the worker until now + leaseMs', async () => {
        const [id] = await submit(1);
        const job = await store.lease('w1', LEASE, T0 + 5);
        expect(job).toMatchObject({ job_id: id, state: 'running', worker_id: 'w1', attempts: 1, lease_expires: T0 + 5 + LEASE });
        expect(Date.parse(job!.started_at!)).toBe(T0 + 5);
        expect(await store.get(id!)).toEqual(job);
        expect(await store.queued()).toEqual([]);
      });

      it('leases anonymously for an empty worker id', async () => {
        const [id] = await submit(1);
        const job = await store.lease('', LEASE, T0);
        expect(job).toMatchObject({ job_id: id, state: 'running', attempts: 1 });
        expect(job!.worker_id).toBeUndefined();
      });

      it('queued() lists exactly the queued jobs in hand-out order', async () => {
        const a = await store.submit(newJob(0));
        const b = await store.submit(newJob(1));
        const c = await store.submit(newJob(0));
        await store.submit(newJob(2)); // leased below
        expect((await store.lease('w1', LEASE, T0))!.priority).toBe(2);
        const queued = await store.queued();
        expect(queued.map((j) => j.job_id)).toEqual([b.job_id, a.job_id, c.job_id]);
        expect(queued.every((j) => j.state === 'queued')).toBe(true);
      });

      it('hands out each job exactly once to 50 concurrent callers', async () => {
        const ids = await submit(20);
        const leased = await Promise.all(Array.from({ length: 50 }, (_, i) => store.lease(`w${i}`, LEASE, T0)));
        const got = leased.filter((j): j is StoredJob => j !== undefined);
        expect(got).toHaveLength(20);
        expect(new Set(got.map((j) => j.job_id)).size).toBe(20);
        expect([...got.map((j) => j.job_id)].sort()).toEqual([...ids].sort());
        for (const job of got) expect(job.attempts).toBe(1);
        // Each job is recorded as held by the caller it was handed to.
        for (let i = 0; i < 50; i++) {
          const job = leased[i];
          if (job) expect((await getJob(job.job_id)).worker_id).toBe(`w${i}`);
        }
        expect(await store.queued()).toEqual([]);
      });
    });

    describe('lease expiry', () => {
      it('leaves unexpired leases alone', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.expireLeases(T0 + LEASE - 1, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
        expect((await getJob(id!)).state).toBe('running');
      });

      it('requeues an expired job at the head of the queue, counting the attempt', async () => {
        const [a, b, c] = await submit(3);
        await store.lease('w1', LEASE, T0);
        expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
        const job = await getJob(a!);
        expect(job.state).toBe('queued');
        expect(job.attempts).toBe(1);
        expect(job.lease_expires).toBeUndefined();
        expect(await queuedIds()).toEqual([a, b, c]);
        const again = await store.lease('w2', LEASE, T0 + LEASE + 2);
        expect(again).toMatchObject({ job_id: a, attempts: 2, worker_id: 'w2', state: 'running' });
      });

      it('requeues at the head of its own priority only', async () => {
        const h1 = (await store.submit(newJob(5))).job_id;
        const l1 = (await store.submit(newJob(0))).job_id;
        const l2 = (await store.submit(newJob(0))).job_id;
        expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(h1);
        expect((await store.lease('w2', LEASE, T0))!.job_id).toBe(l1);
        const h2 = (await store.submit(newJob(5))).job_id;
        const { requeued, failed } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
        expect([...requeued].sort()).toEqual([h1, l1].sort());
        expect(failed).toEqual([]);
        expect(await queuedIds()).toEqual([h1, h2, l1, l2]);
      });

      it('puts several expired jobs ahead of the jobs that were waiting', async () => {
        const [a, b, c] = await submit(3);
        await store.lease('w1', LEASE, T0);
        await store.lease('w2', LEASE, T0);
        const { requeued } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
        expect([...requeued].sort()).toEqual([a, b].sort());
        const order = await queuedIds();
        expect(order.slice(0, 2).sort()).toEqual([a, b].sort());
        expect(order[2]).toBe(c);
      });

      it('fails a job whose lease expired maxAttempts times, naming the attempts', async () => {
        const [id] = await submit(1);
        let now = T0;
        for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
          expect((await store.lease(`w${attempt}`, LEASE, now))!.attempts).toBe(attempt);
          now += LEASE + 1;
          expect(await store.expireLeases(now, MAX_ATTEMPTS)).toEqual({ requeued: [id], failed: [] });
        }
        expect((await store.lease('wlast', LEASE, now))!.attempts).toBe(MAX_ATTEMPTS);
        now += LEASE + 1;
        expect(await store.expireLeases(now, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [id] });
        const job = await getJob(id!);
        expect(job.state).toBe('failed');
        expect(job.attempts).toBe(MAX_ATTEMPTS);
        expect(job.reason).toEqual(expect.stringContaining(String(MAX_ATTEMPTS)));
        expect(Date.parse(job.finished_at!)).toBe(now);
        expect(job.lease_expires).toBeUndefined();
        expect(await store.queued()).toEqual([]);
        expect(await store.lease('w1', LEASE, now)).toBeUndefined();
        // Nothing left to expire.
        expect(await store.expireLeases(now + 10 * LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
      });

      it('fails at once with maxAttempts 1', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.expireLeases(T0 + LEASE + 1, 1)).toEqual({ requeued: [], failed: [id] });
        expect((await getJob(id!)).state).toBe('failed');
      });

      it('does not touch queued or finished jobs', async () => {
        const [done, queued] = await submit(2);
        await store.lease('w1', LEASE, T0);
        expect(await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
        expect(await store.expireLeases(T0 + 100 * LEASE, 1)).toEqual({ requeued: [], failed: [] });
        expect((await getJob(done!)).state).toBe('completed');
        expect((await getJob(queued!)).state).toBe('queued');
        expect((await getJob(queued!)).attempts).toBe(0);
      });

      it('does not requeue a running job whose cancel was requested', async () => {
        const [id, other] = await submit(2);
        await store.lease('w1', LEASE, T0);
        expect(await store.cancel(id!, T0 + 1)).toBe('requested');
        const { requeued, failed } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
        expect(requeued).toEqual([]);
        expect(failed).toEqual([id]);
        expect((await getJob(id!)).state).toBe('cancelled');
        expect(await queuedIds()).toEqual([other]);
      });
    });

    describe('renew', () => {
      it('extends the lease of the holder', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.renew(id!, 'w1', LEASE, T0 + 50_000)).toBe(true);
        expect((await getJob(id!)).lease_expires).toBe(T0 + 50_000 + LEASE);
        expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
        expect((await getJob(id!)).state).toBe('running');
        expect(await store.expireLeases(T0 + 50_000 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [id], failed: [] });
      });

      it('refuses another worker and leaves the lease unchanged', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.renew(id!, 'w2', LEASE, T0 + 50_000)).toBe(false);
        const job = await getJob(id!);
        expect(job.worker_id).toBe('w1');
        expect(job.lease_expires).toBe(T0 + LEASE);
      });

      it('lets the first renewer adopt an anonymous lease', async () => {
        const [id] = await submit(1);
        await store.lease('', LEASE, T0);
        expect(await store.renew(id!, 'w1', LEASE, T0 + 1000)).toBe(true);
        let job = await getJob(id!);
        expect(job.worker_id).toBe('w1');
        expect(job.lease_expires).toBe(T0 + 1000 + LEASE);
        expect(await store.renew(id!, 'w2', LEASE, T0 + 2000)).toBe(false);
        job = await getJob(id!);
        expect(job.worker_id).toBe('w1');
        expect(job.lease_expires).toBe(T0 + 1000 + LEASE);
      });

      it('refuses jobs that are not running', async () => {
        const [queued, done] = await submit(2);
        expect(await store.renew(queued!, 'w1', LEASE, T0)).toBe(false);
        expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(queued);
        // `queued` is now running; lease `done` too and finish it.
        expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(done);
        expect(await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
        expect(await store.renew(done!, 'w1', LEASE, T0 + 2)).toBe(false);
        expect(await store.renew(randomUUID(), 'w1', LEASE, T0)).toBe(false);
      });

      it('refuses the old holder after its lease expired and the job was requeued', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
        expect(await store.renew(id!, 'w1', LEASE, T0 + LEASE + 2)).toBe(false);
        expect((await getJob(id!)).state).toBe('queued');
        await store.lease('w2', LEASE, T0 + LEASE + 3);
        expect(await store.renew(id!, 'w1', LEASE, T0 + LEASE + 4)).toBe(false);
        expect(await store.renew(id!, 'w2', LEASE, T0 + LEASE + 4)).toBe(true);
      });
    });

    describe('release', () => {
      it('puts the holder\'s running job back at the head of the queue, attempts kept', async () => {
        const [a, b] = await submit(2);
        await store.lease('w1', LEASE, T0);
        expect(await store.release(a!, 'w2', T0 + 1)).toBe('lease-lost');
        expect(await store.release(a!, 'w1', T0 + 1)).toBe('ok');
        expect((await store.queued()).map((j) => j.job_id)).toEqual([a, b]);
        const again = await getJob(a!);
        expect(again.state).toBe('queued');
        expect(again.attempts).toBe(1);
        expect(again.lease_expires).toBeUndefined();
        expect(await store.release(a!, 'w1', T0 + 2)).toBe('lease-lost');
        expect(await store.release('nope', 'w1', T0 + 2)).toBe('not-found');
        expect((await store.lease('w2', LEASE, T0 + 3))?.job_id).toBe(a);
        expect((await getJob(a!)).attempts).toBe(2);
      });
    });

    describe('poll', () => {
      it('leases like lease() while the queue and the worker are enabled', async () => {
        const [a, b] = await submit(2);
        const first = await store.poll('w1', LEASE, T0);
        expect(first.blocked).toBeUndefined();
        expect(first.job?.job_id).toBe(a);
        expect(first.job?.state).toBe('running');
        expect(first.job?.worker_id).toBe('w1');
        expect(first.job?.lease_expires).toBe(T0 + LEASE);
        expect((await store.poll('', LEASE, T0)).job?.job_id).toBe(b);
        expect((await getJob(b!)).worker_id).toBeUndefined();
        expect(await store.poll('w1', LEASE, T0)).toEqual({});
      });

      it('hands out nothing while the queue is disabled, and says so', async () => {
        const [a] = await submit(1);
        await store.setQueueAttributes({ disabled: true });
        expect(await store.poll('w1', LEASE, T0)).toEqual({ blocked: 'queue' });
        expect(await store.poll('', LEASE, T0)).toEqual({ blocked: 'queue' });
        expect(await queuedIds()).toEqual([a]);
        expect((await getJob(a!)).attempts).toBe(0);
        await store.setQueueAttributes({ disabled: false });
        expect((await store.poll('w1', LEASE, T0)).job?.job_id).toBe(a);
      });

      it('hands a disabled worker nothing; others still get jobs', async () => {
        const [a] = await submit(1);
        await store.setWorkerAttributes('w1', { disabled: true });
        expect(await store.poll('w1', LEASE, T0)).toEqual({ blocked: 'worker' });
        expect(await queuedIds()).toEqual([a]);
        expect((await store.poll('w2', LEASE, T0)).job?.job_id).toBe(a);
      });
    });

    describe('finishAndPoll', () => {
      it('finishes the job and leases the next one in queue order to the same worker', async () => {
        const [a, b] = await submit(2);
        const [high] = await submit(1, 5);
        expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(high);
        const first = await store.finishAndPoll(high!, 'w1', { state: 'completed', result: { ok: 1 } }, T0 + 10, LEASE);
        expect(first.result).toBe('ok');
        expect(first.job?.job_id).toBe(a);
        expect(first.job?.worker_id).toBe('w1');
        expect(first.job?.attempts).toBe(1);
        expect(first.job?.lease_expires).toBe(T0 + 10 + LEASE);
        const done = await getJob(high!);
        expect(done.state).toBe('completed');
        expect(done.result).toEqual({ ok: 1 });
        const second = await store.finishAndPoll(a!, 'w1', { state: 'failed', result: { why: 'x' } }, T0 + 20, LEASE);
        expect(second).toMatchObject({ result: 'ok', job: { job_id: b, state: 'running' } });
        expect((await getJob(a!)).state).toBe('failed');
        expect(await store.finishAndPoll(b!, 'w1', { state: 'completed' }, T0 + 30, LEASE)).toEqual({ result: 'ok' });
        expect((await store.list({ state: 'completed', limit: 10 })).jobs.map((j) => j.job_id).sort()).toEqual([b, high].sort());
      });

      it('a refused finish leases nothing', async () => {
        const [a, b] = await submit(2);
        await store.lease('w1', LEASE, T0);
        expect(await store.finishAndPoll(a!, 'w2', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'lease-lost' });
        expect(await store.finishAndPoll('nope', 'w1', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'not-found' });
        expect(await queuedIds()).toEqual([b]);
        expect((await getJob(a!)).state).toBe('running');
      });

      it('a report from a worker that does not hold the job moves nothing: the job can still expire and run again', async () => {
        const [a, b] = await submit(2);
        await store.lease('w1', LEASE, T0);
        expect(await store.finishAndPoll(a!, 'w2', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'lease-lost' });
        // w1 dies: its lease runs out, the job goes back to the head and is handed out again.
        expect(await store.expireLeases(T0 + 2 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
        expect(await queuedIds()).toEqual([a, b]);
        const again = await store.lease('w3', LEASE, T0 + 3 + LEASE);
        expect(again).toMatchObject({ job_id: a, attempts: 2, worker_id: 'w3' });
        expect(await store.finishAndPoll(a!, 'w3', { state: 'completed' }, T0 + 4 + LEASE, LEASE)).toMatchObject({ result: 'ok', job: { job_id: b } });
        expect((await getJob(a!)).state).toBe('completed');
      });

      it('finishes but leases nothing while the queue or the worker is disabled', async () => {
        const [a, b, c] = await submit(3);
        await store.lease('w1', LEASE, T0);
        await store.setQueueAttributes({ disabled: true });
        expect(await store.finishAndPoll(a!, 'w1', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'ok', blocked: 'queue' });
        expect((await getJob(a!)).state).toBe('completed');
        expect(await queuedIds()).toEqual([b, c]);
        await store.setQueueAttributes({ disabled: false });
        expect((await store.lease('w1', LEASE, T0 + 2))?.job_id).toBe(b);
        await store.setWorkerAttributes('w1', { disabled: true });
        expect(await store.finishAndPoll(b!, 'w1', { state: 'completed' }, T0 + 3, LEASE)).toEqual({ result: 'ok', blocked: 'worker' });
        expect(await queuedIds()).toEqual([c]);
        expect((await store.poll('w2', LEASE, T0 + 4)).job?.job_id).toBe(c);
      });

      it('skips a job cancelled while queued', async () => {
        const [a, b, c] = await submit(3);
        await store.lease('w1', LEASE, T0);
        expect(await store.cancel(b!, T0 + 1)).toBe('cancelled');
        const next = await store.finishAndPoll(a!, 'w1', { state: 'completed' }, T0 + 2, LEASE);
        expect(next.job?.job_id).toBe(c);
        expect((await getJob(b!)).state).toBe('cancelled');
      });

      it('the next job is leased for real: renewed, expired and requeued like any other', async () => {
        const [a, b] = await submit(2);
        await store.lease('w1', LEASE, T0);
        const { job } = await store.finishAndPoll(a!, 'w1', { state: 'completed' }, T0 + 1, LEASE);
        expect(job?.job_id).toBe(b);
        expect(await store.renew(b!, 'w1', LEASE, T0 + 2)).toBe(true);
        expect(await store.renew(b!, 'w2', LEASE, T0 + 2)).toBe(false);
        expect(await store.expireLeases(T0 + 3 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [b], failed: [] });
        expect(await queuedIds()).toEqual([b]);
        expect((await store.lease('w2', LEASE, T0 + 4 + LEASE))?.attempts).toBe(2);
      });
    });

    describe('finish', () => {
      it('records the holder\'s outcome and result exactly', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        const result = {
          completed: true,
          start_time: '2026-11-28 02:55:14.879399+00:00',
          runtime: 12.5,
          worker: TRICKY,
          nested: { list: [1, 'two', { three: null }], flag: false },
        };
        expect(await store.finish(id!, 'w1', { state: 'completed', result }, T0 + 5000)).toBe('ok');
        const job = await getJob(id!);
        expect(job.state).toBe('completed');
        expect(job.result).toEqual(result);
        expect(job.worker_id).toBe('w1');
        expect(job.attempts).toBe(1);
        expect(Date.parse(job.finished_at!)).toBe(T0 + 5000);
        expect(job.lease_expires).toBeUndefined();
      });

      it('records failures with their reason', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        const result = { completed: false, module: 'ffmpeg', message: 'boom & <bust>' };
        expect(await store.finish(id!, 'w1', { state: 'failed', result, reason: 'RunError: boom' }, T0 + 1)).toBe('ok');
        expect(await getJob(id!)).toMatchObject({ state: 'failed', result, reason: 'RunError: boom' });
      });

      it('accepts a finish without a worker id (decided by the server)', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.finish(id!, undefined, { state: 'failed', reason: 'server said so' }, T0 + 1)).toBe('ok');
        expect(await getJob(id!)).toMatchObject({ state: 'failed', reason: 'server said so' });
      });

      it('accepts a named worker finishing an anonymous lease', async () => {
        const [id] = await submit(1);
        await store.lease('', LEASE, T0);
        expect(await store.finish(id!, 'w9', { state: 'completed', result: { completed: true } }, T0 + 1)).toBe('ok');
        expect((await getJob(id!)).state).toBe('completed');
      });

      it('answers lease-lost to another worker and changes nothing', async () => {
        const [id] = await submit(1);
        const before = await store.lease('w1', LEASE, T0);
        expect(await store.finish(id!, 'w2', { state: 'completed', result: { x: 1 } }, T0 + 1)).toBe('lease-lost');
        expect(await store.get(id!)).toEqual(before);
      });

      it('answers lease-lost to a late report after expiry and requeue, and changes nothing', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
        const requeued = await getJob(id!);
        expect(await store.finish(id!, 'w1', { state: 'completed' }, T0 + LEASE + 2)).toBe('lease-lost');
        expect(await store.get(id!)).toEqual(requeued);
        expect(requeued.state).toBe('queued');
        // Re-leased to w2: w1 is still lost, w2 finishes.
        await store.lease('w2', LEASE, T0 + LEASE + 3);
        expect(await store.finish(id!, 'w1', { state: 'failed' }, T0 + LEASE + 4)).toBe('lease-lost');
        expect(await store.finish(id!, 'w2', { state: 'completed' }, T0 + LEASE + 5)).toBe('ok');
        expect(await getJob(id!)).toMatchObject({ state: 'completed', worker_id: 'w2', attempts: 2 });
      });

      it('answers lease-lost to a second finish and keeps the first outcome', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.finish(id!, 'w1', { state: 'completed', result: { first: true } }, T0 + 1)).toBe('ok');
        const first = await getJob(id!);
        expect(await store.finish(id!, 'w1', { state: 'failed', result: { second: true } }, T0 + 2)).toBe('lease-lost');
        expect(await store.finish(id!, undefined, { state: 'failed' }, T0 + 3)).toBe('lease-lost');
        expect(await store.get(id!)).toEqual(first);
      });

      it('answers lease-lost for a job that was never leased', async () => {
        const [id] = await submit(1);
        expect(await store.finish(id!, undefined, { state: 'completed' }, T0)).toBe('lease-lost');
        expect((await getJob(id!)).state).toBe('queued');
      });

      it('answers not-found for an unknown job', async () => {
        expect(await store.finish(randomUUID(), 'w1', { state: 'completed' }, T0)).toBe('not-found');
        expect(await store.finish(randomUUID(), undefined, { state: 'completed' }, T0)).toBe('not-found');
      });

      it('stores exactly the outcome given, also for a job whose cancel was requested', async () => {
        const [a, b] = await submit(2);
        await store.lease('w1', LEASE, T0);
        await store.lease('w2', LEASE, T0);
        await store.cancel(a!, T0 + 1);
        await store.cancel(b!, T0 + 1);
        expect(await store.finish(a!, 'w1', { state: 'cancelled', reason: 'cancelled by user' }, T0 + 2)).toBe('ok');
        expect(await store.finish(b!, 'w2', { state: 'completed', result: { completed: true } }, T0 + 2)).toBe('ok');
        expect(await getJob(a!)).toMatchObject({ state: 'cancelled', reason: 'cancelled by user' });
        expect(await getJob(b!)).toMatchObject({ state: 'completed', result: { completed: true } });
      });
    });

    describe('cancel', () => {
      it('takes a queued job out of the queue as cancelled', async () => {
        const [a, b] = await submit(2);
        expect(await store.cancel(a!, T0 + 7)).toBe('cancelled');
        const job = await getJob(a!);
        expect(job.state).toBe('cancelled');
        expect(Date.parse(job.finished_at!)).toBe(T0 + 7);
        expect(job.reason).toEqual(expect.any(String));
        expect(job.reason!.length).toBeGreaterThan(0);
        expect(await queuedIds()).toEqual([b]);
        expect(await leaseAll('w1')).toEqual([b]);
      });

      it('flags a running job and leaves it running', async () => {
        const [id] = await submit(1);
        await store.lease('w1', LEASE, T0);
        expect(await store.cancel(id!, T0 + 1)).toBe('requested');
        const job = await getJob(id!);
        expect(job.state).toBe('running');
        expect(job.cancel_requested).toBe(true);
        expect(job.worker_id).toBe('w1');
        expect(await store.cancel(id!, T0 + 2)).toBe('requested');
        // The holder can still renew and report.
        expect(await store.renew(id!, 'w1', LEASE, T0 + 3)).toBe(true);
      });

      it('answers finished for completed, failed and cancelled jobs and changes nothing', async () => {
        const [c, f, x] = await submit(3);
        await store.lease('w1', LEASE, T0);
        await store.lease('w1', LEASE, T0);
        await store.finish(c!, 'w1', { state: 'completed' }, T0 + 1);
        await store.finish(f!, 'w1', { state: 'failed' }, T0 + 1);
        await store.cancel(x!, T0 + 1);
        for (const id of [c!, f!, x!]) {
          const before = await getJob(id);
          expect(await store.cancel(id, T0 + 2)).toBe('finished');
          expect(await store.get(id)).toEqual(before);
        }
      });

      it('answers not-found for an unknown job', async () => {
        expect(await store.cancel(randomUUID(), T0)).toBe('not-found');
      });
    });

    describe('list', () => {
      /** 25 jobs: 10 queued (two priorities), 5 running, 4 completed, 3 failed, 3 cancelled. */
      async function populate(): Promise<Record<JobState, string[]>> {
        const byState: Record<JobState, string[]> = { queued: [], running: [], completed: [], failed: [], cancelled: [] };
        const toRun = await submit(12, 9);
        await leaseAll('w1');
        let t = T0 + 1000;
        for (const id of toRun.slice(0, 4)) {
          await store.finish(id, 'w1', { state: 'completed', result: { completed: true } }, t++);
          byState.completed.push(id);
        }
        for (const id of toRun.slice(4, 7)) {
          await store.finish(id, 'w1', { state: 'failed', reason: 'x' }, t++);
          byState.failed.push(id);
        }
        byState.running.push(...toRun.slice(7));
        for (const id of await submit(3)) {
          await store.cancel(id, t++);
          byState.cancelled.push(id);
        }
        byState.queued.push(...(await submit(5, 0)), ...(await submit(5, 1)));
        return byState;
      }

      it('pages through every job exactly once', async () => {
        const byState = await populate();
        const all = Object.values(byState).flat();
        expect(all).toHaveLength(25);
        const { ids, pages } = await listAll(undefined, 7);
        expect(pages).toBe(4);
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual([...all].sort());
        // One big page gives the same jobs in the same order.
        const whole = await store.list({ limit: 1000 });
        expect(whole.next).toBeUndefined();
        expect(whole.jobs.map((j) => j.job_id)).toEqual(ids);
      });

      it('filters by state, paging each state completely', async () => {
        const byState = await populate();
        for (const state of Object.keys(byState) as JobState[]) {
          const { ids } = await listAll(state, 2);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort(), state).toEqual([...byState[state]].sort());
        }
      });

      it('lists queued jobs in queue order across pages', async () => {
        await populate();
        const { ids } = await listAll('queued', 3);
        expect(ids).toEqual(await queuedIds());
        expect(ids).toHaveLength(10);
      });

      it('lists finished jobs newest first', async () => {
        const [a, b, c] = await submit(3);
        await leaseAll('w1');
        await store.finish(c!, 'w1', { state: 'completed' }, T0 + 1000);
        await store.finish(a!, 'w1', { state: 'completed' }, T0 + 2000);
        await store.finish(b!, 'w1', { state: 'completed' }, T0 + 3000);
        const { ids } = await listAll('completed', 2);
        expect(ids).toEqual([b, a, c]);
      });

      it('returns full jobs in the pages', async () => {
        const input = newJob(0, { text: TRICKY });
        await store.submit(input);
        const page = await store.list({ state: 'queued', limit: 10 });
        expect(page.jobs).toEqual([await getJob(input.job_id)]);
        expect(page.jobs[0]!.job).toEqual(input.job);
      });

      it('gives no cursor on the last page, also when it is exactly full', async () => {
        await submit(4);
        const first = await store.list({ limit: 2 });
        expect(first.jobs).toHaveLength(2);
        expect(first.next).toEqual(expect.any(String));
        const second = await store.list({ limit: 2, cursor: first.next! });
        expect(second.jobs).toHaveLength(2);
        expect(second.next).toBeUndefined();
        const queuedFirst = await store.list({ state: 'queued', limit: 4 });
        expect(queuedFirst.jobs).toHaveLength(4);
        expect(queuedFirst.next).toBeUndefined();
      });

      it('rejects a cursor that is not one of its own', async () => {
        await expect(store.list({ limit: 5, cursor: 'garbage' })).rejects.toThrow(/cursor/);
        await store.submit({ job_id: 'a', job_title: 'a', job: {}, priority: 0, added: new Date(0).toISOString() });
        await store.submit({ job_id: 'b', job_title: 'b', job: {}, priority: 0, added: new Date(1).toISOString() });
        const { next } = await store.list({ limit: 1 });
        // A newest-first cursor does not page the queue.
        await expect(store.list({ state: 'queued', limit: 1, cursor: next! })).rejects.toThrow(/cursor/);
      });

      it('answers an empty page for an empty store or state', async () => {
        expect(await store.list({ limit: 10 })).toEqual({ jobs: [] });
        await submit(2);
        expect(await store.list({ state: 'failed', limit: 10 })).toEqual({ jobs: [] });
      });

      it('pages with limit 1', async () => {
        const ids = await submit(3);
        expect((await listAll('queued', 1)).ids).toEqual(ids);
        expect((await listAll(undefined, 1)).ids.sort()).toEqual([...ids].sort());
      });
    });

    describe('remove and clear', () => {
      it('removes a queued job and its record', async () => {
        const [a, b] = await submit(2);
        expect(await store.remove(a!)).toBe(true);
        expect(await store.get(a!)).toBeUndefined();
        expect(await queuedIds()).toEqual([b]);
        expect(await store.remove(a!)).toBe(false);
        expect(await store.remove(randomUUID())).toBe(false);
      });

      it('does not remove running or finished jobs', async () => {
        const [running, done, cancelled] = await submit(3);
        await store.lease('w1', LEASE, T0);
        await store.lease('w1', LEASE, T0);
        await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1);
        await store.cancel(cancelled!, T0 + 1);
        for (const id of [running!, done!, cancelled!]) {
          const before = await getJob(id);
          expect(await store.remove(id)).toBe(false);
          expect(await store.get(id)).toEqual(before);
        }
      });

      it('clear() removes every queued job and nothing else', async () => {
        const [running, done, cancelled] = await submit(3);
        await store.lease('w1', LEASE, T0);
        await store.lease('w1', LEASE, T0);
        await store.finish(done!, 'w1', { state: 'failed' }, T0 + 1);
        await store.cancel(cancelled!, T0 + 1);
        const queued = [...(await submit(3, 0)), ...(await submit(2, 4))];
        const kept = await Promise.all([running!, done!, cancelled!].map(getJob));
        await store.clear();
        expect(await store.queued()).toEqual([]);
        for (const id of queued) expect(await store.get(id)).toBeUndefined();
        for (const job of kept) expect(await store.get(job.job_id)).toEqual(job);
        expect(await store.lease('w1', LEASE, T0)).toBeUndefined();
        // The queue still works afterwards.
        const [next] = await submit(1);
        expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(next);
      });

      it('clear() on an empty queue is fine', async () => {
        await store.clear();
        expect(await store.queued()).toEqual([]);
      });
    });

    describe('queue attributes', () => {
      it('default to not disabled', async () => {
        expect(await store.queueAttributes()).toEqual({ disabled: false });
      });

      it('merge patches and answer the result', async () => {
        expect(await store.setQueueAttributes({ disabled: true })).toEqual({ disabled: true });
        expect(await store.setQueueAttributes({ note: TRICKY, nested: { a: [1] } })).toEqual({
          disabled: true,
          note: TRICKY,
          nested: { a: [1] },
        });
        expect(await store.queueAttributes()).toEqual({ disabled: true, note: TRICKY, nested: { a: [1] } });
        expect(await store.setQueueAttributes({ disabled: false })).toEqual({ disabled: false, note: TRICKY, nested: { a: [1] } });
        expect(await store.queueAttributes()).toEqual({ disabled: false, note: TRICKY, nested: { a: [1] } });
      });

      it('always carry disabled as a boolean', async () => {
        const attributes = await store.setQueueAttributes({ other: 1 });
        expect(attributes).toEqual({ disabled: false, other: 1 });
        expect(typeof (await store.queueAttributes()).disabled).toBe('boolean');
      });

      it('are not the attributes of any worker', async () => {
        await store.setQueueAttributes({ disabled: true });
        expect((await store.worker('w1', T0)).attributes).toEqual({ disabled: false });
        await store.setWorkerAttributes('w1', { disabled: true });
        await store.setQueueAttributes({ disabled: false });
        expect((await store.worker('w1', T0)).attributes.disabled).toBe(true);
      });
    });

    describe('workers', () => {
      const status = (hostname: string, extra: Record<string, unknown> = {}) => ({
        status: 'idle',
        hostname,
        version: '1.5.9',
        online_at: 'None',
        ...extra,
      });

      it('answer a never-seen worker with defaults', async () => {
        expect(await store.worker('w1', T0)).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: 0 });
        // Asking again gives the same answer.
        expect(await store.worker('w1', T0)).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: 0 });
      });

      it('store a heartbeat and answer it', async () => {
        const body = status('host-a', { job_id: 'j', progress: 42.5, info: { current_frame: 10, total_frames: 100 }, text: TRICKY });
        const record = await store.heartbeat('w1', body, T0, EXPIRY);
        expect(record).toEqual({ worker_id: 'w1', status: body, attributes: { disabled: false }, last_seen: T0 });
        expect(await store.worker('w1', T0 + 1)).toEqual(record);
        expect(await store.workers(T0 + 1)).toEqual([record]);
      });

      it('replace the status with each heartbeat', async () => {
        await store.heartbeat('w1', status('a', { job_id: 'j', progress: 10 }), T0, EXPIRY);
        const second = status('a', { status: 'in_progress' });
        const record = await store.heartbeat('w1', second, T0 + 5000, EXPIRY);
        expect(record.status).toEqual(second);
        expect(record.last_seen).toBe(T0 + 5000);
        expect((await store.worker('w1', T0 + 5001)).status).toEqual(second);
      });

      it('drop a worker whose heartbeat expired', async () => {
        await store.heartbeat('w1', status('a'), T0, EXPIRY);
        await store.heartbeat('w2', status('b'), T0 + 20_000, EXPIRY);
        expect((await store.workers(T0 + EXPIRY - 1)).map((w) => w.worker_id)).toEqual(['w1', 'w2']);
        expect((await store.workers(T0 + EXPIRY + 1)).map((w) => w.worker_id)).toEqual(['w2']);
        expect(await store.workers(T0 + 20_000 + EXPIRY + 1)).toEqual([]);
        // Still answered by id, with its attributes, but its heartbeat is gone.
        const gone = await store.worker('w1', T0 + EXPIRY + 1);
        expect(gone.worker_id).toBe('w1');
        expect(gone.status).toEqual({});
        expect(gone.attributes).toEqual({ disabled: false });
      });

      it('keep a worker alive with each heartbeat', async () => {
        await store.heartbeat('w1', status('a'), T0, EXPIRY);
        await store.heartbeat('w1', status('a'), T0 + 20_000, EXPIRY);
        expect(await store.workers(T0 + EXPIRY + 1)).toHaveLength(1);
      });

      it('sort by hostname, falling back to the worker id', async () => {
        await store.heartbeat('id-3', status('charlie'), T0, EXPIRY);
        await store.heartbeat('id-1', status('delta'), T0, EXPIRY);
        await store.heartbeat('id-2', status('alpha'), T0, EXPIRY);
        await store.heartbeat('bravo-id', { status: 'idle' }, T0, EXPIRY);
        expect((await store.workers(T0 + 1)).map((w) => w.worker_id)).toEqual(['id-2', 'bravo-id', 'id-3', 'id-1']);
      });

      it('merge attribute patches and answer the result', async () => {
        expect(await store.setWorkerAttributes('w1', { disabled: true })).toEqual({ disabled: true });
        expect(await store.setWorkerAttributes('w1', { label: TRICKY })).toEqual({ disabled: true, label: TRICKY });
        expect(await store.setWorkerAttributes('w1', { disabled: false })).toEqual({ disabled: false, label: TRICKY });
        expect((await store.worker('w1', T0)).attributes).toEqual({ disabled: false, label: TRICKY });
        expect(await store.setWorkerAttributes('w2', { other: 1 })).toEqual({ disabled: false, other: 1 });
      });

      it('keep attributes across heartbeats', async () => {
        await store.setWorkerAttributes('w1', { disabled: true });
        const record = await store.heartbeat('w1', status('a'), T0, EXPIRY);
        expect(record.attributes).toEqual({ disabled: true });
        await store.heartbeat('w1', status('a'), T0 + 1000, EXPIRY);
        expect((await store.worker('w1', T0 + 1001)).attributes).toEqual({ disabled: true });
      });

      it('list a disabled worker even when it expired or was never seen', async () => {
        await store.heartbeat('w1', status('a'), T0, EXPIRY);
        await store.heartbeat('w2', status('b'), T0, EXPIRY);
        await store.setWorkerAttributes('w1', { disabled: true });
        await store.setWorkerAttributes('w3', { disabled: true });
        const later = T0 + 10 * EXPIRY;
        const listed = await store.workers(later);
        expect(listed.map((w) => w.worker_id).sort()).toEqual(['w1', 'w3']);
        for (const w of listed) expect(w.attributes.disabled).toBe(true);
        const never = listed.find((w) => w.worker_id === 'w3')!;
        expect(never.status).toEqual({});
        expect(never.last_seen).toBe(0);
      });

      it('give every listed worker an attributes object', async () => {
        await store.heartbeat('w1', status('a'), T0, EXPIRY);
        await store.heartbeat('w2', status('b'), T0, EXPIRY);
        await store.setWorkerAttributes('w2', { disabled: true });
        for (const w of await store.workers(T0 + 1)) expect(typeof w.attributes.disabled).toBe('boolean');
      });

      it('remove a worker with its status and attributes', async () => {
        await store.heartbeat('w1', status('a'), T0, EXPIRY);
        await store.setWorkerAttributes('w1', { disabled: true });
        await store.heartbeat('w2', status('b'), T0, EXPIRY);
        expect(await store.removeWorker('w1')).toBe(true);
        expect((await store.workers(T0 + 1)).map((w) => w.worker_id)).toEqual(['w2']);
        expect(await store.worker('w1', T0 + 1)).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: 0 });
        expect(await store.removeWorker('w1')).toBe(false);
        expect(await store.removeWorker('never-seen')).toBe(false);
        // Attributes alone are enough to be removable.
        await store.setWorkerAttributes('w3', { disabled: true });
        expect(await store.removeWorker('w3')).toBe(true);
        expect(await store.workers(T0 + 1)).toHaveLength(1);
      });
    });

    describe('module data', () => {
      it('puts, gets, overwrites and deletes records', async () => {
        const record = { name: 'hevc', options: { codec: 'libx265', crf: 19, 'x265-params': { 'aq-mode': 3 } } };
        expect(await store.getData('ffmpeg', 'hevc')).toBeUndefined();
        await store.putData('ffmpeg', 'hevc', record);
        expect(await store.getData('ffmpeg', 'hevc')).toEqual(record);
        const replaced = { name: 'hevc', options: { crf: 22 } };
        await store.putData('ffmpeg', 'hevc', replaced);
        expect(await store.getData('ffmpeg', 'hevc')).toEqual(replaced);
        expect(await store.deleteData('ffmpeg', 'hevc')).toBe(true);
        expect(await store.getData('ffmpeg', 'hevc')).toBeUndefined();
        expect(await store.deleteData('ffmpeg', 'hevc')).toBe(false);
      });

      it('keeps modules apart and lists names per module', async () => {
        await store.putData('ffmpeg', 'a', { v: 1 });
        await store.putData('ffmpeg', 'b', { v: 2 });
        await store.putData('handbrake', 'a', { v: 3 });
        expect([...(await store.listData('ffmpeg'))].sort()).toEqual(['a', 'b']);
        expect(await store.listData('handbrake')).toEqual(['a']);
        expect(await store.listData('mkvmerge')).toEqual([]);
        expect(await store.getData('handbrake', 'a')).toEqual({ v: 3 });
        expect(await store.deleteData('handbrake', 'b')).toBe(false);
        expect(await store.deleteData('handbrake', 'a')).toBe(true);
        expect(await store.getData('ffmpeg', 'a')).toEqual({ v: 1 });
      });

      it('round-trips nested values, unicode and HTML specials exactly', async () => {
        const record = {
          text: TRICKY,
          deep: { a: { b: { c: [1, -2.25, 1e21, null, true, false, '', [], {}] } } },
          [TRICKY]: TRICKY,
          empty: {},
        };
        await store.putData('ffmpeg', TRICKY, record);
        expect(await store.getData('ffmpeg', TRICKY)).toEqual(record);
        expect(await store.listData('ffmpeg')).toEqual([TRICKY]);
      });
    });

    if (options.reopen) {
      const reopen = options.reopen;
      describe('persistence', () => {
        it('keeps everything across close and reopen', async () => {
          // Jobs in every state.
          const [running, completed, failed, anonymous, requeued] = await submit(5, 2);
          for (const w of ['w1', 'w1', 'w1', '', 'w2']) await store.lease(w, LEASE, T0);
          await store.finish(completed!, 'w1', { state: 'completed', result: { completed: true, worker: TRICKY } }, T0 + 1);
          await store.finish(failed!, 'w1', { state: 'failed', reason: 'RunError', result: { message: 'x' } }, T0 + 2);
          await store.cancel(running!, T0 + 3);
          await store.renew(requeued!, 'w2', 1, T0);
          expect(await store.expireLeases(T0 + 10, MAX_ATTEMPTS)).toEqual({ requeued: [requeued], failed: [] });
          const [cancelled, ...waiting] = await submit(4, 0);
          await store.cancel(cancelled!, T0 + 4);
          const ids = [running!, completed!, failed!, anonymous!, requeued!, cancelled!, ...waiting];
          // Attributes, workers, data.
          await store.setQueueAttributes({ disabled: true, note: TRICKY });
          await store.heartbeat('w1', { status: 'in_progress', hostname: 'h1', job_id: running, progress: 12.5 }, T0, EXPIRY);
          await store.heartbeat('w2', { status: 'idle', hostname: 'h2' }, T0, EXPIRY);
          await store.setWorkerAttributes('w2', { disabled: true });
          await store.setWorkerAttributes('w3', { disabled: true, why: TRICKY });
          await store.putData('ffmpeg', 'hevc', { name: 'hevc', options: { crf: 19, text: TRICKY } });
          await store.putData('mkvmerge', 'x', { a: [1, { b: null }] });

          const snapshot = async () => ({
            jobs: await Promise.all(ids.map((id) => store.get(id))),
            queued: await store.queued(),
            list: await store.list({ limit: 1000 }),
            queueAttributes: await store.queueAttributes(),
            workers: await store.workers(T0 + 1),
            workersLater: await store.workers(T0 + 10 * EXPIRY),
            w1: await store.worker('w1', T0 + 1),
            data: {
              ffmpeg: await store.listData('ffmpeg'),
              mkvmerge: await store.listData('mkvmerge'),
              hevc: await store.getData('ffmpeg', 'hevc'),
              x: await store.getData('mkvmerge', 'x'),
            },
          });
          const before = await snapshot();
          expect(new Set(before.jobs.map((j) => j!.state))).toEqual(new Set(['queued', 'running', 'completed', 'failed', 'cancelled']));
          expect(before.queued.map((j) => j.job_id)).toEqual([requeued, ...waiting]);

          await store.close();
          store = await reopen();
          expect(await snapshot()).toEqual(before);

          // And it keeps working: the queue order continues, leases are still held.
          const [late] = await submit(1, 0);
          expect(await queuedIds()).toEqual([requeued, ...waiting, late]);
          expect(await store.renew(running!, 'w1', LEASE, T0 + 20)).toBe(true);
          expect(await store.renew(running!, 'w2', LEASE, T0 + 20)).toBe(false);
          expect(await store.finish(running!, 'w1', { state: 'cancelled' }, T0 + 21)).toBe('ok');
          expect(await store.renew(anonymous!, 'w5', LEASE, T0 + 20)).toBe(true);
          expect((await store.lease('w1', LEASE, T0 + 30))!.job_id).toBe(requeued);
        });
      });
    }
  });
}
