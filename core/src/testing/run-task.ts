import type { TaskModule } from '../module/task-module.js';
import { createEngine, type CreateEngineOptions } from '../engine/create-engine.js';
import type { JobPlan } from '../engine/engine.js';
import type { JobResult } from '../engine/job-result.js';
import type { LogEvent, ProgressEvent, TaskPhaseEvent } from '../engine/events.js';

/** Options of {@link runTask} and {@link planTask}. */
export interface TestTaskOptions extends Omit<CreateEngineOptions, 'modules' | 'plugins' | 'registry' | 'settings'> {
  /** This module's settings. */
  settings?: Record<string, unknown>;
  /** Cancels the job. */
  signal?: AbortSignal;
}

/** What {@link runTask} returns: the result and every event, in order. */
export interface TestTaskRun {
  result: JobResult;
  phases: TaskPhaseEvent[];
  progress: ProgressEvent[];
  logs: LogEvent[];
}

function engineFor(module: TaskModule, options: TestTaskOptions) {
  const { settings, signal: _s, ...rest } = options;
  return createEngine({ ...rest, modules: [module], settings: settings ? { [module.name]: settings } : {} });
}

/**
 * Run one task of `module` with `data` through a real engine (full
 * lifecycle: init, validate, run, cleanup) and collect what it emitted. For
 * module authors' tests.
 *
 * @example
 * const { result } = await runTask(checksum, { files: ['a.bin'] });
 * expect(result.completed).toBe(true);
 */
export async function runTask(module: TaskModule, data: Record<string, unknown>, options: TestTaskOptions = {}): Promise<TestTaskRun> {
  const engine = engineFor(module, options);
  const run: Omit<TestTaskRun, 'result'> = { phases: [], progress: [], logs: [] };
  engine.on('task:phase', (e) => run.phases.push(e));
  engine.on('progress', (e) => run.progress.push(e));
  engine.on('log', (e) => run.logs.push(e));
  const result = await engine.run(
    { job_title: `test ${module.name}`, tasks: [{ module: module.name, data }] },
    options.signal ? { signal: options.signal } : {},
  );
  return { ...run, result };
}

/** Init and validate one task without running it; resolves with the plan or rejects with the tagged error. */
export async function planTask(module: TaskModule, data: Record<string, unknown>, options: TestTaskOptions = {}): Promise<JobPlan> {
  return engineFor(module, options).validate({ job_title: `test ${module.name}`, tasks: [{ module: module.name, data }] });
}
