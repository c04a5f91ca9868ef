import type { ProgressEvent, TaskPhaseEvent } from '../engine/events.js';
import type { WorkerStatus } from '../transport/transport.js';

/**
 * The heartbeat fields of a running job (`task`, `progress`, `info`), kept
 * up to date from the engine's events.
 */
export class JobProgress {
  /** Module name of the task in progress. */
  task?: string;
  /** 0-100, of the running task; undefined while its total is unknown (the heartbeat then has no `progress`). */
  progress?: number;
  /** Details for dashboards, e.g. `{current_frame, total_frames}`. */
  info?: Record<string, unknown>;

  /**
   * A task entered a phase: it becomes the current task; `run` forgets the
   * previous task's progress (unknown until the module reports). A run that
   * fails keeps the percent it reached: progress is never made up.
   */
  onPhase(event: TaskPhaseEvent): void {
    if (event.status !== 'start') return;
    this.task = event.module;
    if (event.phase === 'run') {
      this.progress = undefined;
      this.info = undefined;
    }
  }

  /** A module reported progress; a report without percent (unknown total) drops `progress` but keeps frames etc. in `info`. */
  onProgress(event: ProgressEvent): void {
    this.task = event.module;
    this.progress = event.percent !== undefined && Number.isFinite(event.percent) ? Math.round(event.percent * 100) / 100 : undefined;
    const info: Record<string, unknown> = { ...(event.info ?? {}) };
    if (event.frames !== undefined) info.current_frame ??= event.frames;
    if (event.totalFrames !== undefined) info.total_frames ??= event.totalFrames;
    if (event.fps !== undefined) info.fps ??= event.fps;
    if (event.speed !== undefined) info.speed ??= event.speed;
    if (event.eta !== undefined) info.eta ??= event.eta;
    this.info = Object.keys(info).length ? info : undefined;
  }

  /** The fields to merge into a heartbeat (only those known). */
  fields(): Pick<WorkerStatus, 'task' | 'progress' | 'info'> {
    return {
      ...(this.task !== undefined ? { task: this.task } : {}),
      ...(this.progress !== undefined ? { progress: this.progress } : {}),
      ...(this.info !== undefined ? { info: this.info } : {}),
    };
  }
}
