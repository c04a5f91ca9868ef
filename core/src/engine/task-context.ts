import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JobOutputs, Logger, LogLevel, Progress, TaskActivity, TaskContext, TaskInfo } from '../container/services.js';
import { createProcessRunner, type ProcessRunner } from '../process/process-runner.js';
import { formatCommand } from '../process/format-command.js';
import type { DataStore } from '../data/data-store.js';
import type { TaskChildren } from '../module/task-children.js';
import type { PathGuard } from '../paths/path-guard.js';
import type { AttemptOwner } from '../files/claim-file.js';
import { createOutputFiles, type TaskOutputFiles } from '../files/output-files.js';

/** What the engine hands over to build one task's context. */
export interface TaskContextInput {
  info: TaskInfo;
  data: Record<string, unknown>;
  settings: Record<string, unknown>;
  dataStore: DataStore;
  paths: PathGuard;
  outputs: JobOutputs;
  /** The job's scratch folder (named on first call). */
  jobWorkspace: () => string;
  /** Called when the task's workspace is created (so the job knows to remove it). */
  onWorkspaceCreated: () => void;
  /** The attempt writing the task's outputs (claims name it); made on first use. */
  owner: () => AttemptOwner;
  /** The task's own inputs (after validate): no output promotion may replace one. */
  inputs: () => readonly string[];
  /**
   * What the task is doing right now, for a timeout's message: commands
   * running and paths being resolved are added while they last.
   */
  activity: () => Set<string>;
  /** The task's signal (made on first call): fires on job cancel, or on timeout while running. */
  signal: () => AbortSignal;
  /** The signal the process runner uses by default in the current phase (cleanup gets its own). */
  runnerSignal: () => AbortSignal;
  log: (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
  progress: (progress: Progress) => void;
  /** The task's fan-out ({@link TaskChildren}). */
  children: TaskChildren;
}

/** One task's context, as the engine holds it (see {@link createTaskContext}). */
export interface TaskContextHolder {
  /** What a `setup` module receives, and what a class module's container registers piece by piece. */
  readonly context: TaskContext;
  /** The task's output files, if it ever asked for them (the engine settles them after cleanup). */
  outputFiles(): TaskOutputFiles | undefined;
}

/** Keep `label` in `activity` while `work` runs. */
function tracked<T>(activity: () => Set<string>, label: string, work: Promise<T>): Promise<T> {
  const doing = activity();
  doing.add(label);
  return work.finally(() => doing.delete(label));
}

/**
 * The {@link TaskContext} of one task. Everything costly in it (process
 * runner, path guard, workspaces, output files, the task's signal) is made
 * on first use: most short tasks touch few of them, and a busy worker runs
 * hundreds of tasks a second.
 */
export function createTaskContext(input: TaskContextInput): TaskContextHolder {
  let path: string | undefined;
  // Made on first use: most tasks never need one, and a job should cost no file-system work for it.
  const workspace = () => {
    if (path === undefined) {
      const made = join(input.jobWorkspace(), `${input.info.index + 1}-${input.info.module}`);
      mkdirSync(made, { recursive: true, mode: 0o700 });
      path = made;
      input.onWorkspaceCreated();
    }
    return path;
  };
  const logger: Logger = {
    debug: (m, f) => input.log('debug', m, f),
    info: (m, f) => input.log('info', m, f),
    warn: (m, f) => input.log('warn', m, f),
    error: (m, f) => input.log('error', m, f),
  };
  // Commands and paths are recorded while they last, so a timed-out phase can say what it was doing
  // (a stalled share makes realpath hang too). Made on first use, like everything else here.
  let runner: ProcessRunner | undefined;
  const getRunner = (): ProcessRunner => {
    if (runner) return runner;
    const processes = createProcessRunner(input.runnerSignal);
    return (runner = { run: (file, args, options) => tracked(input.activity, formatCommand([file, ...args]), processes.run(file, args, options)) });
  };
  let paths: PathGuard | undefined;
  const getPaths = (): PathGuard => {
    if (paths) return paths;
    const guard = input.paths;
    return (paths = {
      roots: guard.roots,
      cwd: guard.cwd,
      resolve: (path) => guard.resolve(path),
      check: (path, field) => tracked(input.activity, `resolving ${field} ${path}`, guard.check(path, field)),
    });
  };
  let outputFiles: TaskOutputFiles | undefined;
  const files = () => (outputFiles ??= createOutputFiles(input.owner(), input.inputs));
  let shared: string | undefined;
  // The job's own scratch folder (tasks of one job share it), made on first use.
  const jobWorkspace = () => {
    if (shared === undefined) {
      const made = input.jobWorkspace();
      mkdirSync(made, { recursive: true, mode: 0o700 });
      input.onWorkspaceCreated();
      shared = made;
    }
    return shared;
  };
  const progress = { report: input.progress };
  let activity: TaskActivity | undefined;
  const getActivity = () => (activity ??= { during: (label, work) => tracked(input.activity, label, work) });
  const context: TaskContext = {
    data: input.data,
    settings: input.settings,
    task: input.info,
    logger,
    progress,
    dataStore: input.dataStore,
    get runner() {
      return getRunner();
    },
    get paths() {
      return getPaths();
    },
    get workspace() {
      return workspace();
    },
    get jobWorkspace() {
      return jobWorkspace();
    },
    get activity() {
      return getActivity();
    },
    get outputFiles() {
      return files();
    },
    get signal() {
      return input.signal();
    },
    outputs: input.outputs,
    children: input.children,
  };
  return { context, outputFiles: () => outputFiles };
}
