import { parseJob } from '../job/parse-job.js';
import { RunError } from '../module/errors.js';
import { MAX_CHILDREN, WaitingChildrenError, type ChildJob, type ChildOutcome, type ResumedStep, type TaskChildren, type WaitOptions } from '../module/task-children.js';
import type { JobResume } from './job-flow.js';
import type { JobResult, TaskRecord } from './job-result.js';

/** A task's kept state and a child's returnvalue: at most this many bytes as JSON. */
const MAX_STATE_BYTES = 1024 * 1024;
const MAX_RETURN_BYTES = 64 * 1024;

/** JSON text of `value`, or why it cannot be kept (`what` names it). */
function jsonOf(value: unknown, what: string, max: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new RunError(`${what} is not JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new RunError(`${what} is not JSON (${typeof value})`);
  if (Buffer.byteLength(text) > max) throw new RunError(`${what} is ${Buffer.byteLength(text)} bytes as JSON; at most ${max} are kept`);
  return text;
}

/** Is `error` what `ctx.children.wait` throws (also from another copy of the core)? */
export function isWaitingChildren(error: unknown): error is WaitingChildrenError {
  return error instanceof WaitingChildrenError || (error instanceof Error && error.name === 'WaitingChildrenError' && Array.isArray((error as WaitingChildrenError).children));
}

/** Each child document checked as a submitted job would be (one line naming the child and field). */
function checkChildren(children: readonly ChildJob[]): ChildJob[] {
  if (!Array.isArray(children)) throw new RunError('ctx.children.wait: children must be a list of job documents');
  if (children.length > MAX_CHILDREN) throw new RunError(`ctx.children.wait: ${children.length} children; at most ${MAX_CHILDREN} per wait`);
  return children.map((child, i) => {
    const { weight, ...doc } = (child ?? {}) as ChildJob;
    if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight > 0)) {
      throw new RunError(`ctx.children.wait: children[${i}].weight must be a positive number`);
    }
    try {
      const parsed = parseJob(doc as Parameters<typeof parseJob>[0]);
      return { job_title: parsed.job_title, tasks: parsed.tasks, ...(weight !== undefined ? { weight } : {}) };
    } catch (error) {
      throw new RunError(`ctx.children.wait: children[${i}]: ${(error as Error).message}`);
    }
  });
}

/**
 * The `ctx.children` of one task. `resumed`: set on the run that resumes
 * it. `nested`: the job is itself a child run inline: it cannot wait.
 * `inline`: the engine runs the children itself (`RunOptions.children`).
 */
export function childrenOf(resumed: ResumedStep | undefined, nested: boolean, inline: boolean): TaskChildren {
  return {
    resumed,
    inline,
    wait(children: readonly ChildJob[], options: WaitOptions = {}): never {
      if (nested) throw new RunError('a child job cannot wait for children of its own (nested fan-out is not supported)');
      const checked = checkChildren(children);
      if (options.state !== undefined) jsonOf(options.state, 'ctx.children.wait: state', MAX_STATE_BYTES);
      const last = options.finally ? checkChildren([options.finally])[0] : undefined;
      throw new WaitingChildrenError(checked, { ...(options.state !== undefined ? { state: options.state } : {}), ...(last ? { finally: last } : {}) });
    },
  };
}

/** The {@link ResumedStep} a resumed task `index` gets; a RunError when a child did not complete (the server fails such a job instead). */
export function resumedStep(resume: JobResume, index: number, module: string): ResumedStep {
  const children: ChildOutcome[] = resume.children.map((child) => {
    if (child.state !== 'completed') {
      throw new RunError(`task ${index + 1} (${module}) resumed although child ${child.job_id} ${child.state === 'failed' ? 'failed' : 'was cancelled'}`, { taskIndex: index, module });
    }
    const result = (child.result ?? {}) as unknown as JobResult;
    const tasks = Array.isArray(result.tasks) ? result.tasks : [];
    const last = tasks[tasks.length - 1];
    return { job_id: child.job_id, job_title: child.job_title, result, ...(last && last.returnvalue !== undefined ? { returnvalue: last.returnvalue } : {}) };
  });
  return { state: resume.state, round: resume.round, children };
}

/**
 * Keep what a task's `run` returned in its record (BullMQ's `returnvalue`):
 * JSON-able values up to 64 KiB; anything else is left out with a warning
 * (in the record's `warnings`, and to `warn`), never failing the task.
 */
export function recordReturnValue(record: TaskRecord, value: unknown, warn: (message: string) => void): void {
  if (value === undefined) return;
  try {
    record.returnvalue = JSON.parse(jsonOf(value, 'the value run returned', MAX_RETURN_BYTES));
  } catch (error) {
    const message = `${(error as Error).message}: not kept as the task's returnvalue`;
    (record.warnings ??= []).push(message);
    warn(message);
  }
}
