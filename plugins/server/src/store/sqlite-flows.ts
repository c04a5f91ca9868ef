import type Database from 'better-sqlite3';
import { ErrorCodes } from '@sisyphus/core';
import { flowOf, iso, toJob, type JobRow } from './sqlite-job-row.js';
import { StoreError, jobExists } from './store-error.js';
import type { ChildResult, JobFlow, NewJob, StoredJob, WaitForChildren } from './queue-store.js';

/** What {@link SqliteFlows} needs of the store: its statements, rows and inserts, inside the caller's transaction. */
export interface FlowTables {
  /** A prepared statement (cached by the store). */
  stmt(sql: string): Database.Statement;
  row(jobId: string): JobRow | undefined;
  /** Queue `job` as a child of `parentId`; `SIS_JOB_EXISTS` when its id is taken. */
  insertChild(job: NewJob, parentId: string): void;
}

interface ChildRow {
  parent_id: string;
  round: number;
  idx: number;
  child_id: string;
  job_title: string;
  state: ChildResult['state'] | null;
  result: string | null;
  reason: string | null;
}

/** What the parent fails with when `child` failed: the child's reason, else its `result.message`, else 'failed'. */
function failedWhy(child: JobRow): string {
  if (child.reason) return child.reason;
  const message = child.result === null ? undefined : (JSON.parse(child.result) as Record<string, unknown>).message;
  return typeof message === 'string' && message !== '' ? message : 'failed';
}

/**
 * The fan-out (flows) of the SQLite store: `waitForChildren` and what
 * happens when a child or a parent ends. Every method runs inside the
 * store's transaction of the operation that calls it, so that "a child
 * ended" is part of the end itself (a report, a lease running out, a cancel).
 *
 * Tables: `jobs.parent_id`, `jobs.flow` (the JobFlow, JSON), `jobs.flow_finally`
 * (the finally job until it is queued) and `job_children` (each round's
 * children in the order given and how they ended).
 */
export class SqliteFlows {
  readonly #t: FlowTables;

  constructor(tables: FlowTables) {
    this.#t = tables;
  }

  /**
   * The running job `row` (its holder checked) waits for `wait.children`
   * (see `QueueStore.waitForChildren`). Throws `SIS_JOB_STATE` for a child,
   * `SIS_JOB_EXISTS` for a taken id, before it changes anything.
   */
  wait(row: JobRow, wait: WaitForChildren, now: number): void {
    if (row.parent_id !== null) {
      throw new StoreError(ErrorCodes.JOB_STATE, `job ${row.job_id} is a child of job ${row.parent_id}: a child cannot wait for children of its own`);
    }
    const ids = new Set<string>([row.job_id]);
    for (const job of wait.finally ? [...wait.children, wait.finally] : wait.children) {
      if (ids.has(job.job_id) || this.#t.row(job.job_id)) throw jobExists(job.job_id);
      ids.add(job.job_id);
    }
    const round = (flowOf(row)?.round ?? 0) + 1;
    const flow: JobFlow = { task_index: wait.task_index, round, children: wait.children.map((c) => c.job_id), pending: wait.children.length };
    if (wait.state !== undefined) flow.state = wait.state;
    const link = this.#t.stmt(`INSERT INTO job_children (parent_id, round, idx, child_id, job_title) VALUES (?, ?, ?, ?, ?)`);
    for (const [idx, child] of wait.children.entries()) {
      this.#t.insertChild(child, row.job_id);
      link.run(row.job_id, round, idx, child.job_id, child.job_title);
    }
    // The worker holds it no more: no lease; attempts count again from the resumed run.
    this.#t.stmt(
      `UPDATE jobs SET state = 'waiting-children', attempts = 0, lease_expires = NULL, result = ?, flow = ?,
         flow_finally = COALESCE(?, flow_finally), cancel_requested = 0
       WHERE job_id = ?`,
    ).run(JSON.stringify(wait.result), JSON.stringify(flow), wait.finally ? JSON.stringify(wait.finally) : null, row.job_id);
    if (row.cancel_requested) {
      // A cancel asked for while the task ran: it holds for the flow too.
      this.cancelWaiting(row.job_id, now);
    } else if (wait.children.length === 0) {
      this.#resume(row.job_id);
    }
  }

  /** Cancel the waiting parent `parentId` and its unfinished children (`cancel()` of a job in `waiting-children`). */
  cancelWaiting(parentId: string, now: number): void {
    this.#endParent(parentId, 'cancelled', 'cancelled', `parent ${parentId} was cancelled`, now);
  }

  /**
   * Job `jobId` has just reached a final state (completed, failed,
   * cancelled), however: when it is a child of a round, its result is kept
   * with its parent and the parent moves on; when it waited for children,
   * its finally job may be due.
   */
  ended(jobId: string, now: number): void {
    const job = this.#t.row(jobId);
    if (!job) return;
    const link = this.#t.stmt(`SELECT * FROM job_children WHERE child_id = ? AND state IS NULL`).get(jobId) as ChildRow | undefined;
    if (link) this.#childEnded(link, job, now);
    if (job.flow !== null) this.#queueFinally(jobId);
  }

  /** The ended children of `parentId`'s current round, in the order given. */
  childResults(parentId: string): ChildResult[] {
    const parent = this.#t.stmt(`SELECT flow FROM jobs WHERE job_id = ?`).get(parentId) as Pick<JobRow, 'flow'> | undefined;
    const flow = parent ? flowOf(parent) : undefined;
    if (!flow) return [];
    const rows = this.#t
      .stmt(`SELECT * FROM job_children WHERE parent_id = ? AND round = ? AND state IS NOT NULL ORDER BY idx`)
      .all(parentId, flow.round) as ChildRow[];
    return rows.map((row) => {
      const result: ChildResult = { job_id: row.child_id, job_title: row.job_title, state: row.state! };
      if (row.result !== null) result.result = JSON.parse(row.result) as Record<string, unknown>;
      if (row.reason !== null) result.reason = row.reason;
      return result;
    });
  }

  /** Every child of `parentId` that has a record, in the order queued. */
  children(parentId: string): StoredJob[] {
    return (this.#t.stmt(`SELECT * FROM jobs WHERE parent_id = ? ORDER BY submit_seq`).all(parentId) as JobRow[]).map(toJob);
  }

  /** Drop what is kept with the parent `parentId` (its record is being deleted). */
  forget(parentId: string): void {
    this.#t.stmt(`DELETE FROM job_children WHERE parent_id = ?`).run(parentId);
  }

  /** Record how `child` ended with its parent, then move the parent on. */
  #childEnded(link: ChildRow, child: JobRow, now: number): void {
    this.#t
      .stmt(`UPDATE job_children SET state = ?, result = ?, reason = ? WHERE parent_id = ? AND round = ? AND idx = ?`)
      .run(child.state, child.result, child.reason, link.parent_id, link.round, link.idx);
    const parent = this.#t.row(link.parent_id);
    const flow = parent && flowOf(parent);
    if (!parent || !flow || flow.round !== link.round) return;
    flow.pending = (
      this.#t.stmt(`SELECT COUNT(*) AS n FROM job_children WHERE parent_id = ? AND round = ? AND state IS NULL`).get(parent.job_id, flow.round) as { n: number }
    ).n;
    this.#t.stmt(`UPDATE jobs SET flow = ? WHERE job_id = ?`).run(JSON.stringify(flow), parent.job_id);
    if (parent.state !== 'waiting-children') {
      this.#queueFinally(parent.job_id);
      return;
    }
    const named = `child ${child.job_id} (${child.job_title})`;
    if (child.state === 'failed') {
      this.#endParent(parent.job_id, 'failed', `${named} failed: ${failedWhy(child)}`, `parent ${parent.job_id} failed`, now);
    } else if (child.state === 'cancelled') {
      this.#endParent(parent.job_id, 'cancelled', `${named} was cancelled`, `parent ${parent.job_id} was cancelled`, now);
    } else if (flow.pending === 0) {
      this.#resume(parent.job_id);
    }
  }

  /** Every child of the round completed: the parent is queued again at the head of its priority, nobody's. */
  #resume(parentId: string): void {
    this.#t
      .stmt(
        `UPDATE jobs SET state = 'queued', lease_expires = NULL, worker_id = NULL,
           seq = (SELECT MIN(seq) - 1 FROM jobs)
         WHERE job_id = ?`,
      )
      .run(parentId);
  }

  /**
   * End the waiting parent (`state`, `reason`); cancel its round's queued
   * children (`childReason`) and ask its running ones to cancel; queue its
   * finally job when nothing runs any more.
   */
  #endParent(parentId: string, state: 'failed' | 'cancelled', reason: string, childReason: string, now: number): void {
    this.#t
      .stmt(`UPDATE jobs SET state = ?, reason = ?, finished_at = ?, lease_expires = NULL WHERE job_id = ?`)
      .run(state, reason, iso(now), parentId);
    const flow = flowOf(this.#t.row(parentId)!)!;
    const open = this.#t
      .stmt(`SELECT child_id FROM job_children WHERE parent_id = ? AND round = ? AND state IS NULL ORDER BY idx`)
      .all(parentId, flow.round) as Array<{ child_id: string }>;
    for (const { child_id } of open) {
      const child = this.#t.row(child_id);
      if (child?.state === 'queued') {
        this.#t
          .stmt(`UPDATE jobs SET state = 'cancelled', reason = ?, finished_at = ? WHERE job_id = ?`)
          .run(childReason, iso(now), child_id);
        this.ended(child_id, now);
      } else if (child?.state === 'running') {
        this.#t.stmt(`UPDATE jobs SET cancel_requested = 1 WHERE job_id = ?`).run(child_id);
      }
    }
    this.#queueFinally(parentId);
  }

  /** Queue the finally job of `parentId` if it is due: the parent failed or was cancelled and no child of it is unfinished. Once. */
  #queueFinally(parentId: string): void {
    const parent = this.#t.row(parentId);
    if (!parent || parent.flow_finally === null || (parent.state !== 'failed' && parent.state !== 'cancelled')) return;
    const flow = flowOf(parent);
    if (!flow || flow.finally_id !== undefined || flow.pending > 0) return;
    const job = JSON.parse(parent.flow_finally) as NewJob;
    try {
      this.#t.insertChild(job, parentId);
      flow.finally_id = job.job_id;
    } catch (error) {
      // Its id was free at the wait; should it have been taken since, the end of the job still stands.
      if ((error as { code?: unknown }).code !== ErrorCodes.JOB_EXISTS) throw error;
    }
    this.#t.stmt(`UPDATE jobs SET flow = ?, flow_finally = NULL WHERE job_id = ?`).run(JSON.stringify(flow), parentId);
  }
}
