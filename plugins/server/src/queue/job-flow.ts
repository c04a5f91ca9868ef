import { randomUUID } from 'node:crypto';
import { ErrorCodes, MAX_CHILDREN } from '@sisyphus/core';
import { SubmissionError, prepareSubmission } from '../job-submission.js';
import type { ChildResult, NewJob, QueueStore, StoredJob, WaitForChildren } from '../store/queue-store.js';
import { StoreError } from '../store/store-error.js';
import { jobDocument } from './job-document.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `waiting_children` of a report's `info`, when the report says the job waits for children. */
export function waitingChildrenOf(info: Record<string, unknown>): Record<string, unknown> | undefined {
  const waiting = info.waiting_children;
  return isObject(waiting) ? waiting : undefined;
}

/** A child document of a report as a job to queue (at the parent's priority); a `SIS_VALIDATION` StoreError naming it when it is not a job. */
function childJob(doc: unknown, field: string, priority: number, now: Date): NewJob {
  if (!isObject(doc)) throw new StoreError(ErrorCodes.VALIDATION, `${field} is not a job document`);
  const { weight, ...rest } = doc;
  if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight > 0)) {
    throw new StoreError(ErrorCodes.VALIDATION, `${field}.weight must be a positive number`);
  }
  // The server makes every child's id (a document cannot name one: it could take another job's).
  const { job_id: _id, priority: _priority, ...document } = rest;
  try {
    const job = prepareSubmission({ ...document, job_id: randomUUID() }, undefined, true, now);
    if (weight !== undefined) job.job.weight = weight;
    return { ...job, priority };
  } catch (error) {
    const message = error instanceof SubmissionError ? error.message : (error as Error).message;
    throw new StoreError(ErrorCodes.VALIDATION, `${field}: ${message}`);
  }
}

/**
 * What the store records for a report that waits for children: the
 * report's `info` as the job's result so far (the children's documents left
 * out: they are jobs of their own now), and each child (and the `finally`
 * job) as a job to queue with a new id at the parent's `priority`.
 * `SIS_VALIDATION` StoreError (400) for a malformed `waiting_children`.
 */
export function waitForChildrenOf(info: Record<string, unknown>, waiting: Record<string, unknown>, priority: number, nowMs: number): WaitForChildren {
  const now = new Date(nowMs);
  const { task_index, state, children, finally: last } = waiting;
  if (!Number.isInteger(task_index) || (task_index as number) < 0) throw new StoreError(ErrorCodes.VALIDATION, 'waiting_children.task_index must be a task index');
  if (!Array.isArray(children)) throw new StoreError(ErrorCodes.VALIDATION, 'waiting_children.children must be a list of job documents');
  if (children.length > MAX_CHILDREN) throw new StoreError(ErrorCodes.VALIDATION, `waiting_children.children: ${children.length} children; at most ${MAX_CHILDREN}`);
  const jobs = children.map((doc, i) => childJob(doc, `waiting_children.children[${i}]`, priority, now));
  const result = { ...info, waiting_children: { task_index, children: jobs.map((j) => j.job_id) } };
  return {
    result,
    task_index: task_index as number,
    ...(state !== undefined ? { state } : {}),
    children: jobs,
    ...(last !== undefined ? { finally: childJob(last, 'waiting_children.finally', priority, now) } : {}),
  };
}

/**
 * Is this wait report recorded already (sent again after its answer was
 * lost)? The job's kept result is this very report (same worker and end time).
 */
export function waitRecorded(job: StoredJob | undefined, info: Record<string, unknown>): boolean {
  const kept = job?.result;
  return !!job?.flow && !!kept && isObject(kept.waiting_children) && kept.end_time === info.end_time && kept.worker_id === info.worker_id;
}

/**
 * The document a worker gets for a leased job: {@link jobDocument} (a
 * child's `weight` left out), plus,
 * for a job resuming after its children, `resume` (`JobResume` in
 * `@sisyphus/core`): the task to resume, the state it kept, the records of
 * the tasks before it and how each child of the round ended.
 */
export async function leasedDocument(store: QueueStore, job: StoredJob): Promise<Record<string, unknown>> {
  const doc = jobDocument(job);
  // A child's weight is the server's (its parent's progress), not part of the job a worker runs.
  delete doc.weight;
  const flow = job.flow;
  if (!flow) return doc;
  const children: ChildResult[] = await store.childResults(job.job_id);
  const tasks = Array.isArray(job.result?.tasks) ? (job.result.tasks as unknown[]).slice(0, flow.task_index) : [];
  doc.resume = { task_index: flow.task_index, round: flow.round, ...(flow.state !== undefined ? { state: flow.state } : {}), tasks, children };
  return doc;
}
