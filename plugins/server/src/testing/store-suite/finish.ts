import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LEASE, MAX_ATTEMPTS, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** `finish`: the outcome recorded, and the holder rules (`lease-lost`, `not-found`). */
export function describeFinish(fixture: StoreFixture): void {
  const { store, submit, queuedIds, getJob } = fixture;

  describe('finish', () => {
    it('records the holder\'s outcome and result exactly', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      const result = {
        completed: true,
        start_time: '2026-11-28 02:55:14.879399+00:00',
        runtime: 12.5,
        worker: TRICKY,
        nested: { list: [1, 'two', { three: null }], flag: false },
      };
      expect(await store.finish(id!, 'w1', { state: 'completed', result }, T0 + 5000)).toBe('ok');
      const job = await getJob(id!);
      expect(job.state).toBe('completed');
      expect(job.result).toEqual(result);
      expect(job.worker_id).toBe('w1');
      expect(job.attempts).toBe(1);
      expect(Date.parse(job.finished_at!)).toBe(T0 + 5000);
      expect(job.lease_expires).toBeUndefined();
    });

    it('records failures with their reason', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      const result = { completed: false, module: 'ffmpeg', message: 'boom & <bust>' };
      expect(await store.finish(id!, 'w1', { state: 'failed', result, reason: 'RunError: boom' }, T0 + 1)).toBe('ok');
      expect(await getJob(id!)).toMatchObject({ state: 'failed', result, reason: 'RunError: boom' });
    });

    it('accepts a finish without a worker id (decided by the server)', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(id!, undefined, { state: 'failed', reason: 'server said so' }, T0 + 1)).toBe('ok');
      expect(await getJob(id!)).toMatchObject({ state: 'failed', reason: 'server said so' });
    });

    it('accepts a named worker finishing an anonymous lease', async () => {
      const [id] = await submit(1);
      await store.lease('', LEASE, T0);
      expect(await store.finish(id!, 'w9', { state: 'completed', result: { completed: true } }, T0 + 1)).toBe('ok');
      expect((await getJob(id!)).state).toBe('completed');
    });

    it('answers lease-lost to another worker and changes nothing', async () => {
      const [id] = await submit(1);
      const before = await store.lease('w1', LEASE, T0);
      expect(await store.finish(id!, 'w2', { state: 'completed', result: { x: 1 } }, T0 + 1)).toBe('lease-lost');
      expect(await store.get(id!)).toEqual(before);
    });

    it('accepts the last holder\'s late report of a requeued job not leased again: it leaves the queue', async () => {
      const [id, other] = await submit(2);
      await store.lease('w1', LEASE, T0);
      await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect((await getJob(id!)).state).toBe('queued');
      // Anyone else (or an anonymous report) is refused; the last holder's report is recorded.
      expect(await store.finish(id!, 'w2', { state: 'completed' }, T0 + LEASE + 2)).toBe('lease-lost');
      expect(await store.finish(id!, undefined, { state: 'completed' }, T0 + LEASE + 2)).toBe('lease-lost');
      expect(await store.finish(id!, 'w1', { state: 'completed', result: { late: true } }, T0 + LEASE + 3)).toBe('ok');
      expect(await getJob(id!)).toMatchObject({ state: 'completed', worker_id: 'w1', attempts: 1, result: { late: true } });
      expect(await queuedIds()).toEqual([other]);
      expect((await store.lease('w3', LEASE, T0 + LEASE + 4))?.job_id).toBe(other);
      expect(await store.lease('w3', LEASE, T0 + LEASE + 5)).toBeUndefined();
    });

    it('refuses a report of the worker that gave the job back (release): it is not its last holder', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.release(id!, 'w1', T0 + 1)).toBe('ok');
      const released = await getJob(id!);
      expect(await store.finish(id!, 'w1', { state: 'completed' }, T0 + 2)).toBe('lease-lost');
      expect(await store.get(id!)).toEqual(released);
      expect(await queuedIds()).toEqual([id]);
    });

    it('answers lease-lost to a late report after expiry, requeue and a new lease, and changes nothing', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      // Re-leased to w2: w1 is lost, w2 finishes.
      await store.lease('w2', LEASE, T0 + LEASE + 3);
      const leased = await getJob(id!);
      expect(await store.finish(id!, 'w1', { state: 'completed' }, T0 + LEASE + 3)).toBe('lease-lost');
      expect(await store.get(id!)).toEqual(leased);
      expect(await store.finish(id!, 'w1', { state: 'failed' }, T0 + LEASE + 4)).toBe('lease-lost');
      expect(await store.finish(id!, 'w2', { state: 'completed' }, T0 + LEASE + 5)).toBe('ok');
      expect(await getJob(id!)).toMatchObject({ state: 'completed', worker_id: 'w2', attempts: 2 });
    });

    it('answers lease-lost to a second finish and keeps the first outcome', async () => {
      const [id] = await submit(1);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(id!, 'w1', { state: 'completed', result: { first: true } }, T0 + 1)).toBe('ok');
      const first = await getJob(id!);
      expect(await store.finish(id!, 'w1', { state: 'failed', result: { second: true } }, T0 + 2)).toBe('lease-lost');
      expect(await store.finish(id!, undefined, { state: 'failed' }, T0 + 3)).toBe('lease-lost');
      expect(await store.get(id!)).toEqual(first);
    });

    it('answers lease-lost for a job that was never leased', async () => {
      const [id] = await submit(1);
      expect(await store.finish(id!, undefined, { state: 'completed' }, T0)).toBe('lease-lost');
      expect((await getJob(id!)).state).toBe('queued');
    });

    it('answers not-found for an unknown job', async () => {
      expect(await store.finish(randomUUID(), 'w1', { state: 'completed' }, T0)).toBe('not-found');
      expect(await store.finish(randomUUID(), undefined, { state: 'completed' }, T0)).toBe('not-found');
    });

    it('stores exactly the outcome given, also for a job whose cancel was requested', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      await store.lease('w2', LEASE, T0);
      await store.cancel(a!, T0 + 1);
      await store.cancel(b!, T0 + 1);
      expect(await store.finish(a!, 'w1', { state: 'cancelled', reason: 'cancelled by user' }, T0 + 2)).toBe('ok');
      expect(await store.finish(b!, 'w2', { state: 'completed', result: { completed: true } }, T0 + 2)).toBe('ok');
      expect(await getJob(a!)).toMatchObject({ state: 'cancelled', reason: 'cancelled by user' });
      expect(await getJob(b!)).toMatchObject({ state: 'completed', result: { completed: true } });
    });
  });
}
