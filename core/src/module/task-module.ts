import type { Static, TSchema } from 'typebox';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { SisyphusError } from './errors.js';
import type { TaskContext } from '../container/services.js';

/** What `cleanup` learns about the `run` before it. */
export interface RunOutcome {
  /** True when `run` threw (or was cancelled, or timed out). */
  failed: boolean;
  /** True when the job was cancelled or the task timed out. */
  cancelled: boolean;
  /** The tagged error of `run`, when it failed. */
  error?: SisyphusError;
}

/**
 * One task's worth of work. A fresh handler is made for every task, with the
 * task's data and services injected. Only `run` is required.
 */
export interface TaskHandler {
  /** Prepare (find binaries, read settings). Throw to fail with `SIS_INIT`. */
  init?(): unknown;
  /** Check the data beyond its schema (files, server-side data). Throw to fail with `SIS_VALIDATION`. */
  validate?(): unknown;
  /** Do the work. Honour the injected AbortSignal. Throw to fail with `SIS_RUN`. */
  run(): unknown;
  /** Tidy up; runs once `run` has started, even when it failed. */
  cleanup?(outcome: RunOutcome): unknown;
  /** After `validate`: lines saying what `run` will do (shown by `sisyphus validate`). */
  plan?(): string | string[] | Promise<string | string[]>;
  /**
   * After `validate`: absolute paths of the files `run` will write. Later
   * tasks' validation sees them through `JobOutputs` (they may not exist yet).
   */
  outputs?(): string[];
  /**
   * After `validate`: absolute paths of the files `run` will read. The
   * engine refuses a job in which a task writes onto one of its own inputs,
   * or removes a file a later task reads (compared by real identity).
   */
  inputs?(): string[];
  /** After `validate`: absolute paths `run` deletes or moves away (see {@link TaskHandler.inputs}). */
  removes?(): string[];
}

/** A handler class. Decorate it (`@injectable()` + `@inject(TOKENS.X)`) or list its tokens in `static inject`. */
export type TaskHandlerClass = (new (...args: never[]) => TaskHandler) & {
  /** Tokens for the constructor's parameters, in order (the decorator-free way). */
  inject?: readonly InjectionToken<unknown>[];
};

/** A task module, as the engine sees it. Build one with `defineModule`. */
export interface TaskModule<S extends TSchema = TSchema> {
  /** Marks the object as a module. */
  readonly kind: 'sisyphus-module';
  /** The name jobs use in `task.module`. */
  readonly name: string;
  /** One line for `sisyphus modules`. */
  readonly description?: string;
  /** TypeBox schema of the task's `data`. */
  readonly schema: S;
  /** TypeBox schema of the module's settings in the worker config. */
  readonly settingsSchema?: TSchema;
  /** Make the handler for one task from the task's DI container. */
  create(container: DependencyContainer): TaskHandler;
}

/** Declaring a module with a handler class (DI by decorators or `static inject`). */
export interface ClassModuleDefinition<S extends TSchema> {
  name: string;
  description?: string;
  schema: S;
  settingsSchema?: TSchema;
  task: TaskHandlerClass;
}

/** Declaring a module with a factory that receives the {@link TaskContext} (no decorators). */
export interface SetupModuleDefinition<S extends TSchema, Settings> {
  name: string;
  description?: string;
  schema: S;
  settingsSchema?: TSchema;
  setup(context: TaskContext<Static<S>, Settings>): TaskHandler;
}
