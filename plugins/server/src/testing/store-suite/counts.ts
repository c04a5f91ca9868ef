import { describe, expect, it } from 'vitest';
import { LEASE, MAX_ATTEMPTS, T0, type StoreFixture } from './store-fixture.js';

/** `counts`: queued and running now, finished per final state at or after a time. */
export function describeCounts(fixture: StoreFixture): void {
  const { store, submit } = fixture;

  describe('counts', () => {
    it('answers zeros for an empty store', async () => {
      expect(await store.counts(0)).toEqual({ queued: 0, running: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 });
    });

    it('counts queued and running jobs whenever added, and finished ones at or after the time', async () => {
      const S = T0 + 100_000;
      const [c1, c2, c3, f1, f2, x1, r1, r2, expiring] = (await submit(9)) as string[];
      // Leases that outlast every time of the test, but the one that expires on purpose.
      for (let n = 0; n < 9; n++) await store.lease('w1', 1_000 * LEASE, T0);
      // Before the time: one of each final state; at it and after: the rest.
      expect(await store.finish(c1!, 'w1', { state: 'completed' }, S - 1)).toBe('ok');
      expect(await store.finish(c2!, 'w1', { state: 'completed' }, S)).toBe('ok');
      expect(await store.finish(c3!, 'w1', { state: 'completed' }, S + 5000)).toBe('ok');
      expect(await store.finish(f1!, 'w1', { state: 'failed', reason: 'x' }, S - 5000)).toBe('ok');
      expect(await store.finish(f2!, 'w1', { state: 'failed', reason: 'x' }, S + 1)).toBe('ok');
      expect(await store.finish(x1!, 'w1', { state: 'cancelled' }, S - 1)).toBe('ok');
      // Failed by the lease sweep (its last attempt) and cancelled while queued, both after the time.
      expect(await store.renew(expiring!, 'w1', LEASE, S - LEASE)).toBe(true);
      for (let n = 1; n < MAX_ATTEMPTS; n++) {
        expect(await store.expireLeases(S + n * 10, MAX_ATTEMPTS)).toEqual({ requeued: [expiring], failed: [] });
        expect((await store.lease('w1', 1, S + n * 10))?.job_id).toBe(expiring);
      }
      expect(await store.expireLeases(S + 1000, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [expiring] });
      const [q1, q2, xq] = (await submit(3)) as string[];
      expect(await store.cancel(xq!, S + 2000)).toBe('cancelled');
      expect(new Set([(await store.get(r1!))?.state, (await store.get(r2!))?.state, (await store.get(q1!))?.state, (await store.get(q2!))?.state])).toEqual(
        new Set(['running', 'queued']),
      );

      expect(await store.counts(S)).toEqual({ queued: 2, running: 2, waiting: 0, completed: 2, failed: 2, cancelled: 1 });
      expect(await store.counts(S + 1)).toEqual({ queued: 2, running: 2, waiting: 0, completed: 1, failed: 2, cancelled: 1 });
      expect(await store.counts(0)).toEqual({ queued: 2, running: 2, waiting: 0, completed: 3, failed: 3, cancelled: 2 });
      expect(await store.counts(S + 1_000_000)).toEqual({ queued: 2, running: 2, waiting: 0, completed: 0, failed: 0, cancelled: 0 });
    });

    it('follows the queue: leased, requeued, removed and cleared jobs', async () => {
      const ids = await submit(4);
      await store.lease('w1', LEASE, T0);
      expect(await store.counts(T0)).toMatchObject({ queued: 3, running: 1 });
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [ids[0]], failed: [] });
      expect(await store.counts(T0)).toMatchObject({ queued: 4, running: 0 });
      expect(await store.remove(ids[1]!)).toBe(true);
      expect(await store.counts(T0)).toMatchObject({ queued: 3, running: 0 });
      await store.clear();
      expect(await store.counts(T0)).toEqual({ queued: 0, running: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 });
    });
  });
}
