import { describe, expect, it } from 'vitest';
import { flowFixture } from './flow-fixture.js';
import { LEASE, MAX_ATTEMPTS, T0, type StoreFixture } from './store-fixture.js';

/**
 * The `finally` job of a flow: queued once, as a child outside the round,
 * when the parent ends failed or cancelled (however it ends) and none of its
 * children runs any more.
 */
export function describeFlowFinally(fixture: StoreFixture): void {
  const { store, queuedIds, getJob } = fixture;
  const { running, childJobs, finallyJob, waiting, leaseExpect, complete } = flowFixture(fixture);

  /** Expect `finallyId` queued as a child of `parent` (and its flow to name it). */
  async function expectFinallyQueued(parent: string, finallyId: string): Promise<void> {
    const job = await getJob(finallyId);
    expect(job).toMatchObject({ state: 'queued', parent_id: parent, attempts: 0 });
    expect(job.flow).toBeUndefined();
    const flow = (await getJob(parent)).flow!;
    expect(flow.finally_id).toBe(finallyId);
    expect(flow.children).not.toContain(finallyId);
  }

  /** Expect the finally job of `parent` not queued (yet). */
  async function expectNoFinally(parent: string, finallyId: string): Promise<void> {
    expect(await store.get(finallyId)).toBeUndefined();
    expect((await getJob(parent)).flow?.finally_id).toBeUndefined();
  }

  describe('flows: the finally job', () => {
    it('queued at once, as a child outside the round, when the parent fails and no child runs; it ends without touching the parent', async () => {
      const { parent, children, finallyId, wait } = await waiting(2, { withFinally: true });
      const [k1, k2] = children as [string, string];
      await expectNoFinally(parent, finallyId!);
      await leaseExpect(k1, 'w2', T0 + 2);
      expect(await store.finish(k1, 'w2', { state: 'failed', reason: 'boom' }, T0 + 3)).toBe('ok');
      expect((await getJob(k2)).state).toBe('cancelled');
      await expectFinallyQueued(parent, finallyId!);
      const queued = await getJob(finallyId!);
      expect(queued).toMatchObject({ job_id: finallyId, job_title: wait.finally!.job_title, priority: wait.finally!.priority, added: wait.finally!.added });
      expect(queued.job).toEqual(wait.finally!.job);
      expect(await queuedIds()).toEqual([finallyId]);
      expect((await getJob(parent)).flow).toMatchObject({ children, pending: 0 });
      expect((await store.children(parent)).map((j) => j.job_id)).toEqual([k1, k2, finallyId]);

      // The finally job runs like any job; its end is no child's end: results and parent stay.
      const parentBefore = await getJob(parent);
      const resultsBefore = await store.childResults(parent);
      expect(resultsBefore.map((r) => r.job_id)).toEqual(children);
      await complete(finallyId!, 'w3', T0 + 4);
      expect(await getJob(parent)).toEqual(parentBefore);
      expect(await store.childResults(parent)).toEqual(resultsBefore);
      expect(await queuedIds()).toEqual([]);
    });

    it('while children run, queued only when the last of them ends (a report, a lease running out); once', async () => {
      const { parent, children, finallyId } = await waiting(3, { withFinally: true });
      const [k1, k2, k3] = children as [string, string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      expect(await store.cancel(parent, T0 + 3)).toBe('cancelled');
      expect((await getJob(k3)).state).toBe('cancelled');
      await expectNoFinally(parent, finallyId!);
      expect(await store.finish(k1, 'w2', { state: 'cancelled' }, T0 + 4)).toBe('ok');
      await expectNoFinally(parent, finallyId!);
      expect(await queuedIds()).toEqual([]);
      // k2's worker is gone: its lease runs out and, its cancel asked for, it ends.
      const expired = await store.expireLeases(T0 + 5 + LEASE, MAX_ATTEMPTS);
      expect(expired.requeued).toEqual([]);
      expect(expired.failed).toContain(k2);
      await expectFinallyQueued(parent, finallyId!);
      expect((await getJob(parent)).flow).toMatchObject({ pending: 0 });
      expect(await queuedIds()).toEqual([finallyId]);
      expect(await store.cancel(parent, T0 + 6 + LEASE)).toBe('finished');
      expect((await store.children(parent)).map((j) => j.job_id)).toEqual([k1, k2, k3, finallyId]);
    });

    it('after a child failed, a sibling that ends later failing too queues it once', async () => {
      const { parent, children, finallyId, jobs } = await waiting(2, { withFinally: true });
      const [k1, k2] = children as [string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      expect(await store.finish(k1, 'w2', { state: 'failed', reason: 'first' }, T0 + 3)).toBe('ok');
      await expectNoFinally(parent, finallyId!);
      expect(await store.finish(k2, 'w3', { state: 'failed', reason: 'second' }, T0 + 4)).toBe('ok');
      await expectFinallyQueued(parent, finallyId!);
      expect((await getJob(parent)).reason).toBe(`child ${k1} (${jobs[0]!.job_title}) failed: first`);
      expect((await store.children(parent)).filter((j) => j.job_id === finallyId)).toHaveLength(1);
      expect(await queuedIds()).toEqual([finallyId]);
    });

    it('queued when the worker reports the resumed run failed or cancelled; never after it completed', async () => {
      for (const state of ['failed', 'cancelled'] as const) {
        const { parent, children, finallyId } = await waiting(1, { withFinally: true });
        await complete(children[0]!, 'w2', T0 + 2);
        await expectNoFinally(parent, finallyId!);
        await leaseExpect(parent, 'w3', T0 + 3);
        await expectNoFinally(parent, finallyId!);
        expect(await store.finish(parent, 'w3', { state, reason: 'RunError: x' }, T0 + 4)).toBe('ok');
        expect((await getJob(parent)).state).toBe(state);
        await expectFinallyQueued(parent, finallyId!);
        await complete(finallyId!, 'w2', T0 + 5);
      }
      const { parent, children, finallyId } = await waiting(1, { withFinally: true });
      await complete(children[0]!, 'w2', T0 + 6);
      await leaseExpect(parent, 'w3', T0 + 7);
      expect(await store.finishAndPoll(parent, 'w3', { state: 'completed', result: { ok: true } }, T0 + 8, LEASE)).toEqual({ result: 'ok' });
      await expectNoFinally(parent, finallyId!);
      expect(await queuedIds()).toEqual([]);
    });

    it('queued when the resumed parent is cancelled while queued, or fails by its lease running out', async () => {
      const one = await waiting(1, { withFinally: true });
      await complete(one.children[0]!, 'w2', T0 + 2);
      expect((await getJob(one.parent)).state).toBe('queued');
      expect(await store.cancel(one.parent, T0 + 3)).toBe('cancelled');
      expect((await getJob(one.parent)).state).toBe('cancelled');
      await expectFinallyQueued(one.parent, one.finallyId!);
      expect(await queuedIds()).toEqual([one.finallyId]);
      await complete(one.finallyId!, 'w2', T0 + 4);

      // Zero children, so queued again at once; its lease then runs out maxAttempts times.
      const parent = await running(0, 'w1', T0 + 5);
      const last = finallyJob();
      expect(await store.waitForChildren(parent.job_id, 'w1', { result: {}, task_index: 0, children: [], finally: last }, T0 + 6)).toBe('ok');
      let now = T0 + 7;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        await leaseExpect(parent.job_id, 'w2', now);
        now += LEASE + 1;
        await store.expireLeases(now, MAX_ATTEMPTS);
        if (attempt < MAX_ATTEMPTS) await expectNoFinally(parent.job_id, last.job_id);
      }
      expect((await getJob(parent.job_id)).state).toBe('failed');
      await expectFinallyQueued(parent.job_id, last.job_id);
    });

    it('the last wait\'s finally counts', async () => {
      const { parent, children, finallyId } = await waiting(1, { withFinally: true });
      await complete(children[0]!, 'w2', T0 + 2);
      await leaseExpect(parent, 'w3', T0 + 3);
      const second = finallyJob();
      const kids = childJobs(1);
      expect(await store.waitForChildren(parent, 'w3', { result: {}, task_index: 1, children: kids, finally: second }, T0 + 4)).toBe('ok');
      await leaseExpect(kids[0]!.job_id, 'w2', T0 + 5);
      expect(await store.finish(kids[0]!.job_id, 'w2', { state: 'failed', reason: 'x' }, T0 + 6)).toBe('ok');
      await expectFinallyQueued(parent, second.job_id);
      expect(await store.get(finallyId!)).toBeUndefined();
      expect(await queuedIds()).toEqual([second.job_id]);
    });

    it('a parent without a finally job queues nothing when it fails', async () => {
      const { parent, children } = await waiting(1);
      await leaseExpect(children[0]!, 'w2', T0 + 2);
      expect(await store.finish(children[0]!, 'w2', { state: 'failed', reason: 'x' }, T0 + 3)).toBe('ok');
      expect((await getJob(parent)).state).toBe('failed');
      expect((await getJob(parent)).flow?.finally_id).toBeUndefined();
      expect(await queuedIds()).toEqual([]);
      expect((await store.children(parent)).map((j) => j.job_id)).toEqual(children);
    });
  });
}
