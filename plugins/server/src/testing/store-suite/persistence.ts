import { describe, expect, it } from 'vitest';
import { queuedJobs } from '../queued-jobs.js';
import { EXPIRY, LEASE, MAX_ATTEMPTS, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** Everything survives a close and reopen (for stores registered with `reopen`). */
export function describePersistence(fixture: StoreFixture): void {
  const { store, submit, queuedIds, reopen } = fixture;

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
        queued: await queuedJobs(store),
        queuedDocuments: await store.queuedDocuments({ limit: 1000 }),
        queueLength: await store.queueLength(),
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

      await reopen();
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
