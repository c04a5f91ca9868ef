import { describe, expect, it } from 'vitest';
import type { JobState } from '../../store/queue-store.js';
import { T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** `list`: paging, state filters and the order of each listing. */
export function describeList(fixture: StoreFixture): void {
  const { store, newJob, submit, leaseAll, queuedIds, getJob, listAll } = fixture;

  describe('list', () => {
    /** 25 jobs: 10 queued (two priorities), 5 running, 4 completed, 3 failed, 3 cancelled. */
    async function populate(): Promise<Record<JobState, string[]>> {
      const byState: Record<JobState, string[]> = { queued: [], running: [], 'waiting-children': [], completed: [], failed: [], cancelled: [] };
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
}
