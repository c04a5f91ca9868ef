import type { TaskChildren } from '../module/task-children.js';
import type { ProcessRunner } from '../process/process-runner.js';
import type { PathGuard } from '../paths/path-guard.js';
import type { DataStore } from '../data/data-store.js';
import type { OutputFiles } from '../files/output-files.js';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Per-task logger; lines become `log` events tagged with the task. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A progress report of the running task. Every field is optional: report
 * what is known.
 *
 * `percent` undefined means "the total is unknown" (e.g. an encode of a
 * stream without a known duration): show an indeterminate bar and no ETA,
 * never 0 %, and still show `frames`, `fps` and `speed`. Report 100 only
 * once the work really succeeded, never because a process ended: a task
 * that is cancelled or fails stays at the last percent it reached.
 */
export interface Progress {
  /** 0 to 100; undefined: the total is unknown. The engine clamps it into 0-100 and turns NaN into undefined. */
  percent?: number;
  /** Frames done so far. */
  frames?: number;
  /** Frames in all, when known. */
  totalFrames?: number;
  /** Frames per second. */
  fps?: number;
  /** Speed relative to real time (1.5 = 1.5x). */
  speed?: number;
  /** Estimated seconds left (only when the total is known). */
  eta?: number;
  /** Anything else worth showing (e.g. `{ current_frame, total_frames }`, which worker heartbeats pass on). */
  info?: Record<string, unknown>;
}

/**
 * What the task is doing right now, for a timeout's message. The process
 * runner and the path guard record their commands and paths themselves; a
 * module labels its own slow work (a copy over a network share) with
 * {@link TaskActivity.during}, so a timed-out phase names the file:
 * `task timed out after 60 s (still running: copying /mnt/share/a.mkv)`.
 */
export interface TaskActivity {
  /** Keep `label` as the task's activity while `work` runs; resolves or rejects with it. */
  during<T>(label: string, work: Promise<T>): Promise<T>;
}

/** Reports progress of the current task; becomes a `progress` event. */
export interface ProgressReporter {
  report(progress: Progress): void;
}

/** Who and where the current task is. */
export interface TaskInfo {
  /** Zero-based index in the job. */
  index: number;
  /** Number of tasks in the job. */
  count: number;
  /** The module's name. */
  module: string;
  /** The job's id. */
  jobId: string;
  /** The job's title. */
  jobTitle: string;
}

/**
 * Files the job's earlier tasks will write (as their handlers' `outputs()`
 * declared during validation). Validation cannot assume such files exist
 * yet, but must not reject them either.
 */
export interface JobOutputs {
  /**
   * May an earlier task of this job write `path` (absolute: as the task
   * declared it, or its real path)? Also true when an earlier task's module
   * does not declare its outputs (no `outputs()`): it may write anything.
   */
  producedEarlier(path: string): boolean;
  /** Every path earlier tasks declared. */
  list(): string[];
}

/**
 * Everything a task gets, in one object. Decorator-free modules receive it
 * as their argument; class modules can inject single pieces by token.
 */
export interface TaskContext<Data = Record<string, unknown>, Settings = Record<string, unknown>> {
  /** The task's data (schema-checked before `validate`). */
  data: Data;
  /** This module's settings from the worker config (`{}` when none). */
  settings: Settings;
  /** Where this task stands in its job. */
  task: TaskInfo;
  logger: Logger;
  progress: ProgressReporter;
  dataStore: DataStore;
  runner: ProcessRunner;
  paths: PathGuard;
  /** Scratch folder of this task (created empty, removed when the job ends). */
  workspace: string;
  /** Scratch folder shared by every task of the job (e.g. a two-pass log), removed when the job ends. */
  jobWorkspace: string;
  /** Label slow work so that a timeout names it. */
  activity: TaskActivity;
  /**
   * Where outputs are written: `claim(target)` gives a private path to
   * write, `promote()` verifies it and renames it into place. Outputs not
   * promoted are removed after the task's cleanup.
   */
  outputFiles: OutputFiles;
  /** Fires when the job is cancelled or the task times out. */
  signal: AbortSignal;
  /** Files that earlier tasks of the job will write. */
  outputs: JobOutputs;
  /** Fan-out: hand child jobs over and resume when they have completed (see {@link TaskChildren}). */
  children: TaskChildren;
}
