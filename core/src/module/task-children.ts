import type { JobResult } from '../engine/job-result.js';
import type { Task } from '../job/job-schema.js';

/**
 * A child job a task hands over with {@link TaskChildren.wait}: an ordinary
 * job document (title and tasks; the server gives it an id and queues it
 * with `parent_id` set). Its data is checked like any submitted job's.
 */
export interface ChildJob {
  job_title: string;
  tasks: Task[];
  /**
   * How much of the parent's work this child is, for the parent's progress
   * (a chunk's frame count, say; any positive number, default 1): the
   * parent's progress while it waits is the children's progress weighted by it.
   */
  weight?: number;
}

/** How one child ended, as its resumed parent sees it: every child of a resumed round completed. */
export interface ChildOutcome {
  job_id: string;
  job_title: string;
  /** The child's result record (as its worker reported it). */
  result: JobResult;
  /** What the child's last task's `run` returned (`result.tasks[last].returnvalue`), when it returned something. */
  returnvalue?: unknown;
}

/** What a resumed task gets back in {@link TaskChildren.resumed}. */
export interface ResumedStep {
  /** The JSON the task passed to {@link TaskChildren.wait} (e.g. its plan), unchanged. */
  state: unknown;
  /** 1 after the task's first wait, 2 after its second, ... */
  round: number;
  /** The round's children, in the order they were given, all completed. */
  children: ChildOutcome[];
}

/** Options of {@link TaskChildren.wait}. */
export interface WaitOptions {
  /** JSON kept with the job and handed back at resume ({@link ResumedStep.state}); at most 1 MiB as JSON. */
  state?: unknown;
  /**
   * A job queued if the parent ends failed or cancelled however it ends (a
   * child failed, the parent was cancelled while it waited) once none of its
   * children is running: remove what the children wrote (chunk files).
   */
  finally?: ChildJob;
}

/**
 * Fan-out for a task (`ctx.children`, `TOKENS.Children`): hand child jobs
 * to the server and continue when they have all completed, without holding
 * a worker while they run. BullMQ's step jobs (`moveToWaitingChildren`)
 * are the model:
 *
 * ```ts
 * async run() {
 *   const done = ctx.children.resumed;
 *   if (!done) ctx.children.wait(parts.map((p) => ({ job_title: p.name, tasks: [...] })), { state: { parts } });
 *   // resumed, on any worker: every child completed; done.children[i].returnvalue ...
 * }
 * ```
 *
 * On a worker, `wait` ends this run: the job's result goes to the server as
 * `waiting_children`, the job waits in state `waiting-children`, and a
 * worker (any) runs the job again from this task (earlier tasks do not run
 * again; this task's `init` and `validate` do) with `resumed` set. A child
 * that fails fails the job with the child's reason; cancelling the job
 * cancels its children. Run locally (`sisyphus run`, an embedded engine),
 * the engine runs the children itself, one after the other, then resumes.
 * Transport-agnostic: a module never talks to the server.
 */
export interface TaskChildren {
  /** Set when this run resumes the task after its children completed; undefined on a first run. */
  readonly resumed: ResumedStep | undefined;
  /**
   * Where the children of a {@link wait} run. `true`: in this process, one
   * after the other, and the task resumes here (a local run: `sisyphus run`,
   * an embedded engine); so this process outlives the whole fan-out. `false`:
   * they go to a server, and any worker may resume the task, while the
   * worker running this task may exit meanwhile. For files shared by the
   * fan-out: only an inline run can judge them abandoned by its process being
   * gone.
   */
  readonly inline: boolean;
  /**
   * Hand over `children` (at most {@link MAX_CHILDREN}; none: the task
   * resumes at once) and end this run. Throws a {@link WaitingChildrenError}
   * (never returns): call it last in `run`, do not catch it. Nested fan-out
   * (a child job waiting for children of its own) is refused
   * (`SIS_VALIDATION` on the server).
   */
  wait(children: readonly ChildJob[], options?: WaitOptions): never;
}

/** At most this many children per wait. */
export const MAX_CHILDREN = 10_000;

/**
 * Thrown by {@link TaskChildren.wait} to end the task's run; the engine
 * catches it (it is not a failure). Carries what the job waits for.
 */
export class WaitingChildrenError extends Error {
  constructor(
    readonly children: readonly ChildJob[],
    readonly options: WaitOptions = {},
  ) {
    super(`waiting for ${children.length} child job${children.length === 1 ? '' : 's'}`);
    this.name = 'WaitingChildrenError';
  }
}
