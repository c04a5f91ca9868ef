import type { JobInput } from '../job/job-schema.js';
import { ErrorCodes } from '../module/error-codes.js';
import type { ChildJob } from '../module/task-children.js';
import type { Engine, RunOptions } from './engine.js';
import type { ResumedChild } from './job-flow.js';
import type { JobResult } from './job-result.js';

/** A task that waits more often than this in one local run is stopped (it would run for ever). */
export const MAX_LOCAL_ROUNDS = 1000;

/** The job document of a child (its `weight` is the server's business). */
function childDocument(child: ChildJob): JobInput {
  return { job_title: child.job_title, tasks: child.tasks };
}

/** A child's result as the server would keep it for its parent. */
function childResult(jobId: string, child: ChildJob, result: JobResult): ResumedChild {
  const state = result.completed ? 'completed' : result.cancelled ? 'cancelled' : 'failed';
  return {
    job_id: jobId,
    job_title: child.job_title,
    state,
    result: result as unknown as Record<string, unknown>,
    ...(result.message !== undefined ? { reason: result.message } : {}),
  };
}

/**
 * A local run of a job whose task waits for children (no server): run the
 * children here, one after the other (ids `JOB-ROUND-N`), then resume the
 * task with their results, as often as it waits. A child that does not
 * complete ends the job as the server would: failed with
 * `child ID (TITLE) failed: REASON` (or cancelled), and the task's
 * `finally` job runs. The result covers the whole run (start to end).
 */
export async function runChildrenInline(engine: Engine, job: JobInput, options: RunOptions, first: JobResult): Promise<JobResult> {
  let result = first;
  let round = 0;
  let last: ChildJob | undefined;
  while (result.waiting_children) {
    const waiting = result.waiting_children;
    round += 1;
    if (round > MAX_LOCAL_ROUNDS) {
      result = endedBy(result, waiting.task_index, `the task waited for children ${MAX_LOCAL_ROUNDS} times; stopped (does its run check ctx.children.resumed?)`, ErrorCodes.RUN, false);
      break;
    }
    last = waiting.finally ?? last;
    const done: ResumedChild[] = [];
    let ended: ResumedChild | undefined;
    for (const [i, child] of waiting.children.entries()) {
      const jobId = `${result.job_id}-${round}-${i + 1}`;
      const childRun = await engine.runStep(childDocument(child), { jobId, ...(options.signal ? { signal: options.signal } : {}) }, true);
      const outcome = childResult(jobId, child, childRun);
      done.push(outcome);
      if (outcome.state !== 'completed') {
        ended = outcome;
        break;
      }
    }
    if (ended) {
      result = endedByChild(result, waiting.task_index, ended);
      break;
    }
    result = await engine.runStep(
      job,
      {
        ...options,
        jobId: result.job_id,
        resume: { task_index: waiting.task_index, round, ...(waiting.state !== undefined ? { state: waiting.state } : {}), tasks: result.tasks.slice(0, waiting.task_index), children: done },
      },
      false,
    );
  }
  if (last && !result.completed) {
    // As the server queues it: the cleanup of what the children wrote, whatever the job's end.
    const cleanup = await engine.runStep(childDocument(last), { jobId: `${result.job_id}-finally` }, true);
    if (!cleanup.completed) {
      // Its own log is under its own id; the job that needed it says so too.
      engine.emit('log', { jobId: result.job_id, level: 'warn', message: `its finally job (${last.job_title}) failed: ${cleanup.message ?? 'failed'}; what its children wrote may be left`, time: new Date().toISOString() });
    }
  }
  const runtime = Math.round((Date.parse(result.end_time) - Date.parse(first.start_time)) / 10) / 100;
  return { ...result, start_time: first.start_time, runtime: Math.max(runtime, result.runtime) };
}

/** The parent's result when child `child` failed or was cancelled (the server's reason). */
function endedByChild(waited: JobResult, taskIndex: number, child: ResumedChild): JobResult {
  const cancelled = child.state === 'cancelled';
  const message = cancelled
    ? `child ${child.job_id} (${child.job_title}) was cancelled`
    : `child ${child.job_id} (${child.job_title}) failed: ${child.reason ?? 'failed'}`;
  const childCode = (child.result as { code?: JobResult['code'] } | undefined)?.code;
  return endedBy(waited, taskIndex, message, cancelled ? ErrorCodes.CANCELLED : (childCode ?? ErrorCodes.RUN), cancelled);
}

/** The result of a job whose waiting task `taskIndex` ended it with `message`. */
function endedBy(waited: JobResult, taskIndex: number, message: string, code: NonNullable<JobResult['code']>, cancelled: boolean): JobResult {
  const tasks = waited.tasks.map((record) =>
    record.index === taskIndex
      ? { ...record, waiting: undefined, status: cancelled ? ('cancelled' as const) : ('failed' as const), error: { code, phase: 'run' as const, message } }
      : record.status === 'pending' ? { ...record, status: 'skipped' as const } : record,
  );
  const { waiting_children: _, ...rest } = waited;
  return { ...rest, end_time: new Date().toISOString(), completed: false, failed: true, cancelled, message, code, phase: 'run', task_index: taskIndex, tasks };
}
