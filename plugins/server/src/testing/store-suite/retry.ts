import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NewJob, StoredJob } from '../../store/queue-store.js';
import { isStoreError } from '../../store/store-error.js';
import { expectStoreError } from './expect-store-error.js';
import { LEASE, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** `retry`: a failed or cancelled job queued again as a new job, both linked, in one step. */
export function describeRetry(fixture: StoreFixture): void {
  const { store, newJob, submit, leaseAll, queuedIds, getJob } = fixture;

  /** The retry of `old` as the server makes it: a new id, the same document. */
  function retryOf(old: StoredJob, priority = old.priority): NewJob & { retry_of: string } {
    const fresh = newJob(priority);
    return { ...fresh, job_title: old.job_title, job: { ...old.job, job_id: fresh.job_id, added: fresh.added }, retry_of: old.job_id };
  }

  /** A failed job (worker w1, finished at T0 + 10), a cancelled one, and one queued job behind them. */
  async function finished(): Promise<{ failed: StoredJob; cancelled: StoredJob; queued: string }> {
    const first = newJob(0, { text: TRICKY });
    await store.submit(first);
    const [cancelledId, queued] = await submit(2);
    expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(first.job_id);
    expect(await store.finish(first.job_id, 'w1', { state: 'failed', reason: 'RunError: boom', result: { completed: false } }, T0 + 10)).toBe('ok');
    expect(await store.cancel(cancelledId!, T0 + 20)).toBe('cancelled');
    return { failed: await getJob(first.job_id), cancelled: await getJob(cancelledId!), queued: queued! };
  }

  describe('retry', () => {
    it('queues the retry of a failed job as a new job and links both ways', async () => {
      const { failed, queued } = await finished();
      const input = retryOf(failed);
      const stored = await store.retry(failed.job_id, input);
      expect(stored).toMatchObject({ job_id: input.job_id, job_title: failed.job_title, state: 'queued', attempts: 0, retry_of: failed.job_id, priority: 0 });
      expect(stored.retried_as).toBeUndefined();
      expect(stored.job).toEqual(input.job);
      expect(await store.get(input.job_id)).toEqual(stored);
      // The old job keeps everything it had, plus the link.
      expect(await store.get(failed.job_id)).toEqual({ ...failed, retried_as: input.job_id });
      // The retry queues like a submit: behind the jobs already queued.
      expect(await queuedIds()).toEqual([queued, input.job_id]);
      expect(await store.queueLength()).toBe(2);
      // Listings carry the links.
      const all = (await store.list({ limit: 100 })).jobs;
      expect(all.find((j) => j.job_id === failed.job_id)?.retried_as).toBe(input.job_id);
      expect(all.find((j) => j.job_id === input.job_id)?.retry_of).toBe(failed.job_id);
      expect((await store.list({ state: 'queued', limit: 100 })).jobs.find((j) => j.job_id === input.job_id)).toEqual(stored);
      expect((await store.list({ state: 'failed', limit: 100 })).jobs).toEqual([{ ...failed, retried_as: input.job_id }]);
      // It runs like any job.
      expect(await leaseAll('w2')).toEqual([queued, input.job_id]);
      expect(await store.finish(input.job_id, 'w2', { state: 'completed' }, T0 + 100)).toBe('ok');
      expect(await getJob(input.job_id)).toMatchObject({ state: 'completed', retry_of: failed.job_id });
    });

    it('retries a cancelled job, with the priority given', async () => {
      const { cancelled, queued } = await finished();
      const input = retryOf(cancelled, 4);
      expect(await store.retry(cancelled.job_id, input)).toMatchObject({ job_id: input.job_id, state: 'queued', priority: 4, retry_of: cancelled.job_id });
      expect(await getJob(cancelled.job_id)).toMatchObject({ state: 'cancelled', retried_as: input.job_id });
      expect(await queuedIds()).toEqual([input.job_id, queued]);
    });

    it('a retry that failed in turn is retried as a chain', async () => {
      const { failed } = await finished();
      const second = retryOf(failed);
      await store.retry(failed.job_id, second);
      await leaseAll('w1');
      expect(await store.finish(second.job_id, 'w1', { state: 'failed', reason: 'again' }, T0 + 200)).toBe('ok');
      const third = retryOf(await getJob(second.job_id));
      await store.retry(second.job_id, third);
      expect(await getJob(second.job_id)).toMatchObject({ state: 'failed', retry_of: failed.job_id, retried_as: third.job_id });
      expect(await getJob(third.job_id)).toMatchObject({ state: 'queued', retry_of: second.job_id });
      expect((await getJob(failed.job_id)).retried_as).toBe(second.job_id);
    });

    it('refuses an unknown job with SIS_JOB_NOT_FOUND, queuing nothing', async () => {
      const { failed } = await finished();
      const input = { ...retryOf(failed), retry_of: 'no-such-job' };
      await expectStoreError(store.retry('no-such-job', input), 'SIS_JOB_NOT_FOUND');
      expect(await store.get(input.job_id)).toBeUndefined();
      expect(await store.queueLength()).toBe(1);
    });

    it('refuses queued, running and completed jobs with SIS_JOB_STATE, changing nothing', async () => {
      const [running, completed, queued] = await submit(3);
      await store.lease('w1', LEASE, T0);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(completed!, 'w1', { state: 'completed' }, T0 + 1)).toBe('ok');
      for (const id of [queued!, running!, completed!]) {
        const before = await getJob(id);
        const input = retryOf(before);
        const error = await expectStoreError(store.retry(id, input), 'SIS_JOB_STATE');
        expect(error.message).toContain(id);
        expect(await store.get(id)).toEqual(before);
        expect(await store.get(input.job_id)).toBeUndefined();
      }
      expect(await queuedIds()).toEqual([queued]);
    });

    it('refuses a job retried already with SIS_JOB_STATE naming the retry', async () => {
      const { failed } = await finished();
      const first = retryOf(failed);
      await store.retry(failed.job_id, first);
      const linked = await getJob(failed.job_id);
      const again = retryOf(linked);
      const error = await expectStoreError(store.retry(failed.job_id, again), 'SIS_JOB_STATE');
      expect(error.message).toContain(first.job_id);
      expect(await store.get(again.job_id)).toBeUndefined();
      expect(await store.get(failed.job_id)).toEqual(linked);
      expect(await store.queueLength()).toBe(2);
    });

    it('refuses a new id that is taken with SIS_JOB_EXISTS, leaving the old job unlinked', async () => {
      const { failed, queued } = await finished();
      const queuedBefore = await getJob(queued);
      const input = { ...retryOf(failed), job_id: queued };
      await expectStoreError(store.retry(failed.job_id, input), 'SIS_JOB_EXISTS');
      expect(await store.get(failed.job_id)).toEqual(failed);
      expect(await store.get(queued)).toEqual(queuedBefore);
      expect(await queuedIds()).toEqual([queued]);
      // The old job can still be retried.
      const ok = retryOf(failed);
      await store.retry(failed.job_id, ok);
      expect((await getJob(failed.job_id)).retried_as).toBe(ok.job_id);
    });

    it('of concurrent retries of one job exactly one goes through; the others are refused with SIS_JOB_STATE', async () => {
      const { failed, queued } = await finished();
      const inputs = Array.from({ length: 6 }, () => retryOf(failed));
      const settled = await Promise.allSettled(inputs.map((input) => store.retry(failed.job_id, input)));
      const won = settled.flatMap((s, n) => (s.status === 'fulfilled' ? [inputs[n]!.job_id] : []));
      expect(won).toHaveLength(1);
      for (const s of settled) {
        if (s.status === 'rejected') expect(isStoreError(s.reason, 'SIS_JOB_STATE'), String(s.reason)).toBe(true);
      }
      expect((await getJob(failed.job_id)).retried_as).toBe(won[0]);
      expect(await queuedIds()).toEqual([queued, won[0]]);
      for (const input of inputs) if (input.job_id !== won[0]) expect(await store.get(input.job_id)).toBeUndefined();
    });

    it('keeps ids apart: a retry id is a new job id like any other', async () => {
      const { failed } = await finished();
      const input = { ...retryOf(failed), job_id: randomUUID() };
      await store.retry(failed.job_id, input);
      await expectStoreError(store.submit({ ...newJob(), job_id: input.job_id }), 'SIS_JOB_EXISTS');
    });
  });
}
