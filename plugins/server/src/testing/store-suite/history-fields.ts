import { describe, expect, it } from 'vitest';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/**
 * What `sisyphus jobs ls` shows of each job, kept by every store: when it
 * was submitted, started and finished, which worker ran it (and, through
 * that worker's heartbeat or its own report, on which host), and why it
 * failed.
 */
export function describeHistoryFields(fixture: StoreFixture): void {
  const { store, submit } = fixture;

  describe('history fields (jobs ls)', () => {
    it('a listed job carries added, started_at, finished_at, worker_id, result and reason', async () => {
      const [failing, running] = await submit(2);
      expect(await store.lease('w1', LEASE, T0 + 10)).toMatchObject({ job_id: failing });
      expect(await store.lease('w2', LEASE, T0 + 20)).toMatchObject({ job_id: running });
      await store.heartbeat('w2', { status: 'in_progress', hostname: 'host-b', job_id: running, task: 'ffmpeg', progress: 42.5 }, T0 + 25, LEASE);
      const result = { completed: false, module: 'ffmpeg', message: 'ffmpeg exited with code 1\nsecond line', worker: 'host-a', worker_id: 'w1' };
      expect(await store.finish(failing!, 'w1', { state: 'failed', result, reason: 'RunError: ffmpeg exited with code 1' }, T0 + 30)).toBe('ok');

      const [failed] = (await store.list({ state: 'failed', limit: 10 })).jobs;
      expect(failed).toMatchObject({ job_id: failing, state: 'failed', worker_id: 'w1', result, reason: 'RunError: ffmpeg exited with code 1' });
      expect(failed!.added).toBe(new Date(T0 + 1000).toISOString());
      expect(Date.parse(failed!.started_at!)).toBe(T0 + 10);
      expect(Date.parse(failed!.finished_at!)).toBe(T0 + 30);

      const [live] = (await store.list({ state: 'running', limit: 10 })).jobs;
      expect(live).toMatchObject({ job_id: running, state: 'running', worker_id: 'w2' });
      expect(Date.parse(live!.started_at!)).toBe(T0 + 20);
      expect(live!.finished_at).toBeUndefined();
      // The running job's host and progress: its worker's last heartbeat.
      expect((await store.worker('w2', T0 + 26)).status).toMatchObject({ hostname: 'host-b', job_id: running, task: 'ffmpeg', progress: 42.5 });
    });

    it('a job leased again keeps its latest start', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      await store.expireLeases(T0 + LEASE + 1, 5);
      await store.lease('w2', LEASE, T0 + LEASE + 100);
      const job = await store.get(id!);
      expect(job).toMatchObject({ state: 'running', worker_id: 'w2', attempts: 2 });
      expect(Date.parse(job!.started_at!)).toBe(T0 + LEASE + 100);
    });
  });
}
