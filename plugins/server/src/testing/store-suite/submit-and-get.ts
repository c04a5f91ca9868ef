import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { queuedJobs } from '../queued-jobs.js';
import { LEASE, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** Submit and get: a queued job as submitted, its document round-tripped exactly. */
export function describeSubmitAndGet(fixture: StoreFixture): void {
  const { store, newJob, getJob } = fixture;

  describe('submit and get', () => {
    it('stores a queued job and answers it by id', async () => {
      const input = newJob(3);
      const stored = await store.submit(input);
      expect(stored).toMatchObject({
        job_id: input.job_id,
        job_title: input.job_title,
        job: input.job,
        state: 'queued',
        priority: 3,
        added: input.added,
        attempts: 0,
      });
      expect(stored.worker_id).toBeUndefined();
      expect(stored.lease_expires).toBeUndefined();
      expect(stored.finished_at).toBeUndefined();
      expect(stored.cancel_requested).toBeFalsy();
      expect(await store.get(input.job_id)).toEqual(stored);
    });

    it('answers undefined for an unknown id', async () => {
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('round-trips the job document exactly (nesting, unicode, HTML specials)', async () => {
      const input = newJob(0, {
        nested: { a: [1, 2.5, -3, { b: [true, false, null] }], empty: {}, list: [] },
        text: TRICKY,
        [TRICKY]: 'key too',
        big: Number.MAX_SAFE_INTEGER,
      });
      input.job_title = TRICKY;
      await store.submit(input);
      const job = await getJob(input.job_id);
      expect(job.job).toEqual(input.job);
      expect(job.job_title).toBe(TRICKY);
      expect((await queuedJobs(store))[0]!.job).toEqual(input.job);
      expect((await store.lease('w1', LEASE, T0))!.job).toEqual(input.job);
    });
  });
}
