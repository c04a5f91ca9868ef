import { describe, expect, it } from 'vitest';
import type { StoredJob } from '../../store/queue-store.js';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** Far after every finish of the suite. */
const LATER = T0 + 1_000_000_000;

/** `purge` (retention): finished jobs of one state, oldest first, in batches. */
export function describePurge(fixture: StoreFixture): void {
  const { store, newJob, submit, leaseAll, queuedIds, getJob, listAll } = fixture;

  /**
   * 5 completed (finished out of submission order; listed oldest first), 2
   * failed, 2 cancelled (one while queued, one while running), 2 running (one
   * with a cancel requested), 2 queued.
   */
  async function populate(): Promise<{ completed: string[]; failed: string[]; cancelled: string[]; running: string[]; queued: string[] }> {
    const [c1, c2, c3, c4, c5, f1, f2, x2, r1, r2] = (await submit(10)) as [string, string, string, string, string, string, string, string, string, string];
    expect(await leaseAll('w1')).toHaveLength(10);
    const completed = [c3, c1, c5, c2, c4];
    for (const [i, id] of completed.entries()) expect(await store.finish(id, 'w1', { state: 'completed' }, T0 + 1000 * (i + 1))).toBe('ok');
    expect(await store.finish(f1, 'w1', { state: 'failed', reason: 'x' }, T0 + 1500)).toBe('ok');
    expect(await store.finish(f2, 'w1', { state: 'failed', reason: 'x' }, T0 + 2500)).toBe('ok');
    expect(await store.cancel(x2, T0 + 100)).toBe('requested');
    expect(await store.finish(x2, 'w1', { state: 'cancelled', reason: 'cancelled' }, T0 + 2200)).toBe('ok');
    expect(await store.cancel(r1, T0 + 100)).toBe('requested');
    const [x1, q1, q2] = (await submit(3)) as [string, string, string];
    expect(await store.cancel(x1, T0 + 1200)).toBe('cancelled');
    return { completed, failed: [f1, f2], cancelled: [x1, x2], running: [r1, r2], queued: [q1, q2] };
  }

  /** The stored jobs of `ids`, to compare after a purge. */
  const snapshot = (ids: string[]): Promise<StoredJob[]> => Promise.all(ids.map((id) => getJob(id)));

  /** The ids `list` answers for `state`, newest first. */
  const listed = async (state: 'completed' | 'failed' | 'cancelled') => (await listAll(state, 100)).ids;

  describe('purge', () => {
    it('deletes finished jobs of the state oldest first, at most batch per call, and answers how many', async () => {
      const jobs = await populate();
      const others = [...jobs.failed, ...jobs.cancelled, ...jobs.running, ...jobs.queued];
      const kept = await snapshot(others);
      const [c3, c1, c5, c2, c4] = jobs.completed;
      expect(await store.purge('completed', { before: LATER }, 2)).toBe(2);
      expect(await listed('completed')).toEqual([c4, c2, c5]);
      expect(await store.purge('completed', { before: LATER }, 2)).toBe(2);
      expect(await listed('completed')).toEqual([c4]);
      expect(await store.purge('completed', { before: LATER }, 2)).toBe(1);
      expect(await store.purge('completed', { before: LATER }, 2)).toBe(0);
      for (const id of [c3, c1, c5, c2, c4]) expect(await store.get(id!)).toBeUndefined();
      expect(await snapshot(others)).toEqual(kept);
      expect(await queuedIds()).toEqual(jobs.queued);
      expect(await store.queueLength()).toBe(2);
    });

    it('before: deletes only the jobs that finished before it', async () => {
      const jobs = await populate();
      const [c3, c1, c5, c2, c4] = jobs.completed;
      // c3 and c1 finished before T0 + 3000; c5 finished at T0 + 3000 exactly and stays.
      expect(await store.purge('completed', { before: T0 + 3000 }, 100)).toBe(2);
      expect(await listed('completed')).toEqual([c4, c2, c5]);
      expect(await store.purge('completed', { before: T0 + 3000 }, 100)).toBe(0);
      expect(await store.purge('failed', { before: T0 + 2000 }, 100)).toBe(1);
      expect(await listed('failed')).toEqual([jobs.failed[1]]);
      expect(await store.purge('cancelled', { before: T0 + 2000 }, 100)).toBe(1);
      expect(await listed('cancelled')).toEqual([jobs.cancelled[1]]);
      expect(await store.purge('completed', { before: T0 }, 100)).toBe(0);
      for (const id of [c3, c1]) expect(await store.get(id!)).toBeUndefined();
    });

    it('keep: keeps the newest N (by finish time) and deletes the rest, oldest first', async () => {
      const jobs = await populate();
      const [c3, c1, c5, c2, c4] = jobs.completed;
      expect(await store.purge('completed', { keep: 2 }, 1)).toBe(1);
      expect(await listed('completed')).toEqual([c4, c2, c5, c1]);
      expect(await store.purge('completed', { keep: 2 }, 100)).toBe(2);
      expect(await listed('completed')).toEqual([c4, c2]);
      expect(await store.purge('completed', { keep: 2 }, 100)).toBe(0);
      expect(await store.purge('completed', { keep: 10 }, 100)).toBe(0);
      expect(await store.purge('failed', { keep: 1 }, 100)).toBe(1);
      expect(await listed('failed')).toEqual([jobs.failed[1]]);
      // Either rule deletes: before or beyond the newest `keep`.
      expect(await store.purge('completed', { before: T0, keep: 1 }, 100)).toBe(1);
      expect(await listed('completed')).toEqual([c4]);
      expect(await store.purge('completed', { keep: 0 }, 100)).toBe(1);
      expect(await listed('completed')).toEqual([]);
      for (const id of [c3, c1, c5, c2, c4]) expect(await store.get(id!)).toBeUndefined();
    });

    it('never touches queued or running jobs (also one whose cancel was requested) or jobs of other states', async () => {
      const jobs = await populate();
      const unfinished = [...jobs.running, ...jobs.queued];
      const before = await snapshot(unfinished);
      const failedBefore = await snapshot(jobs.failed);
      expect(await store.purge('completed', {}, 100)).toBe(0);
      expect(await store.purge('completed', { before: LATER, keep: 0 }, 100)).toBe(5);
      expect(await snapshot(jobs.failed)).toEqual(failedBefore);
      expect(await store.purge('cancelled', { before: LATER, keep: 0 }, 100)).toBe(2);
      expect(await snapshot(jobs.failed)).toEqual(failedBefore);
      expect(await store.purge('failed', { before: LATER, keep: 0 }, 100)).toBe(2);
      expect(await snapshot(unfinished)).toEqual(before);
      expect((await listAll(undefined, 100)).ids.sort()).toEqual([...unfinished].sort());
      // The queue and the leases work on.
      expect((await store.lease('w2', LEASE, T0 + 10))?.job_id).toBe(jobs.queued[0]);
      expect(await store.renew(jobs.running[0]!, 'w1', LEASE, T0 + 10)).toBe(true);
      expect(await store.finish(jobs.running[1]!, 'w1', { state: 'completed' }, T0 + 10)).toBe('ok');
    });

    it('a purged job is gone from get and every listing', async () => {
      const jobs = await populate();
      expect(await store.purge('completed', { keep: 3 }, 100)).toBe(2);
      expect(await store.purge('cancelled', { keep: 0 }, 100)).toBe(2);
      const gone = [...jobs.completed.slice(0, 2), ...jobs.cancelled];
      for (const id of gone) expect(await store.get(id)).toBeUndefined();
      const everywhere = [
        ...(await listAll(undefined, 3)).ids,
        ...(await listAll(undefined, 1000)).ids,
        ...(await listAll('completed', 2)).ids,
        ...(await listAll('cancelled', 2)).ids,
        ...(await queuedIds()),
        ...(await store.queuedDocuments({ limit: 1000 })).documents.map((d) => (JSON.parse(d) as { job_id: string }).job_id),
      ];
      for (const id of gone) expect(everywhere).not.toContain(id);
      expect((await listAll(undefined, 1000)).ids).toHaveLength(13 - gone.length);
    });

    it('the id of a purged or removed job can be submitted again and runs', async () => {
      const [done, queued] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      expect(await store.purge('completed', { keep: 0 }, 10)).toBe(1);
      expect(await store.remove(queued!)).toBe(true);
      for (const id of [done!, queued!]) {
        const again = { ...newJob(0), job_id: id };
        expect(await store.submit(again)).toMatchObject({ job_id: id, state: 'queued', attempts: 0, job_title: again.job_title });
      }
      expect(await queuedIds()).toEqual([done, queued]);
      expect(await leaseAll('w2', T0 + 2)).toEqual([done, queued]);
      expect(await store.finish(done!, 'w2', { state: 'completed' }, T0 + 3)).toBe('ok');
      expect(await getJob(done!)).toMatchObject({ state: 'completed', attempts: 1, worker_id: 'w2' });
    });
  });
}
