import { expect } from 'vitest';
import type { ChildResult, NewJob, StoredJob, WaitForChildren } from '../../store/queue-store.js';
import { LEASE, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** A parent that waits for its children, as {@link FlowFixture.waiting} made it. */
export interface WaitingParent {
  /** The parent's id. */
  parent: string;
  /** Its children's ids, in the order they were given. */
  children: string[];
  /** The children as they were given. */
  jobs: NewJob[];
  /** The id of its `finally` job, when it was given one. */
  finallyId?: string;
  /** What was passed to `waitForChildren`. */
  wait: WaitForChildren;
}

/** Options of {@link FlowFixture.waiting}. */
export interface WaitingOptions {
  /** Priority of the parent (default 0). */
  priority?: number;
  /** Priority of every child (default: the parent's). */
  childPriority?: number;
  /** Give the wait a `finally` job. */
  withFinally?: boolean;
  /** The worker that runs the parent (default `w1`). */
  workerId?: string;
  /** When the parent waits (default T0 + 1). */
  now?: number;
}

/** Helpers of the flow sections over a {@link StoreFixture}. */
export interface FlowFixture {
  /** Submit a job of `priority` and lease it to `workerId`; fails the test when another job is handed out. */
  running(priority?: number, workerId?: string, now?: number): Promise<StoredJob>;
  /** `n` new child jobs of `priority` whose titles carry {@link TRICKY} (reasons quote them). */
  childJobs(n: number, priority?: number): NewJob[];
  /** A new job to use as a `finally` job. */
  finallyJob(priority?: number): NewJob;
  /** A running parent that waited for `n` children (task 1, a JSON state, a result so far). */
  waiting(n: number, options?: WaitingOptions): Promise<WaitingParent>;
  /** Lease the next job to `workerId`, expecting it to be `id`. */
  leaseExpect(id: string, workerId: string, now?: number): Promise<StoredJob>;
  /** Lease and complete child `id` (result `{ child: id }`); expects the lease to hand out `id`. */
  complete(id: string, workerId?: string, now?: number): Promise<void>;
  /** The {@link ChildResult} of a child completed by {@link complete}. */
  completedResult(job: NewJob): ChildResult;
}

/** Build the {@link FlowFixture} over `fixture`. */
export function flowFixture(fixture: StoreFixture): FlowFixture {
  const { store, newJob, getJob } = fixture;

  async function running(priority = 0, workerId = 'w1', now = T0): Promise<StoredJob> {
    const job = await store.submit(newJob(priority));
    const leased = await store.lease(workerId, LEASE, now);
    expect(leased?.job_id, 'the job just submitted is leased').toBe(job.job_id);
    return leased!;
  }

  function childJobs(n: number, priority = 0): NewJob[] {
    return Array.from({ length: n }, (_, i) => {
      const job = newJob(priority, { chunk: i });
      const job_title = `chunk ${i + 1} of ${n}: ${TRICKY}`;
      return { ...job, job_title, job: { ...job.job, job_title } };
    });
  }

  function finallyJob(priority = 0): NewJob {
    const job = newJob(priority, { cleanup: true });
    return { ...job, job_title: `finally ${job.job_title}`, job: { ...job.job, job_title: `finally ${job.job_title}` } };
  }

  async function waiting(n: number, options: WaitingOptions = {}): Promise<WaitingParent> {
    const { priority = 0, workerId = 'w1', now = T0 + 1 } = options;
    const parent = await running(priority, workerId, now - 1);
    const jobs = childJobs(n, options.childPriority ?? priority);
    const wait: WaitForChildren = {
      result: { tasks: [{ module: 'cleanup', ok: true }], note: TRICKY },
      task_index: 1,
      state: { plan: [0, 60, 120], note: TRICKY, nested: { empty: [], nil: null } },
      children: jobs,
    };
    if (options.withFinally) wait.finally = finallyJob(priority);
    expect(await store.waitForChildren(parent.job_id, workerId, wait, now)).toBe('ok');
    const made: WaitingParent = { parent: parent.job_id, children: jobs.map((j) => j.job_id), jobs, wait };
    if (wait.finally) made.finallyId = wait.finally.job_id;
    return made;
  }

  async function leaseExpect(id: string, workerId: string, now = T0 + 2): Promise<StoredJob> {
    const job = await store.lease(workerId, LEASE, now);
    expect(job?.job_id, `the next job leased is ${id}`).toBe(id);
    return job!;
  }

  async function complete(id: string, workerId = 'w2', now = T0 + 3): Promise<void> {
    await leaseExpect(id, workerId, now);
    expect(await store.finish(id, workerId, { state: 'completed', result: { child: id } }, now)).toBe('ok');
    expect((await getJob(id)).state).toBe('completed');
  }

  function completedResult(job: NewJob): ChildResult {
    return { job_id: job.job_id, job_title: job.job_title, state: 'completed', result: { child: job.job_id } };
  }

  return { running, childJobs, finallyJob, waiting, leaseExpect, complete, completedResult };
}
