import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { queuedJobs } from '../queued-jobs.js';
import { LEASE, MAX_ATTEMPTS, T0, type StoreFixture } from './store-fixture.js';

/** Leases over time: expiry and requeue (`maxAttempts`), `renew` and `release`. */
export function describeLeaseExpiry(fixture: StoreFixture): void {
  const { store, newJob, submit, queuedIds, getJob } = fixture;

  describe('lease expiry', () => {
    it('leaves unexpired leases alone', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.expireLeases(T0 + LEASE - 1, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
      expect((await getJob(id!)).state).toBe('running');
    });

    it('requeues an expired job at the head of the queue, counting the attempt', async () => {
      const [a, b, c] = await submit(3);
      await store.lease('w1', LEASE, T0);
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
      const job = await getJob(a!);
      expect(job.state).toBe('queued');
      expect(job.attempts).toBe(1);
      expect(job.lease_expires).toBeUndefined();
      expect(await queuedIds()).toEqual([a, b, c]);
      const again = await store.lease('w2', LEASE, T0 + LEASE + 2);
      expect(again).toMatchObject({ job_id: a, attempts: 2, worker_id: 'w2', state: 'running' });
    });

    it('requeues at the head of its own priority only', async () => {
      const h1 = (await store.submit(newJob(5))).job_id;
      const l1 = (await store.submit(newJob(0))).job_id;
      const l2 = (await store.submit(newJob(0))).job_id;
      expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(h1);
      expect((await store.lease('w2', LEASE, T0))!.job_id).toBe(l1);
      const h2 = (await store.submit(newJob(5))).job_id;
      const { requeued, failed } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect([...requeued].sort()).toEqual([h1, l1].sort());
      expect(failed).toEqual([]);
      expect(await queuedIds()).toEqual([h1, h2, l1, l2]);
    });

    it('puts several expired jobs ahead of the jobs that were waiting', async () => {
      const [a, b, c] = await submit(3);
      await store.lease('w1', LEASE, T0);
      await store.lease('w2', LEASE, T0);
      const { requeued } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect([...requeued].sort()).toEqual([a, b].sort());
      const order = await queuedIds();
      expect(order.slice(0, 2).sort()).toEqual([a, b].sort());
      expect(order[2]).toBe(c);
    });

    it('fails a job whose lease expired maxAttempts times, naming the attempts', async () => {
      const [id] = await submit(1);
      let now = T0;
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        expect((await store.lease(`w${attempt}`, LEASE, now))!.attempts).toBe(attempt);
        now += LEASE + 1;
        expect(await store.expireLeases(now, MAX_ATTEMPTS)).toEqual({ requeued: [id], failed: [] });
      }
      expect((await store.lease('wlast', LEASE, now))!.attempts).toBe(MAX_ATTEMPTS);
      now += LEASE + 1;
      expect(await store.expireLeases(now, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [id] });
      const job = await getJob(id!);
      expect(job.state).toBe('failed');
      expect(job.attempts).toBe(MAX_ATTEMPTS);
      expect(job.reason).toEqual(expect.stringContaining(String(MAX_ATTEMPTS)));
      expect(Date.parse(job.finished_at!)).toBe(now);
      expect(job.lease_expires).toBeUndefined();
      expect(await queuedJobs(store)).toEqual([]);
      expect(await store.lease('w1', LEASE, now)).toBeUndefined();
      // Nothing left to expire.
      expect(await store.expireLeases(now + 10 * LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
    });

    it('fails at once with maxAttempts 1', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.expireLeases(T0 + LEASE + 1, 1)).toEqual({ requeued: [], failed: [id] });
      expect((await getJob(id!)).state).toBe('failed');
    });

    it('does not touch queued or finished jobs', async () => {
      const [done, queued] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      expect(await store.expireLeases(T0 + 100 * LEASE, 1)).toEqual({ requeued: [], failed: [] });
      expect((await getJob(done!)).state).toBe('completed');
      expect((await getJob(queued!)).state).toBe('queued');
      expect((await getJob(queued!)).attempts).toBe(0);
    });

    it('does not requeue a running job whose cancel was requested', async () => {
      const [id, other] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.cancel(id!, T0 + 1)).toBe('requested');
      const { requeued, failed } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect(requeued).toEqual([]);
      expect(failed).toEqual([id]);
      expect((await getJob(id!)).state).toBe('cancelled');
      expect(await queuedIds()).toEqual([other]);
    });
  });

  describe('renew', () => {
    it('extends the lease of the holder', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.renew(id!, 'w1', LEASE, T0 + 50_000)).toBe(true);
      expect((await getJob(id!)).lease_expires).toBe(T0 + 50_000 + LEASE);
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [], failed: [] });
      expect((await getJob(id!)).state).toBe('running');
      expect(await store.expireLeases(T0 + 50_000 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [id], failed: [] });
    });

    it('refuses another worker and leaves the lease unchanged', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.renew(id!, 'w2', LEASE, T0 + 50_000)).toBe(false);
      const job = await getJob(id!);
      expect(job.worker_id).toBe('w1');
      expect(job.lease_expires).toBe(T0 + LEASE);
    });

    it('lets the first renewer adopt an anonymous lease', async () => {
      const [id] = await submit(1);
      await store.lease('', LEASE, T0);
      expect(await store.renew(id!, 'w1', LEASE, T0 + 1000)).toBe(true);
      let job = await getJob(id!);
      expect(job.worker_id).toBe('w1');
      expect(job.lease_expires).toBe(T0 + 1000 + LEASE);
      expect(await store.renew(id!, 'w2', LEASE, T0 + 2000)).toBe(false);
      job = await getJob(id!);
      expect(job.worker_id).toBe('w1');
      expect(job.lease_expires).toBe(T0 + 1000 + LEASE);
    });

    it('refuses jobs that are not running', async () => {
      const [queued, done] = await submit(2);
      expect(await store.renew(queued!, 'w1', LEASE, T0)).toBe(false);
      expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(queued);
      // `queued` is now running; lease `done` too and finish it.
      expect((await store.lease('w1', LEASE, T0))!.job_id).toBe(done);
      expect(await store.finish(done!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      expect(await store.renew(done!, 'w1', LEASE, T0 + 2)).toBe(false);
      expect(await store.renew(randomUUID(), 'w1', LEASE, T0)).toBe(false);
    });

    it('gives a requeued job not leased again back to its last holder when it renews (a worker that was away, still running it)', async () => {
      const [id, other] = await submit(2);
      await store.lease('w1', LEASE, T0);
      await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect((await getJob(id!)).state).toBe('queued');
      expect(await store.renew(id!, 'w2', LEASE, T0 + LEASE + 2)).toBe(false);
      expect(await store.renew(id!, 'w1', LEASE, T0 + LEASE + 2)).toBe(true);
      expect(await getJob(id!)).toMatchObject({ state: 'running', worker_id: 'w1', attempts: 1, lease_expires: T0 + 2 * LEASE + 2 });
      expect(await queuedIds()).toEqual([other]);
      // Nobody else gets it, it expires again like any lease, and its holder finishes it.
      expect((await store.lease('w2', LEASE, T0 + LEASE + 3))?.job_id).toBe(other);
      expect(await store.lease('w2', LEASE, T0 + LEASE + 3)).toBeUndefined();
      expect(await store.finish(id!, 'w1', { state: 'completed' }, T0 + LEASE + 4)).toBe('ok');
      expect((await getJob(id!)).state).toBe('completed');
    });

    it('a job taken back by its last holder and requeued again (the holder died, or gave it back) is handed out again', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect(await store.renew(id!, 'w1', LEASE, T0 + LEASE + 2)).toBe(true);
      // Nobody else gets it while its holder has it.
      expect(await store.lease('w2', LEASE, T0 + LEASE + 3)).toBeUndefined();
      // Its holder goes away for good: the sweep requeues it, and the next poll takes it.
      expect(await store.expireLeases(T0 + 2 * LEASE + 3, MAX_ATTEMPTS)).toEqual({ requeued: [id], failed: [] });
      expect(await store.lease('w2', LEASE, T0 + 2 * LEASE + 4)).toMatchObject({ job_id: id, worker_id: 'w2', attempts: 2 });
      // Taken back again and given back by its worker: queued, and handed out again.
      await store.expireLeases(T0 + 3 * LEASE + 5, MAX_ATTEMPTS);
      expect(await store.renew(id!, 'w2', LEASE, T0 + 3 * LEASE + 6)).toBe(true);
      expect(await store.release(id!, 'w2', T0 + 3 * LEASE + 7)).toBe('ok');
      expect(await store.lease('w3', LEASE, T0 + 3 * LEASE + 8)).toMatchObject({ job_id: id, worker_id: 'w3' });
      expect(await store.finish(id!, 'w3', { state: 'completed' }, T0 + 3 * LEASE + 9)).toBe('ok');
      expect(await store.lease('w4', LEASE, T0 + 3 * LEASE + 10)).toBeUndefined();
    });

    it('refuses the old holder after its lease expired and the job was leased again, or given back', async () => {
      const [id, second] = await submit(2);
      await store.lease('w1', LEASE, T0);
      await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      await store.lease('w2', LEASE, T0 + LEASE + 3);
      expect(await store.renew(id!, 'w1', LEASE, T0 + LEASE + 4)).toBe(false);
      expect(await store.renew(id!, 'w2', LEASE, T0 + LEASE + 4)).toBe(true);
      expect((await getJob(id!)).worker_id).toBe('w2');
      // Given back by its worker (release): nobody's, so no renewal takes it.
      expect((await store.lease('w3', LEASE, T0 + LEASE + 5))?.job_id).toBe(second);
      expect(await store.release(second!, 'w3', T0 + LEASE + 6)).toBe('ok');
      expect(await store.renew(second!, 'w3', LEASE, T0 + LEASE + 7)).toBe(false);
      expect((await getJob(second!)).state).toBe('queued');
    });
  });

  describe('release', () => {
    it('puts the holder\'s running job back at the head of the queue, attempts kept', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.release(a!, 'w2', T0 + 1)).toBe('lease-lost');
      expect(await store.release(a!, 'w1', T0 + 1)).toBe('ok');
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual([a, b]);
      const again = await getJob(a!);
      expect(again.state).toBe('queued');
      expect(again.attempts).toBe(1);
      expect(again.lease_expires).toBeUndefined();
      expect(await store.release(a!, 'w1', T0 + 2)).toBe('lease-lost');
      expect(await store.release('nope', 'w1', T0 + 2)).toBe('not-found');
      expect((await store.lease('w2', LEASE, T0 + 3))?.job_id).toBe(a);
      expect((await getJob(a!)).attempts).toBe(2);
    });
  });
}
