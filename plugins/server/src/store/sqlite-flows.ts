import type Database from 'better-sqlite3';
import { ErrorCodes } from '@sisyphus/core';
import { iso, toJob, type FlowFixed, type JobRow } from './sqlite-job-row.js';
import { StoreError, jobExists } from './store-error.js';
import type { ChildResult, NewJob, StoredJob, WaitForChildren } from './queue-store.js';

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

/** What a job's end needs of its row (no document, no flow JSON). */
type EndedRow = Pick<JobRow, 'job_id' | 'job_title' | 'state' | 'result' | 'reason' | 'flow_round'>;

/** What moving a parent on needs of its row (no document, no flow JSON, no finally document). */
interface ParentRow {
  job_id: string;
  state: JobRow['state'];
  flow_pending: number | null;
  /** 1 while a finally job waits to be queued. */
  has_finally: number;
  flow_finally_id: string | null;
}

/** The states a job does not leave. */
const FINAL = `('completed', 'failed', 'cancelled')`;

/** What the parent fails with when `child` failed: the child's reason, else its `result.message`, else 'failed'. */
function failedWhy(child: Pick<JobRow, 'reason' | 'result'>): string {
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
 * Tables: `jobs.parent_id`; the JobFlow in `jobs.flow` (its fixed part,
 * JSON, written once per wait) and `jobs.flow_round`, `flow_pending`,
 * `flow_finally_id`; `jobs.flow_finally` (the finally job until it is
 * queued); `job_children` (each round's children in the order given and how
 * they ended).
 *
 * Cost: a child's end is a few index lookups and small updates (it never
 * reads nor rewrites the parent's flow JSON, whose size grows with the
 * children); a parent ending with N open children is a few set-wise
 * statements, O(N log N), not N child ends.
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
    const round = (row.flow_round ?? 0) + 1;
    const fixed: FlowFixed = { task_index: wait.task_index, children: wait.children.map((c) => c.job_id) };
    if (wait.state !== undefined) fixed.state = wait.state;
    const link = this.#t.stmt(`INSERT INTO job_children (parent_id, round, idx, child_id, job_title) VALUES (?, ?, ?, ?, ?)`);
    for (const [idx, child] of wait.children.entries()) {
      this.#t.insertChild(child, row.job_id);
      link.run(row.job_id, round, idx, child.job_id, child.job_title);
    }
    // The worker holds it no more: no lease; attempts count again from the resumed run.
    this.#t.stmt(
      `UPDATE jobs SET state = 'waiting-children', attempts = 0, lease_expires = NULL, result = ?, flow = ?,
         flow_round = ?, flow_pending = ?, flow_finally_id = NULL, flow_finally = COALESCE(?, flow_finally), cancel_requested = 0
       WHERE job_id = ?`,
    ).run(JSON.stringify(wait.result), JSON.stringify(fixed), round, wait.children.length, wait.finally ? JSON.stringify(wait.finally) : null, row.job_id);
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
    const job = this.#t.stmt(`SELECT job_id, job_title, state, result, reason, flow_round FROM jobs WHERE job_id = ?`).get(jobId) as EndedRow | undefined;
    if (!job) return;
    const link = this.#t.stmt(`SELECT * FROM job_children WHERE child_id = ? AND state IS NULL`).get(jobId) as ChildRow | undefined;
    if (link) this.#childEnded(link, job, now);
    if (job.flow_round !== null) this.#queueFinally(jobId);
  }

  /** The ended children of `parentId`'s current round, in the order given. */
  childResults(parentId: string): ChildResult[] {
    const parent = this.#t.stmt(`SELECT flow_round FROM jobs WHERE job_id = ?`).get(parentId) as Pick<JobRow, 'flow_round'> | undefined;
    if (parent?.flow_round == null) return [];
    const rows = this.#t
      .stmt(`SELECT * FROM job_children WHERE parent_id = ? AND round = ? AND state IS NOT NULL ORDER BY idx`)
      .all(parentId, parent.flow_round) as ChildRow[];
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

  /** Record how `child` ended with its parent, then move the parent on (one fewer pending, when the round is still the parent's). */
  #childEnded(link: ChildRow, child: EndedRow, now: number): void {
    this.#t
      .stmt(`UPDATE job_children SET state = ?, result = ?, reason = ? WHERE parent_id = ? AND round = ? AND idx = ?`)
      .run(child.state, child.result, child.reason, link.parent_id, link.round, link.idx);
    const moved = this.#t
      .stmt(`UPDATE jobs SET flow_pending = flow_pending - 1 WHERE job_id = ? AND flow_round = ?`)
      .run(link.parent_id, link.round).changes;
    if (!moved) return;
    const parent = this.#parent(link.parent_id)!;
    if (parent.state !== 'waiting-children') {
      this.#queueFinally(parent.job_id);
      return;
    }
    const named = `child ${child.job_id} (${child.job_title})`;
    if (child.state === 'failed') {
      this.#endParent(parent.job_id, 'failed', `${named} failed: ${failedWhy(child)}`, `parent ${parent.job_id} failed`, now);
    } else if (child.state === 'cancelled') {
      this.#endParent(parent.job_id, 'cancelled', `${named} was cancelled`, `parent ${parent.job_id} was cancelled`, now);
    } else if (parent.flow_pending === 0) {
      this.#resume(parent.job_id);
    }
  }

  /** The flow columns of `parentId`. */
  #parent(parentId: string): ParentRow | undefined {
    return this.#t
      .stmt(`SELECT job_id, state, flow_pending, flow_finally IS NOT NULL AS has_finally, flow_finally_id FROM jobs WHERE job_id = ?`)
      .get(parentId) as ParentRow | undefined;
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
   * finally job when nothing runs any more. Set-wise, whatever the number of
   * children: each statement walks the round's open children once (by the
   * `job_children` key, each child by its own), and the parent's pending
   * count is written once.
   */
  #endParent(parentId: string, state: 'failed' | 'cancelled', reason: string, childReason: string, now: number): void {
    this.#t
      .stmt(`UPDATE jobs SET state = ?, reason = ?, finished_at = ?, lease_expires = NULL WHERE job_id = ?`)
      .run(state, reason, iso(now), parentId);
    const open = `SELECT child_id FROM job_children WHERE parent_id = @parent AND round = (SELECT flow_round FROM jobs WHERE job_id = @parent) AND state IS NULL`;
    // `+state`: each open child is found by its id, never the whole queue (or every running job) by the state indexes.
    this.#t
      .stmt(`UPDATE jobs SET state = 'cancelled', reason = @reason, finished_at = @at WHERE job_id IN (${open}) AND +state = 'queued'`)
      .run({ parent: parentId, reason: childReason, at: iso(now) });
    this.#t.stmt(`UPDATE jobs SET cancel_requested = 1 WHERE job_id IN (${open}) AND +state = 'running'`).run({ parent: parentId });
    // How each child that has just ended ended, kept with the parent (what `ended()` of each would record).
    this.#t
      .stmt(
        `UPDATE job_children SET state = j.state, result = j.result, reason = j.reason
         FROM jobs AS j
         WHERE job_children.parent_id = @parent AND job_children.round = (SELECT flow_round FROM jobs WHERE job_id = @parent)
           AND job_children.state IS NULL AND j.job_id = job_children.child_id AND j.state IN ${FINAL}`,
      )
      .run({ parent: parentId });
    this.#t
      .stmt(
        `UPDATE jobs SET flow_pending = (SELECT COUNT(*) FROM job_children WHERE parent_id = @parent AND round = jobs.flow_round AND state IS NULL)
         WHERE job_id = @parent`,
      )
      .run({ parent: parentId });
    this.#queueFinally(parentId);
  }

  /** Queue the finally job of `parentId` if it is due: the parent failed or was cancelled and no child of it is unfinished. Once. */
  #queueFinally(parentId: string): void {
    const parent = this.#parent(parentId);
    if (!parent?.has_finally || (parent.state !== 'failed' && parent.state !== 'cancelled')) return;
    if (parent.flow_pending === null || parent.flow_finally_id !== null || parent.flow_pending > 0) return;
    const { flow_finally } = this.#t.stmt(`SELECT flow_finally FROM jobs WHERE job_id = ?`).get(parentId) as { flow_finally: string };
    const job = JSON.parse(flow_finally) as NewJob;
    let queued: string | null = null;
    try {
      this.#t.insertChild(job, parentId);
      queued = job.job_id;
    } catch (error) {
      // Its id was free at the wait; should it have been taken since, the end of the job still stands.
      if ((error as { code?: unknown }).code !== ErrorCodes.JOB_EXISTS) throw error;
    }
    this.#t.stmt(`UPDATE jobs SET flow_finally_id = ?, flow_finally = NULL WHERE job_id = ?`).run(queued, parentId);
  }
}
