import { describe, expect, it } from 'vitest';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** `setPriority`: a queued job moves among the jobs of its new priority by submission order. */
export function describeSetPriority(fixture: StoreFixture): void {
  const { store, submit, leaseAll, queuedIds, getJob } = fixture;

  describe('setPriority', () => {
    it('moves a queued job to its place among the new priority by submission order', async () => {
      const [a, b, c] = await submit(3, 0);
      const [d, e] = await submit(2, 5);
      expect(await queuedIds()).toEqual([d, e, a, b, c]);
      // b was submitted before d and e: it goes ahead of them.
      expect(await store.setPriority(b!, 5)).toBe('ok');
      expect(await queuedIds()).toEqual([b, d, e, a, c]);
      expect(await getJob(b!)).toMatchObject({ state: 'queued', priority: 5 });
      // e was submitted after c: it goes behind it.
      expect(await store.setPriority(e!, 0)).toBe('ok');
      expect(await queuedIds()).toEqual([b, d, a, c, e]);
      // A priority of its own, above and below everyone.
      expect(await store.setPriority(c!, 9)).toBe('ok');
      expect(await store.setPriority(d!, -1)).toBe('ok');
      expect(await queuedIds()).toEqual([c, b, a, e, d]);
      // The queued documents and leases follow the new order.
      const documents = (await store.queuedDocuments({ limit: 100 })).documents.map((text) => (JSON.parse(text) as { job_id: string }).job_id);
      expect(documents).toEqual([c, b, a, e, d]);
      expect(await leaseAll('w1')).toEqual([c, b, a, e, d]);
    });

    it('keeps the place of a job given its own priority again', async () => {
      const [a, b, c] = await submit(3, 2);
      expect(await store.setPriority(b!, 2)).toBe('ok');
      expect(await queuedIds()).toEqual([a, b, c]);
      expect(await store.setPriority(a!, 1)).toBe('ok');
      expect(await store.setPriority(a!, 2)).toBe('ok');
      expect(await queuedIds()).toEqual([a, b, c]);
    });

    it('pages the queue in the new order', async () => {
      const ids = await submit(6, 0);
      for (const id of ids.filter((_, n) => n % 2)) expect(await store.setPriority(id, 3)).toBe('ok');
      const expected = [...ids.filter((_, n) => n % 2), ...ids.filter((_, n) => n % 2 === 0)];
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ state: 'queued', limit: 2, ...(cursor ? { cursor } : {}) });
        paged.push(...page.jobs.map((j) => j.job_id));
        cursor = page.next;
      } while (cursor);
      expect(paged).toEqual(expected);
    });

    it('refuses running and finished jobs (not-queued) and unknown ones (not-found), changing nothing', async () => {
      const [running, done, cancelled, queued] = await submit(4, 1);
      await store.lease('w1', LEASE, T0);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      expect(await store.cancel(cancelled!, T0 + 2)).toBe('cancelled');
      for (const id of [running!, done!, cancelled!]) {
        const before = await getJob(id);
        expect(await store.setPriority(id, 7)).toBe('not-queued');
        expect(await store.get(id)).toEqual(before);
      }
      expect(await store.setPriority('no-such-job', 7)).toBe('not-found');
      expect(await store.get('no-such-job')).toBeUndefined();
      expect(await queuedIds()).toEqual([queued]);
      expect(await getJob(queued!)).toMatchObject({ priority: 1 });
    });
  });
}
