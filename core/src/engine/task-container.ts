import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from '../container/di.js';
import { TOKENS } from '../container/tokens.js';
import type { JobOutputs, Logger, LogLevel, Progress, TaskContext, TaskInfo } from '../container/services.js';
import { createProcessRunner } from '../process/process-runner.js';
import type { DataStore } from '../data/data-store.js';
import type { PathGuard } from '../paths/path-guard.js';

/** What the engine hands over to build one task's container. */
export interface TaskContainerInput {
  parent: DependencyContainer;
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
  /** The task's signal (made on first call): fires on job cancel, or on timeout while running. */
  signal: () => AbortSignal;
  /** The signal the process runner uses by default in the current phase (cleanup gets its own). */
  runnerSignal: () => AbortSignal;
  log: (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
  progress: (progress: Progress) => void;
}

/** One task's container, as the engine holds it (see {@link createTaskContainer}). */
export interface TaskContainer {
  /** What the module's `create` gets: resolves everything in `TOKENS`. */
  readonly container: DependencyContainer;
  /** The tsyringe container, if it was ever needed. */
  built(): DependencyContainer | undefined;
}

/**
 * The container of one task: a tsyringe child container with everything a
 * module may inject, each under its token in `TOKENS`. It is built on first
 * use; until then the {@link TaskContext} alone is answered directly, which
 * is all a `setup` module (`defineModule({ setup })`) asks for. Building a
 * child container and its dozen registrations costs more than a trivial
 * task itself, hundreds of times a second on a busy worker.
 */
export function createTaskContainer(input: TaskContainerInput): TaskContainer {
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
  const runner = createProcessRunner(input.runnerSignal);
  const progress = { report: input.progress };
  const context: TaskContext = {
    data: input.data,
    settings: input.settings,
    task: input.info,
    logger,
    progress,
    dataStore: input.dataStore,
    runner,
    paths: input.paths,
    get workspace() {
      return workspace();
    },
    get signal() {
      return input.signal();
    },
    outputs: input.outputs,
  };
  let real: DependencyContainer | undefined;
  const build = (): DependencyContainer => (real ??= register(input.parent.createChildContainer(), input, { logger, progress, runner, workspace, context }));
  const container = new Proxy({} as DependencyContainer, {
    get(_target, key) {
      if (key === 'resolve' && !real) {
        return (token: unknown) => (token === TOKENS.TaskContext ? context : build().resolve(token as never));
      }
      const target = build();
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    has: (_target, key) => Reflect.has(build(), key),
  });
  return { container, built: () => real };
}

/** Register a task's services in its child container `c`. */
function register(
  c: DependencyContainer,
  input: TaskContainerInput,
  made: { logger: Logger; progress: { report: (progress: Progress) => void }; runner: unknown; workspace: () => string; context: TaskContext },
): DependencyContainer {
  const { logger, progress, runner, workspace, context } = made;
  c.register(TOKENS.TaskData, { useValue: input.data });
  c.register(TOKENS.TaskInfo, { useValue: input.info });
  c.register(TOKENS.ModuleSettings, { useValue: input.settings });
  c.register(TOKENS.Logger, { useValue: logger });
  c.register(TOKENS.Progress, { useValue: progress });
  c.register(TOKENS.DataStore, { useValue: input.dataStore });
  c.register(TOKENS.ProcessRunner, { useValue: runner });
  c.register(TOKENS.PathGuard, { useValue: input.paths });
  c.register(TOKENS.Workspace, { useFactory: workspace });
  c.register(TOKENS.AbortSignal, { useFactory: () => input.signal() });
  c.register(TOKENS.JobOutputs, { useValue: input.outputs });
  c.register(TOKENS.TaskContext, { useValue: context });
  return c;
}
