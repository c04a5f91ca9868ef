import { describe, expect, it } from 'vitest';
import type { StoredJob } from '../../store/queue-store.js';
import { queuedJobs } from '../queued-jobs.js';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** Lease order (priority, FIFO, each job once) and `poll` (lease unless the queue or the worker is disabled). */
export function describeLeaseOrder(fixture: StoreFixture): void {
  const { store, newJob, submit, leaseAll, queuedIds, getJob } = fixture;

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
      expect(await queuedJobs(store)).toEqual([]);
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
      const queued = await queuedJobs(store);
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
      expect(await queuedJobs(store)).toEqual([]);
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
}
