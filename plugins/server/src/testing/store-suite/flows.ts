import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@sisyphus/core';
import type { WaitForChildren } from '../../store/queue-store.js';
import { expectStoreError } from './expect-store-error.js';
import { flowFixture } from './flow-fixture.js';
import { describeFlowEnds } from './flow-ends.js';
import { describeFlowFinally } from './flow-finally.js';
import { describeFlowPersistence, describeFlowQueueOperations } from './flow-queue-operations.js';
import { LEASE, MAX_ATTEMPTS, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** Far after every finish of the section. */
const LATER = T0 + 1_000_000_000;

/**
 * Fan-out (flows): `waitForChildren`, `childResults`, `children`, and what
 * the other operations do with waiting parents and children. The sections
 * on failing and cancelled flows, `finally` jobs, queue operations and
 * persistence (`persistence`: the fixture can reopen) live beside this file.
 */
export function describeFlows(fixture: StoreFixture, options: { persistence: boolean }): void {
  describeFlowWaiting(fixture);
  describeFlowEnds(fixture);
  describeFlowFinally(fixture);
  describeFlowQueueOperations(fixture);
  if (options.persistence) describeFlowPersistence(fixture);
}

/** A job waits for children, they run, it resumes. */
function describeFlowWaiting(fixture: StoreFixture): void {
  const { store, newJob, submit, leaseAll, queuedIds, getJob } = fixture;
  const { running, childJobs, waiting, leaseExpect, complete, completedResult } = flowFixture(fixture);

  describe('flows: waiting for children and resuming', () => {
    it('a running job waits: waiting-children, no lease, attempts 0, its flow and result recorded; children queued in order with parent_id', async () => {
      const parent = await running(0, 'w1', T0);
      const [ahead] = await submit(1);
      const kids = childJobs(3);
      const wait: WaitForChildren = {
        result: { tasks: [{ module: 'cleanup', ok: true }], text: TRICKY },
        task_index: 1,
        state: { plan: [0, 60.5, 120], text: TRICKY, nested: { empty: [], nil: null, yes: true } },
        children: kids,
      };
      expect(await store.waitForChildren(parent.job_id, 'w1', wait, T0 + 10)).toBe('ok');

      const waited = await getJob(parent.job_id);
      expect(waited).toMatchObject({ job_id: parent.job_id, job_title: parent.job_title, state: 'waiting-children', attempts: 0, priority: 0, added: parent.added });
      expect(waited.job).toEqual(parent.job);
      expect(waited.result).toEqual(wait.result);
      expect(waited.lease_expires).toBeUndefined();
      expect(waited.finished_at).toBeUndefined();
      expect(waited.parent_id).toBeUndefined();
      expect(waited.cancel_requested).toBeFalsy();
      expect(waited.flow).toEqual({ task_index: 1, round: 1, state: wait.state, children: kids.map((k) => k.job_id), pending: 3 });

      // Children: ordinary queued jobs behind those already queued, in the order given.
      expect(await queuedIds()).toEqual([ahead, ...kids.map((k) => k.job_id)]);
      expect(await store.queueLength()).toBe(4);
      for (const kid of kids) {
        const child = await getJob(kid.job_id);
        expect(child).toMatchObject({ job_id: kid.job_id, job_title: kid.job_title, state: 'queued', priority: 0, added: kid.added, attempts: 0, parent_id: parent.job_id });
        expect(child.job).toEqual(kid.job);
        expect(child.flow).toBeUndefined();
        expect(child.worker_id).toBeUndefined();
      }
      expect(await store.children(parent.job_id)).toEqual(await Promise.all(kids.map((k) => getJob(k.job_id))));
      expect(await store.childResults(parent.job_id)).toEqual([]);
      // The queued documents are the children's own.
      const documents = (await store.queuedDocuments({ limit: 100 })).documents.map((d) => JSON.parse(d) as Record<string, unknown>);
      expect(documents.slice(1)).toEqual(kids.map((k) => k.job));
    });

    it('children queue at their own priority, FIFO among the jobs already queued', async () => {
      const parent = await running(1);
      const [low] = await submit(1, 0);
      const [mid] = await submit(1, 3);
      const kids = [...childJobs(1, 3), ...childJobs(1, 0), ...childJobs(1, 5), ...childJobs(1, 3)];
      expect(await store.waitForChildren(parent.job_id, 'w1', { result: {}, task_index: 0, children: kids }, T0 + 1)).toBe('ok');
      const [k0, k1, k2, k3] = kids.map((k) => k.job_id);
      expect(await queuedIds()).toEqual([k2, mid, k0, k3, low, k1]);
      expect((await store.children(parent.job_id)).map((j) => j.job_id)).toEqual([k0, k1, k2, k3]);
      expect((await getJob(parent.job_id)).flow?.children).toEqual([k0, k1, k2, k3]);
    });

    it('the waiting job is never leased and its leases do not expire: workers get its children, then nothing', async () => {
      const { parent, children } = await waiting(2);
      expect(await leaseAll('w2', T0 + 2)).toEqual(children);
      expect(await store.lease('w3', LEASE, T0 + 3)).toBeUndefined();
      expect((await store.poll('w3', LEASE, T0 + 3)).job).toBeUndefined();
      const expired = await store.expireLeases(T0 + 10 * LEASE, MAX_ATTEMPTS);
      expect([...expired.requeued].sort()).toEqual([...children].sort());
      expect(expired.failed).toEqual([]);
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', attempts: 0 });
      expect((await getJob(parent)).lease_expires).toBeUndefined();
      expect(await queuedIds()).not.toContain(parent);
    });

    it('the worker that waited holds the job no more: its report, renewal, release and another wait are lease-lost, also once the job is queued to resume', async () => {
      const { parent, children } = await waiting(1);
      const before = await getJob(parent);
      expect(await store.finish(parent, 'w1', { state: 'completed' }, T0 + 2)).toBe('lease-lost');
      expect(await store.finish(parent, undefined, { state: 'failed' }, T0 + 2)).toBe('lease-lost');
      expect(await store.finishAndPoll(parent, 'w1', { state: 'completed' }, T0 + 2, LEASE)).toEqual({ result: 'lease-lost' });
      expect(await store.renew(parent, 'w1', LEASE, T0 + 2)).toBe(false);
      expect(await store.release(parent, 'w1', T0 + 2)).toBe('lease-lost');
      expect(await store.waitForChildren(parent, 'w1', { result: {}, task_index: 1, children: childJobs(1) }, T0 + 2)).toBe('lease-lost');
      expect(await getJob(parent)).toEqual(before);
      expect(await queuedIds()).toEqual(children);

      await complete(children[0]!, 'w2', T0 + 3);
      expect((await getJob(parent)).state).toBe('queued');
      expect(await store.renew(parent, 'w1', LEASE, T0 + 4)).toBe(false);
      expect(await store.finish(parent, 'w1', { state: 'completed' }, T0 + 4)).toBe('lease-lost');
      expect(await store.release(parent, 'w1', T0 + 4)).toBe('lease-lost');
      expect((await getJob(parent)).state).toBe('queued');
      expect((await leaseExpect(parent, 'w3', T0 + 5)).attempts).toBe(1);
    });

    it('holder rules as finish: not-found, another worker, a queued or finished job; any holder when none is named; an anonymous lease; the last holder of a requeued job', async () => {
      const wait = (): WaitForChildren => ({ result: {}, task_index: 0, children: childJobs(1) });
      // Unknown job: nothing is queued.
      const unknown = wait();
      expect(await store.waitForChildren(randomUUID(), 'w1', unknown, T0)).toBe('not-found');
      expect(await store.get(unknown.children[0]!.job_id)).toBeUndefined();

      // Held by another worker: nothing changes.
      const held = await running(0, 'w1', T0);
      const other = wait();
      expect(await store.waitForChildren(held.job_id, 'w2', other, T0 + 1)).toBe('lease-lost');
      expect(await getJob(held.job_id)).toEqual(held);
      expect(await store.get(other.children[0]!.job_id)).toBeUndefined();
      expect(await queuedIds()).toEqual([]);

      // A queued job and a finished one.
      const [queued] = await submit(1);
      expect(await store.waitForChildren(queued!, 'w1', wait(), T0 + 1)).toBe('lease-lost');
      expect(await store.waitForChildren(queued!, undefined, wait(), T0 + 1)).toBe('lease-lost');
      expect((await getJob(queued!)).state).toBe('queued');
      expect(await store.remove(queued!)).toBe(true);
      expect(await store.finish(held.job_id, 'w1', { state: 'completed' }, T0 + 2)).toBe('ok');
      expect(await store.waitForChildren(held.job_id, 'w1', wait(), T0 + 3)).toBe('lease-lost');
      expect((await getJob(held.job_id)).state).toBe('completed');
      expect(await queuedIds()).toEqual([]);

      // No worker named: whoever holds it.
      const anyone = await running(0, 'w1', T0 + 4);
      expect(await store.waitForChildren(anyone.job_id, undefined, wait(), T0 + 5)).toBe('ok');
      expect((await getJob(anyone.job_id)).state).toBe('waiting-children');
      expect(await store.cancel(anyone.job_id, T0 + 5)).toBe('cancelled');

      // Leased anonymously: any worker's wait is taken.
      await store.submit(newJob());
      const anonymous = await store.lease('', LEASE, T0 + 6);
      expect(await store.waitForChildren(anonymous!.job_id, 'w7', wait(), T0 + 7)).toBe('ok');
      expect((await getJob(anonymous!.job_id)).state).toBe('waiting-children');
      expect(await store.cancel(anonymous!.job_id, T0 + 7)).toBe('cancelled');
      expect(await queuedIds()).toEqual([]);

      // Requeued after its lease ran out and not leased again: still its last holder's.
      const requeued = await running(0, 'w3', T0 + 10);
      expect(await store.expireLeases(T0 + 11 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [requeued.job_id], failed: [] });
      const last = wait();
      expect(await store.waitForChildren(requeued.job_id, 'w4', last, T0 + 12 + LEASE)).toBe('lease-lost');
      expect(await store.waitForChildren(requeued.job_id, 'w3', last, T0 + 12 + LEASE)).toBe('ok');
      expect(await getJob(requeued.job_id)).toMatchObject({ state: 'waiting-children', attempts: 0 });
      expect(await queuedIds()).toEqual([last.children[0]!.job_id]);
    });

    it('a child cannot wait for children of its own: SIS_JOB_STATE, and it stays as it was', async () => {
      const { parent, children } = await waiting(1);
      const child = await leaseExpect(children[0]!, 'w2', T0 + 2);
      const grandchild = childJobs(1);
      await expectStoreError(store.waitForChildren(child.job_id, 'w2', { result: {}, task_index: 0, children: grandchild }, T0 + 3), ErrorCodes.JOB_STATE);
      expect(await getJob(child.job_id)).toEqual(child);
      expect(await store.get(grandchild[0]!.job_id)).toBeUndefined();
      expect(await store.finish(child.job_id, 'w2', { state: 'completed' }, T0 + 4)).toBe('ok');
      expect((await getJob(parent)).state).toBe('queued');
    });

    it('a child id that is taken (another job, the parent, twice in one wait): SIS_JOB_EXISTS, and nothing changes', async () => {
      const parent = await running(0, 'w1', T0);
      const [queued] = await submit(1);
      const fresh = childJobs(1);
      const cases: WaitForChildren['children'][] = [
        [...fresh, { ...newJob(), job_id: queued! }],
        [...fresh, { ...newJob(), job_id: parent.job_id }],
        [...fresh, ...fresh],
      ];
      for (const children of cases) {
        await expectStoreError(store.waitForChildren(parent.job_id, 'w1', { result: { x: 1 }, task_index: 0, children }, T0 + 1), ErrorCodes.JOB_EXISTS);
        expect(await getJob(parent.job_id)).toEqual(parent);
        expect(await store.get(fresh[0]!.job_id)).toBeUndefined();
        expect(await queuedIds()).toEqual([queued]);
        expect((await getJob(queued!)).parent_id).toBeUndefined();
      }
      // It can still wait, or finish.
      expect(await store.waitForChildren(parent.job_id, 'w1', { result: {}, task_index: 0, children: fresh }, T0 + 2)).toBe('ok');
    });

    it('when every child completed, the parent is queued again at the head of its priority and resumes with its flow, attempts counted from 1', async () => {
      const { parent, children, jobs, wait } = await waiting(3, { priority: 2, childPriority: 9 });
      const [a] = await submit(1, 2);
      const [b] = await submit(1, 5);
      const [k1, k2, k3] = children as [string, string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      await leaseExpect(k3, 'w2', T0 + 2);
      expect(await store.finish(k2, 'w3', { state: 'completed', result: { child: k2 } }, T0 + 10)).toBe('ok');
      expect(await store.childResults(parent)).toEqual([completedResult(jobs[1]!)]);
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 2 } });
      expect(await store.finish(k1, 'w2', { state: 'completed', result: { child: k1 } }, T0 + 11)).toBe('ok');
      // In the order given, not the order they ended.
      expect(await store.childResults(parent)).toEqual([completedResult(jobs[0]!), completedResult(jobs[1]!)]);
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 1 } });
      expect(await queuedIds()).toEqual([b, a]);

      expect(await store.finish(k3, 'w2', { state: 'completed', result: { child: k3 } }, T0 + 12)).toBe('ok');
      const queued = await getJob(parent);
      expect(queued).toMatchObject({ state: 'queued', attempts: 0, priority: 2 });
      expect(queued.result).toEqual(wait.result);
      expect(queued.lease_expires).toBeUndefined();
      expect(queued.finished_at).toBeUndefined();
      expect(queued.reason).toBeUndefined();
      expect(queued.flow).toEqual({ task_index: 1, round: 1, state: wait.state, children, pending: 0 });
      expect(await queuedIds()).toEqual([b, parent, a]);
      expect(await store.childResults(parent)).toEqual(jobs.map(completedResult));

      await leaseExpect(b, 'w4', T0 + 13);
      const resumed = await leaseExpect(parent, 'w4', T0 + 14);
      expect(resumed).toMatchObject({ state: 'running', attempts: 1, worker_id: 'w4', lease_expires: T0 + 14 + LEASE });
      expect(resumed.flow).toEqual(queued.flow);
      expect(resumed.job).toEqual(queued.job);
      expect(Date.parse(resumed.started_at!)).toBe(T0 + 14);
      // It is leased like any job: renewed by its holder, and it ends with its worker's report; the flow stays in its history.
      expect(await store.renew(parent, 'w4', LEASE, T0 + 15)).toBe(true);
      expect(await store.finish(parent, 'w4', { state: 'completed', result: { done: true } }, T0 + 16)).toBe('ok');
      const done = await getJob(parent);
      expect(done).toMatchObject({ state: 'completed', result: { done: true }, flow: queued.flow });
      expect(await store.childResults(parent)).toEqual(jobs.map(completedResult));
      expect((await store.children(parent)).map((j) => j.job_id)).toEqual(children);
    });

    it('a resumed parent whose lease runs out is requeued and leased again like any job', async () => {
      const { parent, children } = await waiting(1);
      await complete(children[0]!, 'w2', T0 + 2);
      await leaseExpect(parent, 'w3', T0 + 3);
      expect(await store.expireLeases(T0 + 4 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [parent], failed: [] });
      const again = await leaseExpect(parent, 'w4', T0 + 5 + LEASE);
      expect(again).toMatchObject({ attempts: 2, flow: { round: 1, pending: 0 } });
    });

    it('childResults keeps the results, in the order given, after the children\'s own records were purged', async () => {
      const { parent, children, jobs } = await waiting(3, { childPriority: 5 });
      const [done] = await submit(1, 9);
      await leaseExpect(done!, 'w2', T0 + 2);
      expect(await store.finish(done!, 'w2', { state: 'completed' }, T0 + 2)).toBe('ok');
      for (const id of children) await leaseExpect(id, 'w2', T0 + 3);
      for (const id of [children[2]!, children[0]!, children[1]!]) {
        expect(await store.finish(id, 'w2', { state: 'completed', result: { child: id } }, T0 + 4)).toBe('ok');
      }
      expect(await store.purge('completed', { before: LATER }, 100)).toBe(4);
      for (const id of children) expect(await store.get(id)).toBeUndefined();
      expect(await store.children(parent)).toEqual([]);
      expect(await store.childResults(parent)).toEqual(jobs.map(completedResult));
      expect((await leaseExpect(parent, 'w3', T0 + 4)).flow).toMatchObject({ children, pending: 0 });
    });

    it('childResults and children answer empty for a job without a flow and for an unknown id', async () => {
      const [plain] = await submit(1);
      expect(await store.childResults(plain!)).toEqual([]);
      expect(await store.children(plain!)).toEqual([]);
      expect(await store.childResults(randomUUID())).toEqual([]);
      expect(await store.children(randomUUID())).toEqual([]);
      // A child has neither children nor results of its own.
      const { children } = await waiting(1, { priority: 1 });
      expect(await store.childResults(children[0]!)).toEqual([]);
      expect(await store.children(children[0]!)).toEqual([]);
    });

    it('zero children: the job is queued again at once, at the head of its priority, round 1', async () => {
      const parent = await running(0, 'w1', T0);
      const [behind] = await submit(1);
      const [high] = await submit(1, 3);
      expect(await store.waitForChildren(parent.job_id, 'w1', { result: { r: 1 }, task_index: 2, state: 'plain', children: [] }, T0 + 1)).toBe('ok');
      const queued = await getJob(parent.job_id);
      expect(queued).toMatchObject({ state: 'queued', attempts: 0, result: { r: 1 } });
      expect(queued.flow).toEqual({ task_index: 2, round: 1, state: 'plain', children: [], pending: 0 });
      expect(await queuedIds()).toEqual([high, parent.job_id, behind]);
      expect(await store.counts(T0)).toMatchObject({ queued: 3, running: 0, waiting: 0 });
      await leaseExpect(high!, 'w2', T0 + 2);
      expect(await leaseExpect(parent.job_id, 'w2', T0 + 2)).toMatchObject({ attempts: 1, flow: queued.flow });
      expect(await store.childResults(parent.job_id)).toEqual([]);
      expect(await store.children(parent.job_id)).toEqual([]);
    });

    it('a second round: round 2 with its own children and results; children() lists both rounds', async () => {
      const first = await waiting(2);
      const { parent } = first;
      for (const id of first.children) await complete(id, 'w2', T0 + 2);
      await leaseExpect(parent, 'w3', T0 + 3);
      const kids = childJobs(3);
      const wait: WaitForChildren = { result: { round: 2 }, task_index: 2, state: ['second', TRICKY], children: kids };
      expect(await store.waitForChildren(parent, 'w3', wait, T0 + 4)).toBe('ok');
      const waited = await getJob(parent);
      expect(waited).toMatchObject({ state: 'waiting-children', attempts: 0, result: { round: 2 } });
      expect(waited.flow).toEqual({ task_index: 2, round: 2, state: wait.state, children: kids.map((k) => k.job_id), pending: 3 });
      expect(await store.childResults(parent)).toEqual([]);
      expect(await store.counts(T0)).toMatchObject({ waiting: 1, queued: 3 });
      for (const kid of kids) await leaseExpect(kid.job_id, 'w2', T0 + 5);
      const finish = async (id: string) => expect(await store.finish(id, 'w2', { state: 'completed', result: { child: id } }, T0 + 6)).toBe('ok');
      await finish(kids[1]!.job_id);
      expect(await store.childResults(parent)).toEqual([completedResult(kids[1]!)]);
      expect((await store.children(parent)).map((j) => j.job_id)).toEqual([...first.children, ...kids.map((k) => k.job_id)]);
      await finish(kids[0]!.job_id);
      await finish(kids[2]!.job_id);
      expect(await store.childResults(parent)).toEqual(kids.map(completedResult));
      const resumed = await leaseExpect(parent, 'w4', T0 + 8);
      expect(resumed).toMatchObject({ attempts: 1, flow: { task_index: 2, round: 2, children: kids.map((k) => k.job_id), pending: 0 } });
      expect(resumed.result).toEqual({ round: 2 });
    });

    it('children are ordinary jobs: renewed, released and requeued by lease expiry without ending; the parent keeps waiting', async () => {
      const { parent, children } = await waiting(2);
      const [k1, k2] = children as [string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      expect(await store.renew(k1, 'w2', LEASE, T0 + 3)).toBe(true);
      expect(await store.release(k2, 'w3', T0 + 4)).toBe('ok');
      expect(await store.expireLeases(T0 + 5 + LEASE, MAX_ATTEMPTS)).toEqual({ requeued: [k1], failed: [] });
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 2 } });
      expect(await store.childResults(parent)).toEqual([]);
      expect((await queuedIds()).sort()).toEqual([k1, k2].sort());
      // The last holder's late report still counts (the job was requeued, not leased again).
      expect(await store.finish(k1, 'w2', { state: 'completed', result: { child: k1 } }, T0 + 6 + LEASE)).toBe('ok');
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 1 } });
      await complete(k2, 'w4', T0 + 7 + LEASE);
      expect((await getJob(parent)).state).toBe('queued');
    });

    it('finishAndPoll of a child hands the worker its next job; after the last child, the resumed parent may be that job', async () => {
      const { parent, children, jobs, wait } = await waiting(2);
      const [other] = await submit(1);
      const [k1, k2] = children as [string, string];
      await leaseExpect(k1, 'w2', T0 + 2);
      await leaseExpect(k2, 'w3', T0 + 2);
      const first = await store.finishAndPoll(k1, 'w2', { state: 'completed', result: { child: k1 } }, T0 + 3, LEASE);
      expect(first).toMatchObject({ result: 'ok', job: { job_id: other, state: 'running', worker_id: 'w2' } });
      expect(await getJob(parent)).toMatchObject({ state: 'waiting-children', flow: { pending: 1 } });

      const last = await store.finishAndPoll(k2, 'w3', { state: 'completed', result: { child: k2 } }, T0 + 4, LEASE);
      expect(last.result).toBe('ok');
      expect(last.job).toMatchObject({ job_id: parent, state: 'running', attempts: 1, worker_id: 'w3', lease_expires: T0 + 4 + LEASE });
      expect(last.job?.flow).toEqual({ task_index: 1, round: 1, state: wait.state, children, pending: 0 });
      expect(await getJob(parent)).toEqual(last.job);
      expect(await store.childResults(parent)).toEqual(jobs.map(completedResult));
      expect((await getJob(k2)).state).toBe('completed');
      expect(await queuedIds()).toEqual([]);
    });

    it('finishAndPoll of the last child while the queue is disabled: the parent is queued, nothing is leased', async () => {
      const { parent, children } = await waiting(1);
      await leaseExpect(children[0]!, 'w2', T0 + 2);
      await store.setQueueAttributes({ disabled: true });
      expect(await store.finishAndPoll(children[0]!, 'w2', { state: 'completed' }, T0 + 3, LEASE)).toEqual({ result: 'ok', blocked: 'queue' });
      expect(await getJob(parent)).toMatchObject({ state: 'queued', attempts: 0 });
      expect(await store.childResults(parent)).toEqual([{ job_id: children[0], job_title: expect.any(String), state: 'completed' }]);
      await store.setQueueAttributes({ disabled: false });
      expect((await store.poll('w4', LEASE, T0 + 4)).job?.job_id).toBe(parent);
    });
  });
}
