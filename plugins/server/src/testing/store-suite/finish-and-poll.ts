import { describe, expect, it } from 'vitest';
import { LEASE, MAX_ATTEMPTS, T0, type StoreFixture } from './store-fixture.js';

/** `finishAndPoll`: a report and the same worker's next job in one call. */
export function describeFinishAndPoll(fixture: StoreFixture): void {
  const { store, submit, queuedIds, getJob } = fixture;

  describe('finishAndPoll', () => {
    it('finishes the job and leases the next one in queue order to the same worker', async () => {
      const [a, b] = await submit(2);
      const [high] = await submit(1, 5);
      expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(high);
      const first = await store.finishAndPoll(high!, 'w1', { state: 'completed', result: { ok: 1 } }, T0 + 10, LEASE);
      expect(first.result).toBe('ok');
      expect(first.job?.job_id).toBe(a);
      expect(first.job?.worker_id).toBe('w1');
      expect(first.job?.attempts).toBe(1);
      expect(first.job?.lease_expires).toBe(T0 + 10 + LEASE);
      const done = await getJob(high!);
      expect(done.state).toBe('completed');
      expect(done.result).toEqual({ ok: 1 });
      const second = await store.finishAndPoll(a!, 'w1', { state: 'failed', result: { why: 'x' } }, T0 + 20, LEASE);
      expect(second).toMatchObject({ result: 'ok', job: { job_id: b, state: 'running' } });
      expect((await getJob(a!)).state).toBe('failed');
      expect(await store.finishAndPoll(b!, 'w1', { state: 'completed' }, T0 + 30, LEASE)).toEqual({ result: 'ok' });
      expect((await store.list({ state: 'completed', limit: 10 })).jobs.map((j) => j.job_id).sort()).toEqual([b, high].sort());
    });

    it('a refused finish leases nothing', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.finishAndPoll(a!, 'w2', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'lease-lost' });
      expect(await store.finishAndPoll('nope', 'w1', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'not-found' });
      expect(await queuedIds()).toEqual([b]);
      expect((await getJob(a!)).state).toBe('running');
    });

    it('a report from a worker that does not hold the job moves nothing: the job can still expire and run again', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      expect(await store.finishAndPoll(a!, 'w2', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'lease-lost' });
      // w1 dies: its lease runs out, the job goes back to the head and is handed out again.
      expect(await store.expireLeases(T0 + 2 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
      expect(await queuedIds()).toEqual([a, b]);
      const again = await store.lease('w3', LEASE, T0 + 3 + LEASE);
      expect(again).toMatchObject({ job_id: a, attempts: 2, worker_id: 'w3' });
      expect(await store.finishAndPoll(a!, 'w3', { state: 'completed' }, T0 + 4 + LEASE, LEASE)).toMatchObject({ result: 'ok', job: { job_id: b } });
      expect((await getJob(a!)).state).toBe('completed');
    });

    it('finishes but leases nothing while the queue or the worker is disabled', async () => {
      const [a, b, c] = await submit(3);
      await store.lease('w1', LEASE, T0);
      await store.setQueueAttributes({ disabled: true });
      expect(await store.finishAndPoll(a!, 'w1', { state: 'completed' }, T0 + 1, LEASE)).toEqual({ result: 'ok', blocked: 'queue' });
      expect((await getJob(a!)).state).toBe('completed');
      expect(await queuedIds()).toEqual([b, c]);
      await store.setQueueAttributes({ disabled: false });
      expect((await store.lease('w1', LEASE, T0 + 2))?.job_id).toBe(b);
      await store.setWorkerAttributes('w1', { disabled: true });
      expect(await store.finishAndPoll(b!, 'w1', { state: 'completed' }, T0 + 3, LEASE)).toEqual({ result: 'ok', blocked: 'worker' });
      expect(await queuedIds()).toEqual([c]);
      expect((await store.poll('w2', LEASE, T0 + 4)).job?.job_id).toBe(c);
    });

    it('skips a job cancelled while queued', async () => {
      const [a, b, c] = await submit(3);
      await store.lease('w1', LEASE, T0);
      expect(await store.cancel(b!, T0 + 1)).toBe('cancelled');
      const next = await store.finishAndPoll(a!, 'w1', { state: 'completed' }, T0 + 2, LEASE);
      expect(next.job?.job_id).toBe(c);
      expect((await getJob(b!)).state).toBe('cancelled');
    });

    it('the next job is leased for real: renewed, expired and requeued like any other', async () => {
      const [a, b] = await submit(2);
      await store.lease('w1', LEASE, T0);
      const { job } = await store.finishAndPoll(a!, 'w1', { state: 'completed' }, T0 + 1, LEASE);
      expect(job?.job_id).toBe(b);
      expect(await store.renew(b!, 'w1', LEASE, T0 + 2)).toBe(true);
      expect(await store.renew(b!, 'w2', LEASE, T0 + 2)).toBe(false);
      expect(await store.expireLeases(T0 + 3 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [b], failed: [] });
      expect(await queuedIds()).toEqual([b]);
      expect((await store.lease('w2', LEASE, T0 + 4 + LEASE))?.attempts).toBe(2);
    });
  });
}
