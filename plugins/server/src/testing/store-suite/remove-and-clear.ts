import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { queuedJobs } from '../queued-jobs.js';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** `remove` and `clear`: queued jobs only, with their records. */
export function describeRemoveAndClear(fixture: StoreFixture): void {
  const { store, submit, queuedIds, getJob } = fixture;

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
      expect(await queuedJobs(store)).toEqual([]);
      for (const id of queued) expect(await store.get(id)).toBeUndefined();
      for (const job of kept) expect(await store.get(job.job_id)).toEqual(job);
      expect(await store.lease('w1', LEASE, T0)).toBeUndefined();
      // The queue still works afterwards.
      const [next] = await submit(1);
      expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(next);
    });

    it('clear() on an empty queue is fine', async () => {
      await store.clear();
      expect(await queuedJobs(store)).toEqual([]);
    });
  });
}
