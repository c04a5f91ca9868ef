/**
 * Every injectable thing has one explicit token here. Tokens are registered
 * symbols (`Symbol.for`), so they stay equal even if two copies of the core
 * are loaded. Use them with `@inject(TOKENS.X)` or `static inject = [...]`.
 */
export const TOKENS = {
  /** The task's `data` object. It is checked against the module's schema after `init`, before `validate`. */
  TaskData: Symbol.for('sisyphus:task-data'),
  /** {@link TaskInfo}: index, module name, job id and title. */
  TaskInfo: Symbol.for('sisyphus:task-info'),
  /** The whole {@link TaskContext} (what decorator-free modules receive). */
  TaskContext: Symbol.for('sisyphus:task-context'),
  /** {@link Logger} for this task. */
  Logger: Symbol.for('sisyphus:logger'),
  /** {@link ProgressReporter} for this task. */
  Progress: Symbol.for('sisyphus:progress'),
  /** {@link DataStore}: server-side module data such as ffmpeg option sets. */
  DataStore: Symbol.for('sisyphus:data-store'),
  /** {@link ProcessRunner} bound to this task's abort signal. */
  ProcessRunner: Symbol.for('sisyphus:process-runner'),
  /** Absolute path of a scratch folder of this task, removed when the job ends. */
  Workspace: Symbol.for('sisyphus:workspace'),
  /** Absolute path of a scratch folder shared by the tasks of this job (two passes of one encode), removed when the job ends. */
  JobWorkspace: Symbol.for('sisyphus:job-workspace'),
  /** {@link OutputFiles}: claim, verify and promote output files (every module writes its outputs through it). */
  OutputFiles: Symbol.for('sisyphus:output-files'),
  /** {@link TaskActivity}: label slow work so that a timeout's message names it. */
  Activity: Symbol.for('sisyphus:activity'),
  /** The task's AbortSignal: fires on cancel or timeout. */
  AbortSignal: Symbol.for('sisyphus:abort-signal'),
  /** This module's settings from the worker configuration (`settings.<module>`). */
  ModuleSettings: Symbol.for('sisyphus:module-settings'),
  /** {@link PathGuard}: resolves task paths and enforces allowed roots. */
  PathGuard: Symbol.for('sisyphus:path-guard'),
  /** {@link JobOutputs}: files earlier tasks of the job will write. */
  JobOutputs: Symbol.for('sisyphus:job-outputs'),
  /** {@link TaskChildren}: hand child jobs to the server and resume when they have completed (fan-out). */
  Children: Symbol.for('sisyphus:children'),
} as const;

/** One of the symbols in {@link TOKENS}. */
export type Token = (typeof TOKENS)[keyof typeof TOKENS];
