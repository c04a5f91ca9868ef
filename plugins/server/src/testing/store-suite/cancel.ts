import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** `cancel` of queued, running, finished and unknown jobs. */
export function describeCancel(fixture: StoreFixture): void {
  const { store, submit, leaseAll, queuedIds, getJob } = fixture;

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
}
