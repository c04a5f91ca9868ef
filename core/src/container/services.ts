import type { ProcessRunner } from '../process/process-runner.js';
import type { PathGuard } from '../paths/path-guard.js';
import type { DataStore } from '../data/data-store.js';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Per-task logger; lines become `log` events tagged with the task. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A progress report. Only `percent` is required. */
export interface Progress {
  /** 0 to 100. */
  percent: number;
  /** Frames done so far. */
  frames?: number;
  /** Frames in all, when known. */
  totalFrames?: number;
  /** Frames per second. */
  fps?: number;
  /** Speed relative to real time (1.5 = 1.5x). */
  speed?: number;
  /** Estimated seconds left. */
  eta?: number;
  /** Anything else worth showing (e.g. `{ current_frame, total_frames }`). */
  info?: Record<string, unknown>;
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
  /** Does an earlier task of this job write `path` (absolute, resolved)? */
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
  /** Fires when the job is cancelled or the task times out. */
  signal: AbortSignal;
  /** Files that earlier tasks of the job will write. */
  outputs: JobOutputs;
}
