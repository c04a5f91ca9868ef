import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportJob, type JobReport } from '../../queue/job-report.js';
import { encodeCursor } from '../../store/list-paging.js';
import type { StoredJob } from '../../store/queue-store.js';
import { isStoreError } from '../../store/store-error.js';
import { expectStoreError } from './expect-store-error.js';
import { LEASE, MAX_ATTEMPTS, T0, type StoreFixture } from './store-fixture.js';

const done: JobReport = { failed: false, info: { completed: true } };
const failed: JobReport = { failed: true, info: { completed: false, message: 'boom' } };
const requeue: JobReport = { failed: true, info: { completed: false, requeue: true } };

/** Texts no listing makes: not base64url JSON, JSON of the wrong kind, a cursor of an order no store uses. */
const FOREIGN_CURSORS = [
  'garbage',
  '!!!',
  Buffer.from('null').toString('base64url'),
  Buffer.from('[1,2]').toString('base64url'),
  Buffer.from('{"m":"q"}').toString('base64url'),
  encodeCursor('another-order', { s: 1, id: 'x', p: 1, k: 1 }),
];

/**
 * Every refusal is a `StoreError` with the code of its case, the same on
 * every store (the server maps codes to statuses): `SIS_JOB_EXISTS`,
 * `SIS_BAD_CURSOR`, and through the queue rules over the store (`reportJob`)
 * `SIS_JOB_NOT_FOUND` and `SIS_LEASE_LOST`.
 */
export function describeErrorCodes(fixture: StoreFixture): void {
  const { store, newJob, submit, queuedIds, getJob } = fixture;

  describe('error codes: SIS_JOB_EXISTS', () => {
    it('submit of an id that is taken rejects with SIS_JOB_EXISTS and changes nothing, in every state', async () => {
      const first = newJob(1);
      const stored = await store.submit(first);
      const again = { ...newJob(7), job_id: first.job_id };
      await expectStoreError(store.submit(again), 'SIS_JOB_EXISTS');
      expect(await store.get(first.job_id)).toEqual(stored);
      expect(await queuedIds()).toEqual([first.job_id]);
      // Running and finished jobs keep their id too.
      const running = await store.lease('w1', LEASE, T0);
      await expectStoreError(store.submit(again), 'SIS_JOB_EXISTS');
      expect(await store.get(first.job_id)).toEqual(running);
      expect(await store.finish(first.job_id, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      const finished = await getJob(first.job_id);
      await expectStoreError(store.submit(again), 'SIS_JOB_EXISTS');
      expect(await store.get(first.job_id)).toEqual(finished);
      expect(await store.queueLength()).toBe(0);
    });

    it('of 10 concurrent submits of one id exactly one resolves, every other rejects with SIS_JOB_EXISTS', async () => {
      const id = randomUUID();
      const jobs = Array.from({ length: 10 }, (_, i) => ({ ...newJob(i), job_id: id }));
      const settled = await Promise.allSettled(jobs.map((job) => store.submit(job)));
      const resolved = settled.filter((s): s is PromiseFulfilledResult<StoredJob> => s.status === 'fulfilled');
      const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(resolved).toHaveLength(1);
      expect(rejected).toHaveLength(9);
      for (const { reason } of rejected) {
        expect(isStoreError(reason, 'SIS_JOB_EXISTS'), `a loser rejected with ${String(reason)}`).toBe(true);
        expect((reason as { code?: unknown }).code).toBe('SIS_JOB_EXISTS');
      }
      // The job stored (and queued once) is the winner's.
      const winner = resolved[0]!.value;
      expect(await store.get(id)).toEqual(winner);
      expect(await queuedIds()).toEqual([id]);
      expect(await store.queueLength()).toBe(1);
      expect((await store.lease('w1', LEASE, T0))?.job_title).toBe(winner.job_title);
      expect(await store.lease('w1', LEASE, T0)).toBeUndefined();
    });
  });

  describe('error codes: SIS_BAD_CURSOR', () => {
    /** A store with finished and queued jobs, and a cursor of each listing order. */
    async function cursors(): Promise<{ newest: string; completed: string; queued: string; documents: string }> {
      const ids = await submit(3);
      for (const id of ids) {
        expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(id);
        expect(await store.finish(id, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      }
      await submit(3);
      const newest = (await store.list({ limit: 1 })).next;
      const completed = (await store.list({ state: 'completed', limit: 1 })).next;
      const queued = (await store.list({ state: 'queued', limit: 1 })).next;
      const documents = (await store.queuedDocuments({ limit: 1 })).next;
      expect([newest, completed, queued, documents]).toEqual([expect.any(String), expect.any(String), expect.any(String), expect.any(String)]);
      return { newest: newest!, completed: completed!, queued: queued!, documents: documents! };
    }

    it('list rejects a cursor it did not make, and one of the other order, with SIS_BAD_CURSOR', async () => {
      const made = await cursors();
      for (const cursor of FOREIGN_CURSORS) {
        await expectStoreError(store.list({ limit: 5, cursor }), 'SIS_BAD_CURSOR');
        await expectStoreError(store.list({ state: 'completed', limit: 5, cursor }), 'SIS_BAD_CURSOR');
        await expectStoreError(store.list({ state: 'queued', limit: 5, cursor }), 'SIS_BAD_CURSOR');
      }
      // A newest-first cursor does not page the queue, and a queue cursor does not page newest first.
      for (const cursor of [made.newest, made.completed]) await expectStoreError(store.list({ state: 'queued', limit: 5, cursor }), 'SIS_BAD_CURSOR');
      for (const cursor of [made.queued, made.documents]) {
        await expectStoreError(store.list({ limit: 5, cursor }), 'SIS_BAD_CURSOR');
        await expectStoreError(store.list({ state: 'completed', limit: 5, cursor }), 'SIS_BAD_CURSOR');
      }
      // Its own cursors still page.
      expect((await store.list({ limit: 5, cursor: made.newest })).jobs).toHaveLength(5);
      expect((await store.list({ state: 'queued', limit: 5, cursor: made.queued })).jobs).toHaveLength(2);
    });

    it('queuedDocuments rejects a cursor it did not make, and a newest-first one, with SIS_BAD_CURSOR', async () => {
      const made = await cursors();
      for (const cursor of [...FOREIGN_CURSORS, made.newest, made.completed]) {
        await expectStoreError(store.queuedDocuments({ limit: 5, cursor }), 'SIS_BAD_CURSOR');
      }
      expect((await store.queuedDocuments({ limit: 5, cursor: made.documents })).documents).toHaveLength(2);
    });
  });

  describe('error codes: reportJob (the queue rules over the store)', () => {
    const options = (workerId: string | undefined, now: number, next = false) => ({ workerId, now, leaseMs: LEASE, ...(next ? { next } : {}) });

    it('a report of an unknown job rejects with SIS_JOB_NOT_FOUND', async () => {
      await submit(1);
      for (const report of [done, failed, requeue]) {
        for (const workerId of ['w1', undefined]) await expectStoreError(reportJob(store, randomUUID(), report, options(workerId, T0)), 'SIS_JOB_NOT_FOUND');
        await expectStoreError(reportJob(store, randomUUID(), report, options('w1', T0, true)), 'SIS_JOB_NOT_FOUND');
      }
      // Nothing was leased on the way.
      expect(await store.queueLength()).toBe(1);
    });

    it('a report of a worker that lost its lease to another worker rejects with SIS_LEASE_LOST and changes nothing', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      // Another worker reporting w1's job.
      for (const report of [done, failed, requeue]) await expectStoreError(reportJob(store, a!, report, options('w2', T0 + 1)), 'SIS_LEASE_LOST');
      // w1's lease runs out, w2 gets the job: w1's reports are refused, with or without asking for the next job.
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
      expect((await store.lease('w2', LEASE, T0 + LEASE + 2))?.job_id).toBe(a);
      const held = await getJob(a!);
      for (const report of [done, failed, requeue]) {
        await expectStoreError(reportJob(store, a!, report, options('w1', T0 + LEASE + 3)), 'SIS_LEASE_LOST');
        await expectStoreError(reportJob(store, a!, report, options('w1', T0 + LEASE + 3, true)), 'SIS_LEASE_LOST');
      }
      expect(await store.get(a!)).toEqual(held);
      expect(await queuedIds()).toEqual([b]);
      // The holder's report goes through.
      expect(await reportJob(store, a!, done, options('w2', T0 + LEASE + 4))).toEqual({ state: 'completed' });
      expect(await getJob(a!)).toMatchObject({ state: 'completed', worker_id: 'w2', attempts: 2 });
    });

    it('a report of a job that finished already rejects with SIS_LEASE_LOST and keeps the first outcome', async () => {
      const [a] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await reportJob(store, a!, done, options('w1', T0 + 1))).toEqual({ state: 'completed' });
      const first = await getJob(a!);
      for (const report of [done, failed, requeue]) {
        for (const workerId of ['w1', undefined]) {
          if (report === done && workerId === 'w1') continue; // the very same report again: see below
          await expectStoreError(reportJob(store, a!, report, options(workerId, T0 + 2)), 'SIS_LEASE_LOST');
        }
      }
      expect(await store.get(a!)).toEqual(first);
    });

    it('the same report sent again by its worker (its answer was lost) is accepted and changes nothing', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await reportJob(store, a!, done, options('w1', T0 + 1))).toEqual({ state: 'completed' });
      const first = await getJob(a!);
      expect(await reportJob(store, a!, done, options('w1', T0 + 2))).toEqual({ state: 'completed' });
      expect(await reportJob(store, a!, done, { ...options('w1', T0 + 3), next: true })).toEqual({ state: 'completed' });
      expect(await store.get(a!)).toEqual(first);
      expect(await queuedIds()).toEqual([b]); // the resent report with next leased nothing
      // Another worker's copy of it, or a different report, is still refused.
      await expectStoreError(reportJob(store, a!, done, options('w2', T0 + 4)), 'SIS_LEASE_LOST');
      await expectStoreError(reportJob(store, a!, { failed: false, info: { ...done.info, runtime: 99 } }, options('w1', T0 + 4)), 'SIS_LEASE_LOST');
    });

    it("the last holder's report of a requeued job not leased again is accepted: completed, gone from the queue", async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
      expect(await store.queueLength()).toBe(2);
      const late = { failed: false, info: { completed: true, late: true } };
      expect(await reportJob(store, a!, late, options('w1', T0 + LEASE + 2))).toEqual({ state: 'completed' });
      expect(await getJob(a!)).toMatchObject({ state: 'completed', worker_id: 'w1', attempts: 1, result: late.info });
      expect(await queuedIds()).toEqual([b]);
      expect(await store.queueLength()).toBe(1);
      expect((await store.queuedDocuments({ limit: 10 })).documents.map((d) => (JSON.parse(d) as { job_id: string }).job_id)).toEqual([b]);
      expect((await store.lease('w2', LEASE, T0 + LEASE + 3))?.job_id).toBe(b);
      expect(await store.lease('w2', LEASE, T0 + LEASE + 3)).toBeUndefined();
    });

    it('a report after the worker gave the job back (requeue) rejects with SIS_LEASE_LOST', async () => {
      const [a] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await reportJob(store, a!, requeue, options('w1', T0 + 1))).toEqual({ state: 'queued' });
      const released = await getJob(a!);
      expect(released).toMatchObject({ state: 'queued', attempts: 1 });
      for (const report of [done, failed, requeue]) {
        await expectStoreError(reportJob(store, a!, report, options('w1', T0 + 2)), 'SIS_LEASE_LOST');
        await expectStoreError(reportJob(store, a!, report, options('w1', T0 + 2, true)), 'SIS_LEASE_LOST');
      }
      expect(await store.get(a!)).toEqual(released);
      expect(await queuedIds()).toEqual([a]);
    });
  });
}
