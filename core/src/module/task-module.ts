import type { Static, TSchema } from 'typebox';
import type { InjectionToken } from 'tsyringe';
import type { SisyphusError } from './errors.js';
import type { TaskContext } from '../container/services.js';
import type { DetectContext, ModuleDetection, RequiresContext } from './module-hooks.js';

/** What `cleanup` learns about the `run` before it. */
export interface RunOutcome {
  /** True when `run` threw (or was cancelled, or timed out). */
  failed: boolean;
  /** True when the job was cancelled or the task timed out. */
  cancelled: boolean;
  /** The tagged error of `run`, when it failed. */
  error?: SisyphusError;
  /**
   * True when `run` handed over child jobs (`ctx.children.wait`): the task
   * runs again when they have completed, so keep what they will need (their
   * output folder); `failed` is false.
   */
  waiting?: boolean;
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

/**
 * The type of a module's settings as its code sees them: `Static` of its
 * settings schema, or a loose record when it declares none.
 */
export type SettingsOf<SettingsSchema extends TSchema | undefined> = SettingsSchema extends TSchema
  ? Static<SettingsSchema>
  : Record<string, unknown>;

/** The type of a module's task data: `Static` of its schema (e.g. `ModuleData<typeof ffmpegModule>`). */
export type ModuleData<M extends { readonly schema: TSchema }> = Static<M['schema']>;

/** The {@link TaskContext} a module with data schema `S` and settings schema `SS` receives. */
export type ModuleContext<S extends TSchema, SS extends TSchema | undefined = undefined> = TaskContext<Static<S>, SettingsOf<SS>>;

/** What every module declares, whichever way it makes its handler. */
interface ModuleBase<S extends TSchema, SS extends TSchema | undefined> {
  /** The name jobs use in `task.module`. */
  name: string;
  /** One line for `sisyphus modules`. */
  description?: string;
  /** TypeBox schema of the task's `data`; the data type follows from it. */
  schema: S;
  /** TypeBox schema of the module's settings in the worker config; `ctx.settings` is typed from it. */
  settingsSchema?: SS;
  /**
   * Optional, for capability routing: what this worker can do with the
   * module, found once at worker start (binaries and their versions, ffmpeg's
   * encoders and hardware acceleration methods). Run programs through
   * `context.runner` with `context.signal` and `context.timeoutMs` (see
   * `detectBinaryVersion`); a missing binary is left out, not thrown. A hook
   * that throws or runs out of time contributes nothing (the worker logs it).
   */
  detect?(context: DetectContext<SettingsOf<SS>>): ModuleDetection | Promise<ModuleDetection>;
  /**
   * Optional, for capability routing: what a task with `data` needs of the
   * worker that runs it, besides the module itself (`module:NAME` is always
   * required), as `kind:value` strings: `binary:NAME`, `encoder:NAME`,
   * `hwaccel:NAME`, `gpu:VENDOR`, `tag:NAME`. The server calls it when a job
   * is submitted, after the data passed the schema; it must not throw on
   * data it cannot read (validation reports that), and it reads server-side
   * data through `context.getData` as the task would at run time.
   */
  requires?(data: Static<S>, context: RequiresContext): readonly string[] | Promise<readonly string[]>;
}

/** Declaring a module with a handler class: built from a tsyringe child container of the task (decorators or `static inject`). */
export interface ClassModuleDefinition<S extends TSchema, SS extends TSchema | undefined = undefined> extends ModuleBase<S, SS> {
  task: TaskHandlerClass;
}

/** Declaring a module with a factory that receives the task's {@link TaskContext} directly (no decorators, no container). */
export interface SetupModuleDefinition<S extends TSchema, SS extends TSchema | undefined = undefined> extends ModuleBase<S, SS> {
  setup(context: ModuleContext<S, SS>): TaskHandler;
}

/**
 * A module declared with `setup`: the engine calls `setup` with the task's
 * {@link TaskContext} (no DI container is built for it).
 */
export interface SetupTaskModule<S extends TSchema = TSchema, SS extends TSchema | undefined = TSchema | undefined>
  extends Readonly<SetupModuleDefinition<S, SS>> {
  /** Marks the object as a module. */
  readonly kind: 'sisyphus-module';
  readonly task?: undefined;
}

/**
 * A module declared with a handler class `task`: the engine builds the
 * task's tsyringe child container (every `TOKENS` entry registered) and
 * constructs the class from it.
 */
export interface ClassTaskModule<S extends TSchema = TSchema, SS extends TSchema | undefined = TSchema | undefined>
  extends Readonly<ClassModuleDefinition<S, SS>> {
  /** Marks the object as a module. */
  readonly kind: 'sisyphus-module';
  readonly setup?: undefined;
}

/**
 * A task module, as the engine sees it: the frozen object `defineModule`
 * returns, with exactly one of `setup` (a function of the
 * {@link TaskContext}) or `task` (a handler class built by DI). `S` and `SS`
 * keep the schemas' own types, so `Static<typeof module.schema>` is the
 * data type.
 */
export type TaskModule<S extends TSchema = TSchema, SS extends TSchema | undefined = TSchema | undefined> =
  | SetupTaskModule<S, SS>
  | ClassTaskModule<S, SS>;
