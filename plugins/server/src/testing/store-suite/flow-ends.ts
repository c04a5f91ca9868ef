import { describe, expect, it } from 'vitest';
import type { ChildResult, NewJob, StoredJob } from '../../store/queue-store.js';
import { flowFixture } from './flow-fixture.js';
import { LEASE, MAX_ATTEMPTS, T0, type StoreFixture } from './store-fixture.js';

/** The {@link ChildResult} a child's record says it ended with. */
function resultOf(job: StoredJob): ChildResult {
  const result: ChildResult = { job_id: job.job_id, job_title: job.job_title, state: job.state as ChildResult['state'] };
  if (job.result !== undefined) result.result = job.result;
  if (job.reason !== undefined) result.reason = job.reason;
  return result;
}

const failedReason = (child: NewJob, why: string) => `child ${child.job_id} (${child.job_title}) failed: ${why}`;
const cancelledReason = (child: NewJob) => `child ${child.job_id} (${child.job_title}) was cancelled`;

/**
 * Flows that end otherwise: a child fails (a report, its lease running out
 * for the last time) or is cancelled, the waiting parent is cancelled; the
 * other children are cancelled with it, and children that end later are
 * still recorded.
 */
export function describeFlowEnds(fixture: StoreFixture): void {
  const { store, queuedIds, getJob } = fixture;
  const { waiting, leaseExpect } = flowFixture(fixture);

  /** Each child's {@link ChildResult} from its own record, in the order given. */
  const recorded = (ids: string[]) => Promise.all(ids.map(async (id) => resultOf(await getJob(id))));

  describe('flows: a child fails or is cancelled, the parent is cancelled', () => {
    it('a child that fails fails the parent with its reason; queued siblings are cancelled, running ones asked to cancel', async () => {
      const { parent, children, jobs } = await waiting(4);
      const [k1, k2, k3, k4] = children as [string, string, string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      await leaseExpect(k3, 'w2', T0 + 2);
      expect(await store.finish(k1, 'w2', { state: 'completed', result: { child: k1 } }, T0 + 20)).toBe('ok');
      expect(await store.finish(k2, 'w3', { state: 'failed', reason: 'RunError: boom', result: { message: 'not this' } }, T0 + 30)).toBe('ok');

      const failed = await getJob(parent);
      expect(failed).toMatchObject({ state: 'failed', reason: failedReason(jobs[1]!, 'RunError: boom') });
      expect(Date.parse(failed.finished_at!)).toBe(T0 + 30);
      expect(failed.lease_expires).toBeUndefined();
      expect(await getJob(k3)).toMatchObject({ state: 'running', cancel_requested: true, worker_id: 'w2' });
      const k4job = await getJob(k4);
      expect(k4job).toMatchObject({ state: 'cancelled', reason: `parent ${parent} failed` });
      expect(Date.parse(k4job.finished_at!)).toBe(T0 + 30);
      expect(await queuedIds()).toEqual([]);
      expect(await store.lease('w4', LEASE, T0 + 31)).toBeUndefined();
      // Kept with the parent: every child that has ended, in the order given; one still runs.
      expect(await store.childResults(parent)).toEqual(await recorded([k1, k2, k4]));
      expect((await store.childResults(parent))[1]).toEqual({ job_id: k2, job_title: jobs[1]!.job_title, state: 'failed', reason: 'RunError: boom', result: { message: 'not this' } });
      expect(failed.flow).toMatchObject({ round: 1, children, pending: 1 });

      // The running one ends later: recorded, nothing else changes.
      expect(await store.renew(k3, 'w2', LEASE, T0 + 32)).toBe(true);
      expect(await store.finish(k3, 'w2', { state: 'cancelled' }, T0 + 40)).toBe('ok');
      expect(await store.childResults(parent)).toEqual(await recorded(children));
      expect(await getJob(parent)).toEqual({ ...failed, flow: { ...failed.flow!, pending: 0 } });
      expect(await store.cancel(parent, T0 + 41)).toBe('finished');
    });

    it('the failed reason falls back to the child\'s result.message, then to "failed"', async () => {
      const one = await waiting(1);
      await leaseExpect(one.children[0]!, 'w2', T0 + 2);
      expect(await store.finish(one.children[0]!, 'w2', { state: 'failed', result: { message: 'encoder died' } }, T0 + 3)).toBe('ok');
      expect((await getJob(one.parent)).reason).toBe(failedReason(one.jobs[0]!, 'encoder died'));

      const two = await waiting(1);
      await leaseExpect(two.children[0]!, 'w2', T0 + 4);
      expect(await store.finish(two.children[0]!, 'w2', { state: 'failed' }, T0 + 5)).toBe('ok');
      expect(await getJob(two.parent)).toMatchObject({ state: 'failed', reason: failedReason(two.jobs[0]!, 'failed') });
      expect(await store.childResults(two.parent)).toEqual([{ job_id: two.children[0], job_title: two.jobs[0]!.job_title, state: 'failed' }]);
    });

    it('a child whose lease runs out maxAttempts times fails the parent after its last attempt, not before', async () => {
      const { parent, children, jobs } = await waiting(2);
      const [k1, k2] = children as [string, string];
      let now = T0 + 2;
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        expect((await leaseExpect(k1, `w${attempt}`, now)).attempts).toBe(attempt);
        now += LEASE + 1;
        expect(await store.expireLeases(now, MAX_ATTEMPTS)).toEqual({ requeued: [k1], failed: [] });
        expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 2 } });
        expect(await store.childResults(parent)).toEqual([]);
      }
      await leaseExpect(k1, 'wlast', now);
      now += LEASE + 1;
      const expired = await store.expireLeases(now, MAX_ATTEMPTS);
      expect(expired.requeued).toEqual([]);
      expect(expired.failed).toContain(k1);
      const child = await getJob(k1);
      expect(child).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS });
      const failed = await getJob(parent);
      expect(failed).toMatchObject({ state: 'failed', reason: failedReason(jobs[0]!, child.reason!) });
      expect(Date.parse(failed.finished_at!)).toBe(now);
      expect(await getJob(k2)).toMatchObject({ state: 'cancelled', reason: `parent ${parent} failed` });
      expect(await store.childResults(parent)).toEqual(await recorded([k1, k2]));
      expect(await queuedIds()).toEqual([]);
    });

    it('two children whose leases run out in one sweep, one at its last attempt: the parent fails, the other child ends cancelled, whichever the sweep took first', async () => {
      const { parent, children, jobs } = await waiting(2);
      const [k1, k2] = children as [string, string];
      let now = T0 + 2;
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        await leaseExpect(k1, 'w2', now);
        now += LEASE + 1;
        expect(await store.expireLeases(now, MAX_ATTEMPTS)).toEqual({ requeued: [k1], failed: [] });
      }
      await leaseExpect(k1, 'w2', now);
      await leaseExpect(k2, 'w3', now);
      now += LEASE + 1;
      const expired = await store.expireLeases(now, MAX_ATTEMPTS);
      expect(expired.failed).toContain(k1);
      expect(await getJob(parent)).toMatchObject({ state: 'failed', reason: failedReason(jobs[0]!, (await getJob(k1)).reason!) });
      expect((await getJob(k2)).state).toBe('cancelled');
      expect(await queuedIds()).toEqual([]);
      expect(await store.childResults(parent)).toEqual(await recorded(children));
      expect((await getJob(parent)).flow).toMatchObject({ pending: 0 });
    });

    it('a child cancelled while queued cancels the parent; the other unfinished children are cancelled too', async () => {
      const { parent, children, jobs } = await waiting(3);
      const [k1, k2, k3] = children as [string, string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      expect(await store.cancel(k2, T0 + 10)).toBe('cancelled');
      const cancelled = await getJob(parent);
      expect(cancelled).toMatchObject({ state: 'cancelled', reason: cancelledReason(jobs[1]!) });
      expect(Date.parse(cancelled.finished_at!)).toBe(T0 + 10);
      expect(await getJob(k1)).toMatchObject({ state: 'running', cancel_requested: true });
      expect(await getJob(k3)).toMatchObject({ state: 'cancelled', reason: `parent ${parent} was cancelled` });
      expect(await store.childResults(parent)).toEqual(await recorded([k2, k3]));
      expect(await queuedIds()).toEqual([]);
      // A worker that completes the running child anyway: recorded as it ended, the parent stays cancelled.
      expect(await store.finish(k1, 'w2', { state: 'completed', result: { child: k1 } }, T0 + 11)).toBe('ok');
      expect(await store.childResults(parent)).toEqual(await recorded(children));
      expect((await store.childResults(parent))[0]).toMatchObject({ state: 'completed', result: { child: k1 } });
      expect(await getJob(parent)).toEqual({ ...cancelled, flow: { ...cancelled.flow!, pending: 0 } });
    });

    it('a running child whose cancel its worker reports cancels the parent', async () => {
      const { parent, children, jobs } = await waiting(2);
      const [k1, k2] = children as [string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      expect(await store.cancel(k1, T0 + 3)).toBe('requested');
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 2 } });
      expect(await store.finish(k1, 'w2', { state: 'cancelled', reason: 'cancelled' }, T0 + 4)).toBe('ok');
      expect(await getJob(parent)).toMatchObject({ state: 'cancelled', reason: cancelledReason(jobs[0]!) });
      expect(await getJob(k2)).toMatchObject({ state: 'cancelled', reason: `parent ${parent} was cancelled` });
      expect(await store.childResults(parent)).toEqual(await recorded(children));
    });

    it('a running child whose cancel was asked for and whose lease runs out ends cancelled and cancels the parent', async () => {
      const { parent, children, jobs } = await waiting(1);
      await leaseExpect(children[0]!, 'w2', T0 + 2);
      expect(await store.cancel(children[0]!, T0 + 3)).toBe('requested');
      expect(await store.expireLeases(T0 + 4 + LEASE, MAX_ATTEMPTS)).toMatchObject({ requeued: [] });
      expect((await getJob(children[0]!)).state).toBe('cancelled');
      expect(await getJob(parent)).toMatchObject({ state: 'cancelled', reason: cancelledReason(jobs[0]!) });
      expect(await store.childResults(parent)).toEqual(await recorded(children));
    });

    it('cancelling the waiting parent cancels it at once, its queued children at once and asks its running ones to cancel', async () => {
      const { parent, children } = await waiting(3);
      const [k1, k2, k3] = children as [string, string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      expect(await store.finish(k1, 'w2', { state: 'completed', result: { child: k1 } }, T0 + 3)).toBe('ok');
      const done = await getJob(k1);
      await leaseExpect(k2, 'w3', T0 + 4);
      expect(await store.cancel(parent, T0 + 40)).toBe('cancelled');

      const cancelled = await getJob(parent);
      expect(cancelled).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
      expect(Date.parse(cancelled.finished_at!)).toBe(T0 + 40);
      expect(cancelled.flow).toMatchObject({ pending: 1 });
      expect(await getJob(k1)).toEqual(done);
      expect(await getJob(k2)).toMatchObject({ state: 'running', cancel_requested: true, worker_id: 'w3' });
      const k3job = await getJob(k3);
      expect(k3job).toMatchObject({ state: 'cancelled', reason: `parent ${parent} was cancelled` });
      expect(Date.parse(k3job.finished_at!)).toBe(T0 + 40);
      expect(await store.queueLength()).toBe(0);
      expect(await store.lease('w4', LEASE, T0 + 41)).toBeUndefined();
      expect(await store.cancel(parent, T0 + 42)).toBe('finished');
      expect(await store.childResults(parent)).toEqual(await recorded([k1, k3]));

      // The running child is still its worker's until it reports.
      expect(await store.renew(k2, 'w3', LEASE, T0 + 43)).toBe(true);
      expect(await store.finish(k2, 'w3', { state: 'cancelled', reason: 'cancelled' }, T0 + 44)).toBe('ok');
      expect(await store.childResults(parent)).toEqual(await recorded(children));
      expect(await getJob(parent)).toEqual({ ...cancelled, flow: { ...cancelled.flow!, pending: 0 } });
    });

    it('a child that fails after its parent was cancelled is recorded and changes nothing else', async () => {
      const { parent, children } = await waiting(2);
      const [k1, k2] = children as [string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      expect(await store.cancel(parent, T0 + 3)).toBe('cancelled');
      const cancelled = await getJob(parent);
      expect(await store.finish(k1, 'w2', { state: 'failed', reason: 'late' }, T0 + 4)).toBe('ok');
      expect(await getJob(parent)).toEqual({ ...cancelled, flow: { ...cancelled.flow!, pending: 1 } });
      expect(await getJob(k2)).toMatchObject({ state: 'running', cancel_requested: true });
      expect(await store.childResults(parent)).toEqual(await recorded([k1]));
    });

    it('finishAndPoll of a failing child fails the parent and hands the worker the next job that is still queued', async () => {
      const { parent, children, jobs } = await waiting(3);
      const [k1, k2, k3] = children as [string, string, string];
      const [other] = await fixture.submit(1);
      await leaseExpect(k1, 'w2', T0 + 2);
      const next = await store.finishAndPoll(k1, 'w2', { state: 'failed', reason: 'x' }, T0 + 3, LEASE);
      expect(next).toMatchObject({ result: 'ok', job: { job_id: other, worker_id: 'w2' } });
      expect(await getJob(parent)).toMatchObject({ state: 'failed', reason: failedReason(jobs[0]!, 'x') });
      for (const id of [k2, k3]) expect(await getJob(id)).toMatchObject({ state: 'cancelled', reason: `parent ${parent} failed` });
      expect(await store.childResults(parent)).toEqual(await recorded(children));
    });
  });
}
