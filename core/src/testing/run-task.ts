import type { TSchema } from 'typebox';
import type { ModuleData, SettingsOf, TaskModule } from '../module/task-module.js';
import { createEngine, type CreateEngineOptions } from '../engine/create-engine.js';
import type { JobPlan } from '../engine/engine.js';
import type { JobResult } from '../engine/job-result.js';
import type { LogEvent, ProgressEvent, TaskPhaseEvent } from '../engine/events.js';
import { chainDataStores, createMemoryDataStore } from '../data/data-store.js';
import type { TestFolder } from './test-folder.js';

type SettingsSchemaOf<M> = M extends { readonly settingsSchema?: infer SS } ? Extract<SS, TSchema> : never;

/**
 * The settings of module `M` as a worker config gives them: `Static` of its
 * `settingsSchema`, or a loose record when it declares none
 * (`ModuleSettingsOf<typeof myModule>`).
 */
export type ModuleSettingsOf<M extends TaskModule> = [SettingsSchemaOf<M>] extends [never] ? Record<string, unknown> : SettingsOf<SettingsSchemaOf<M>>;

/**
 * Options of {@link runTask} and {@link planTask}. `Settings` is the type of
 * the module's settings (`ModuleSettingsOf<typeof myModule>`, which
 * `runTask` infers from the module).
 */
export interface TestTaskOptions<Settings = Record<string, unknown>> extends Omit<CreateEngineOptions, 'modules' | 'plugins' | 'registry' | 'settings'> {
  /**
   * Run inside this folder: relative paths in the data resolve from it
   * (`cwd`) and it is the only allowed root (`allowedRoots`), unless those
   * options are given too. See {@link createTestFolder}.
   */
  folder?: TestFolder;
  /** This module's settings, as the worker config's `settings.<module>` (typed from, and checked against, its settings schema). */
  settings?: Settings;
  /**
   * Server-side records of this module by name (e.g. option sets), served
   * by the task's `dataStore`: `{ fast: { options: ['-preset', 'fast'] } }`.
   * Asked before `dataStore` when both are given.
   */
  records?: Record<string, Record<string, unknown>>;
  /** Cancels the job. */
  signal?: AbortSignal;
  /**
   * Called with each `progress` event as it happens, e.g. to cancel the
   * job while it runs: `{ signal: controller.signal, onProgress: () => controller.abort() }`.
   */
  onProgress?: (event: ProgressEvent) => void;
}

/** What {@link runTask} returns: the result and every event, in order. */
export interface TestTaskRun {
  result: JobResult;
  /** Every `task:phase` event (init, validate, run, cleanup: start, then end or failed). */
  phases: TaskPhaseEvent[];
  /** Every `progress` event. */
  progress: ProgressEvent[];
  /** Every `log` event (the engine's and the module's). */
  logs: LogEvent[];
}

function engineFor(module: TaskModule, options: TestTaskOptions<unknown>) {
  const { settings, signal: _s, onProgress: _p, folder, records, ...rest } = options;
  const stores = [
    ...(records ? [createMemoryDataStore({ [module.name]: records })] : []),
    ...(rest.dataStore ? [rest.dataStore] : []),
  ];
  return createEngine({
    ...rest,
    ...(folder ? { cwd: rest.cwd ?? folder.path, allowedRoots: rest.allowedRoots ?? [folder.path] } : {}),
    ...(stores.length ? { dataStore: stores.length === 1 ? stores[0]! : chainDataStores(...stores) } : {}),
    modules: [module],
    settings: settings ? { [module.name]: settings as Record<string, unknown> } : {},
  });
}

/**
 * Run one task of `module` with `data` through a real engine (full
 * lifecycle: init, validate, run, cleanup; real processes, real files, the
 * path guard and output claims as on a worker) and collect what it emitted.
 * Never throws for the task's failure: look at `result` (or call
 * {@link assertCompleted}). Throws only for options the engine refuses
 * (e.g. settings its settings schema rejects).
 *
 * `data` is typed from the module's schema and `options.settings` from its
 * settings schema, so a misspelled field or a value outside a literal union
 * does not compile; to test how the module refuses bad data, mark the line
 * with `// @ts-expect-error`.
 *
 * @example
 * const folder = await createTestFolder({ files: { 'a.bin': 'hello' } });
 * const run = await runTask(checksum, { files: ['a.bin'] }, { folder, settings: { defaultAlgorithm: 'md5' } });
 * assertCompleted(run);
 */
export async function runTask<M extends TaskModule>(module: M, data: ModuleData<M>, options: TestTaskOptions<ModuleSettingsOf<M>> = {}): Promise<TestTaskRun> {
  const engine = engineFor(module, options);
  const run: Omit<TestTaskRun, 'result'> = { phases: [], progress: [], logs: [] };
  engine.on('task:phase', (e) => run.phases.push(e));
  engine.on('progress', (e) => {
    run.progress.push(e);
    options.onProgress?.(e);
  });
  engine.on('log', (e) => run.logs.push(e));
  const result = await engine.run(
    { job_title: `test ${module.name}`, tasks: [{ module: module.name, data }] },
    options.signal ? { signal: options.signal } : {},
  );
  return { ...run, result };
}

/**
 * Init and validate one task without running it (what `sisyphus validate`
 * does); resolves with the plan (`plan.tasks[0].plan` holds the module's
 * `plan()` lines) or rejects with the tagged error. Takes the options of
 * {@link runTask}.
 */
export async function planTask<M extends TaskModule>(module: M, data: ModuleData<M>, options: TestTaskOptions<ModuleSettingsOf<M>> = {}): Promise<JobPlan> {
  return engineFor(module, options).validate({ job_title: `test ${module.name}`, tasks: [{ module: module.name, data }] });
}
