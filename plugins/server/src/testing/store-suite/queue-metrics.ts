import { describe, expect, it } from 'vitest';
import type { QueueMetricsStore } from '../../store/queue-metrics.js';
import { LEASE, MAX_ATTEMPTS, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/**
 * The optional metrics part (`QueueStore.metrics`, see `queue-metrics.ts`):
 * totals that add up, whole or not, across calls and concurrent calls, and
 * the queue's depth per priority. For stores that have the part.
 */
export function describeQueueMetrics(fixture: StoreFixture, options: { persistence?: boolean } = {}): void {
  const { store, submit } = fixture;
  const metrics = (): QueueMetricsStore => {
    expect(store.metrics, 'the store has a metrics part').toBeDefined();
    return store.metrics!;
  };

  describe('metrics part', () => {
    it('keeps nothing at first, and adds increments to their keys', async () => {
      expect(await metrics().read()).toEqual({});
      await metrics().record({ 'a{}': 1, 'b{"x":"1"}': 2.5 });
      await metrics().record({ 'a{}': 2, 'c{}': 0.25 });
      await metrics().record({});
      expect(await metrics().read()).toEqual({ 'a{}': 3, 'b{"x":"1"}': 2.5, 'c{}': 0.25 });
    });

    it('keeps keys as given (quotes, backslashes, non-Latin text) and adds fractions to whole numbers', async () => {
      const key = `sisyphus_x_total${JSON.stringify({ module: TRICKY })}`;
      await metrics().record({ [key]: 1 });
      await metrics().record({ [key]: 0.5 });
      await metrics().record({ [key]: 2 });
      expect(await metrics().read()).toEqual({ [key]: 3.5 });
    });

    it('concurrent records all count', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => metrics().record({ 'n{}': 1, [`k${i % 4}{}`]: 1 })));
      expect(await metrics().read()).toEqual({ 'n{}': 20, 'k0{}': 5, 'k1{}': 5, 'k2{}': 5, 'k3{}': 5 });
    });

    it('counts the queued jobs per priority, highest first, up to a number of priorities', async () => {
      expect(await metrics().queuedByPriority(10)).toEqual([]);
      await submit(2, 5);
      await submit(3, 0);
      await submit(1, -3);
      await submit(1, 7);
      expect(await metrics().queuedByPriority(10)).toEqual([
        { priority: 7, count: 1 },
        { priority: 5, count: 2 },
        { priority: 0, count: 3 },
        { priority: -3, count: 1 },
      ]);
      expect(await metrics().queuedByPriority(2)).toEqual([
        { priority: 7, count: 1 },
        { priority: 5, count: 2 },
      ]);
      expect(await metrics().queuedByPriority(0)).toEqual([]);
    });

    it('follows the queue: leased jobs leave it, requeued ones come back, a priority change moves a job', async () => {
      const [high] = await submit(1, 9);
      const [a, b] = (await submit(2, 1)) as [string, string];
      expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(high);
      expect(await metrics().queuedByPriority(10)).toEqual([{ priority: 1, count: 2 }]);
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [high], failed: [] });
      expect(await metrics().queuedByPriority(10)).toEqual([
        { priority: 9, count: 1 },
        { priority: 1, count: 2 },
      ]);
      expect(await store.setPriority(b, -2)).toBe('ok');
      expect(await store.cancel(a, T0)).toBe('cancelled');
      expect(await metrics().queuedByPriority(10)).toEqual([
        { priority: 9, count: 1 },
        { priority: -2, count: 1 },
      ]);
    });

    if (options.persistence) {
      it('keeps the totals across a close and reopen', async () => {
        await metrics().record({ 'kept{}': 4.5 });
        await fixture.reopen();
        expect(await metrics().read()).toEqual({ 'kept{}': 4.5 });
      });
    }
  });
}
