import type { Phase, SisyphusError } from '../module/errors.js';
import type { LogLevel, Progress } from '../container/services.js';
import type { Job } from '../job/job-schema.js';
import type { JobResult } from './job-result.js';

/** Emitted once when a job starts (before any module is initialised). */
export interface JobStartEvent {
  jobId: string;
  job: Job;
  /** Module names of the tasks, in order. */
  modules: string[];
}

/** Emitted once when a job has ended, whatever the outcome. */
export interface JobEndEvent {
  jobId: string;
  result: JobResult;
}

/** A task entered (`start`) or left (`end` / `failed`) a lifecycle phase. */
export interface TaskPhaseEvent {
  jobId: string;
  index: number;
  module: string;
  phase: Phase;
  status: 'start' | 'end' | 'failed';
  /** Milliseconds spent in the phase (on `end` and `failed`). */
  durationMs?: number;
  /** The tagged error (on `failed`). */
  error?: SisyphusError;
}

/**
 * Progress of the running task: what its module reported (see
 * {@link Progress}), tagged with the task. `percent` is within 0-100, or
 * absent when the module does not know the total (draw an indeterminate
 * bar, no ETA; `frames`, `fps`, `speed` may still come). 100 means the
 * module finished its work: a task that fails or is cancelled keeps the
 * last percent it reached, and its `task:phase` event with `status:
 * 'failed'` follows; whether it succeeded is told by `task:phase` (`run`
 * `end`), never by a percent. Modules report as often as they learn
 * something (ffmpeg about twice a second); listeners that log should thin
 * the events out.
 */
export interface ProgressEvent extends Progress {
  jobId: string;
  index: number;
  module: string;
}

/** A log line from the engine or a module. */
export interface LogEvent {
  jobId: string;
  level: LogLevel;
  message: string;
  /** ISO timestamp. */
  time: string;
  /** The task, when a module logged it. */
  index?: number;
  module?: string;
  fields?: Record<string, unknown>;
}

/** The engine's typed events (eventemitter3). */
export interface EngineEvents {
  'job:start': (event: JobStartEvent) => void;
  'job:end': (event: JobEndEvent) => void;
  'task:phase': (event: TaskPhaseEvent) => void;
  progress: (event: ProgressEvent) => void;
  log: (event: LogEvent) => void;
}
