import type { ChildJob } from '../module/task-children.js';
import type { TaskRecord } from './job-result.js';

/**
 * What a job's result says when one of its tasks waits for child jobs
 * (`JobResult.waiting_children`): the job neither completed nor failed; the
 * server queues `children` and runs the job again from `task_index` once
 * they have all completed.
 */
export interface WaitingChildren {
  /** Index (0-based) of the waiting task. */
  task_index: number;
  /** JSON the task keeps for its resume. */
  state?: unknown;
  children: ChildJob[];
  /** Queued if the job ends failed or cancelled (see `WaitOptions.finally`). */
  finally?: ChildJob;
}

/** How one child of the round ended, as the server hands it to the resumed job. */
export interface ResumedChild {
  job_id: string;
  job_title: string;
  state: 'completed' | 'failed' | 'cancelled';
  result?: Record<string, unknown>;
  reason?: string;
}

/**
 * Where a job resumes, as the server hands it over: the `resume` member of
 * a leased job document (`GET /queue/poll`, a report's `next`), and
 * `RunOptions.resume` of the engine.
 */
export interface JobResume {
  /** Index of the task to run again; earlier tasks are taken as done. */
  task_index: number;
  /** 1 after the first wait, ... */
  round: number;
  state?: unknown;
  /** The records of the tasks before `task_index` (from the result the job waited with). */
  tasks: TaskRecord[];
  children: ResumedChild[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The {@link JobResume} in a leased job document, taken out of it (the
 * document then parses as a job again), or undefined when there is none.
 * Throws a one-line `Error` naming the bad member when `resume` is there but
 * malformed (the server made it: the worker reports the job failed).
 */
export function takeResume(doc: Record<string, unknown>): JobResume | undefined {
  if (!('resume' in doc)) return undefined;
  const resume = doc.resume;
  delete doc.resume;
  if (!isObject(resume)) throw new Error('the job document\'s "resume" is not an object');
  const { task_index, round, tasks, children } = resume;
  if (!Number.isInteger(task_index) || (task_index as number) < 0) throw new Error('the job document\'s "resume.task_index" is not a task index');
  if (!Number.isInteger(round) || (round as number) < 1) throw new Error('the job document\'s "resume.round" is not a positive integer');
  if (!Array.isArray(tasks)) throw new Error('the job document\'s "resume.tasks" is not a list');
  if (!Array.isArray(children) || !children.every((c) => isObject(c) && typeof c.job_id === 'string' && typeof c.state === 'string')) {
    throw new Error('the job document\'s "resume.children" is not a list of child results');
  }
  return resume as unknown as JobResume;
}
