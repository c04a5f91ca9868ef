import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@sisyphus/core';
import type { NewJob, StoredJob } from '../../store/queue-store.js';
import { queuedJobs } from '../queued-jobs.js';
import { expectStoreError } from './expect-store-error.js';
import { flowFixture } from './flow-fixture.js';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** `remove`, `clear`, `retry`, `counts` and `list` with waiting parents and children. */
export function describeFlowQueueOperations(fixture: StoreFixture): void {
  const { store, newJob, submit, queuedIds, getJob, listAll } = fixture;
  const { waiting, leaseExpect, complete } = flowFixture(fixture);

  /** The retry of `old` as the server makes it: a new id, the same document. */
  function retryOf(old: StoredJob): NewJob & { retry_of: string } {
    const fresh = newJob(old.priority);
    return { ...fresh, job_title: old.job_title, job: { ...old.job, job_id: fresh.job_id, added: fresh.added }, retry_of: old.job_id };
  }

  describe('flows: remove, clear, retry, counts and list', () => {
    it('remove refuses a queued child (SIS_JOB_STATE) and keeps it; a waiting parent is not queued', async () => {
      const { parent, children } = await waiting(2, { withFinally: true });
      const child = await getJob(children[0]!);
      await expectStoreError(store.remove(children[0]!), ErrorCodes.JOB_STATE);
      expect(await getJob(children[0]!)).toEqual(child);
      const waited = await getJob(parent);
      expect(await store.remove(parent)).toBe(false);
      expect(await getJob(parent)).toEqual(waited);
      expect(await queuedIds()).toEqual(children);
      // A finally job is a child too.
      expect(await store.cancel(parent, T0 + 2)).toBe('cancelled');
      const finallyId = (await getJob(parent)).flow!.finally_id!;
      expect(await queuedIds()).toEqual([finallyId]);
      await expectStoreError(store.remove(finallyId), ErrorCodes.JOB_STATE);
      expect((await getJob(finallyId)).state).toBe('queued');
    });

    it('clear() removes the queued jobs that are not children; children and waiting parents stay', async () => {
      const { parent, children } = await waiting(2);
      const plain = await submit(2);
      const waited = await getJob(parent);
      await store.clear();
      for (const id of plain) expect(await store.get(id)).toBeUndefined();
      expect(await queuedIds()).toEqual(children);
      expect(await getJob(parent)).toEqual(waited);
      // The flow goes on.
      for (const id of children) await complete(id, 'w2', T0 + 3);
      expect((await getJob(parent)).state).toBe('queued');
    });

    it('retry of a child is refused (SIS_JOB_STATE: retry its parent); retry of a failed parent is a new job from scratch', async () => {
      const { parent, children } = await waiting(1);
      await leaseExpect(children[0]!, 'w2', T0 + 2);
      expect(await store.finish(children[0]!, 'w2', { state: 'failed', reason: 'x' }, T0 + 3)).toBe('ok');
      const child = await getJob(children[0]!);
      await expectStoreError(store.retry(children[0]!, retryOf(child)), ErrorCodes.JOB_STATE);
      expect(await getJob(children[0]!)).toEqual(child);
      expect(await queuedIds()).toEqual([]);

      const failed = await getJob(parent);
      expect(failed.state).toBe('failed');
      const input = retryOf(failed);
      const retried = await store.retry(parent, input);
      expect(retried).toMatchObject({ job_id: input.job_id, state: 'queued', attempts: 0, retry_of: parent });
      expect(retried.job).toEqual(input.job);
      expect(retried.flow).toBeUndefined();
      expect(retried.parent_id).toBeUndefined();
      expect(retried.result).toBeUndefined();
      expect(await getJob(parent)).toEqual({ ...failed, retried_as: input.job_id });
      const leased = await leaseExpect(input.job_id, 'w3', T0 + 4);
      expect(leased.flow).toBeUndefined();
      expect(await store.childResults(input.job_id)).toEqual([]);
      expect(await store.children(input.job_id)).toEqual([]);
    });

    it('counts: waiting parents as waiting, their children as queued and running', async () => {
      const one = await waiting(2);
      // Of a higher priority than one's children, so that it is the job leased to run it.
      const two = await waiting(1, { priority: 1, childPriority: 0 });
      expect(await store.counts(T0)).toEqual({ queued: 3, running: 0, waiting: 2, completed: 0, failed: 0, cancelled: 0 });
      await leaseExpect(one.children[0]!, 'w2', T0 + 2);
      expect(await store.counts(T0)).toEqual({ queued: 2, running: 1, waiting: 2, completed: 0, failed: 0, cancelled: 0 });
      await leaseExpect(one.children[1]!, 'w2', T0 + 2);
      await leaseExpect(two.children[0]!, 'w2', T0 + 2);
      expect(await store.finish(two.children[0]!, 'w2', { state: 'completed' }, T0 + 3)).toBe('ok');
      // Two is queued to resume.
      expect(await store.counts(T0)).toEqual({ queued: 1, running: 2, waiting: 1, completed: 1, failed: 0, cancelled: 0 });
      expect(await store.cancel(one.parent, T0 + 4)).toBe('cancelled');
      expect(await store.counts(T0)).toEqual({ queued: 1, running: 2, waiting: 0, completed: 1, failed: 0, cancelled: 1 });
      expect(await store.queueLength()).toBe(1);
    });

    it('list: state waiting-children lists waiting parents (paged); finished does not include them; all jobs do', async () => {
      const one = await waiting(2);
      // Of a higher priority than one's children, so that it is the job leased to run it.
      const two = await waiting(1, { priority: 1, childPriority: 0 });
      const [done] = await submit(1, 9);
      await leaseExpect(done!, 'w2', T0 + 2);
      expect(await store.finish(done!, 'w2', { state: 'completed' }, T0 + 3)).toBe('ok');

      const { ids } = await listAll('waiting-children', 1);
      expect([...ids].sort()).toEqual([one.parent, two.parent].sort());
      const page = await store.list({ state: 'waiting-children', limit: 10 });
      for (const job of page.jobs) expect(job).toEqual(await getJob(job.job_id));
      expect((await store.list({ state: 'finished', limit: 10 })).jobs.map((j) => j.job_id)).toEqual([done]);
      expect((await listAll('queued', 10)).ids).toEqual(await queuedIds());
      expect((await listAll('queued', 10)).ids).toEqual([...one.children, ...two.children]);
      const all = (await listAll(undefined, 2)).ids;
      expect([...all].sort()).toEqual([one.parent, two.parent, done, ...one.children, ...two.children].sort());
      // Children list with their parent link.
      const listed = (await store.list({ state: 'queued', limit: 10 })).jobs;
      expect(listed.map((j) => j.parent_id)).toEqual([one.parent, one.parent, two.parent]);
      // Filters apply to waiting jobs as to any.
      expect((await store.list({ state: 'waiting-children', workerId: 'nobody', limit: 10 })).jobs).toEqual([]);
      expect((await store.list({ state: 'waiting-children', title: (await getJob(one.parent)).job_title, limit: 10 })).jobs.map((j) => j.job_id)).toEqual([one.parent]);
    });
  });
}

/** A flow survives a close and reopen (stores registered with `reopen`). */
export function describeFlowPersistence(fixture: StoreFixture): void {
  const { store, queuedIds, getJob, reopen } = fixture;
  const { waiting, leaseExpect, complete } = flowFixture(fixture);

  describe('flows: persistence', () => {
    it('a waiting parent, its flow, children, results and finally job survive a reopen; the flow goes on', async () => {
      const { parent, children, finallyId } = await waiting(3, { withFinally: true });
      const [k1, k2, k3] = children as [string, string, string];
      await complete(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 3);
      // Its parent and children ahead of k3 in the queue.
      const failing = await waiting(2, { withFinally: true, now: T0 + 4, priority: 1, childPriority: 3 });
      await leaseExpect(failing.children[0]!, 'w4', T0 + 5);
      expect(await store.cancel(failing.parent, T0 + 6)).toBe('cancelled');

      const snapshot = async () => ({
        jobs: await Promise.all([parent, ...children, failing.parent, ...failing.children].map((id) => store.get(id))),
        children: await store.children(parent),
        results: await store.childResults(parent),
        failingResults: await store.childResults(failing.parent),
        queued: await queuedJobs(store),
        waiting: await store.list({ state: 'waiting-children', limit: 100 }),
        counts: await store.counts(T0),
      });
      const before = await snapshot();
      expect(before.counts).toMatchObject({ waiting: 1, running: 2, queued: 1 });
      await reopen();
      expect(await snapshot()).toEqual(before);

      // The flows go on: the running children are still their workers', the finally job comes once the last one ends.
      expect(await store.renew(k2, 'w3', LEASE, T0 + 7)).toBe(true);
      expect(await store.finish(k2, 'w3', { state: 'completed', result: { child: k2 } }, T0 + 8)).toBe('ok');
      expect(await store.finish(failing.children[0]!, 'w4', { state: 'cancelled' }, T0 + 9)).toBe('ok');
      expect((await getJob(failing.parent)).flow?.finally_id).toBe(failing.finallyId);
      expect(await queuedIds()).toEqual([failing.finallyId, k3]);
      await complete(failing.finallyId!, 'w2', T0 + 10);
      await complete(k3, 'w2', T0 + 10);
      const resumed = await leaseExpect(parent, 'w5', T0 + 11);
      expect(resumed).toMatchObject({ attempts: 1, flow: { round: 1, children, pending: 0 } });
      expect((await store.childResults(parent)).map((r) => r.state)).toEqual(['completed', 'completed', 'completed']);
      expect(await store.get(finallyId!)).toBeUndefined();
    });
  });
}
