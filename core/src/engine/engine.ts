import { EventEmitter } from 'eventemitter3';
import { randomUUID } from 'node:crypto';
import { addAbortListener } from 'node:events';
import { hostname, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { container as rootContainer, type DependencyContainer } from '../container/di.js';
import { createTaskContainer } from '../container/task-container.js';
import type { LogLevel, Progress } from '../container/services.js';
import { createPathGuard, realpathLoose, type PathGuard } from '../paths/path-guard.js';
import { createMemoryDataStore, type DataStore } from '../data/data-store.js';
import { parseJob } from '../job/parse-job.js';
import { renderTemplate, type TemplateVariables } from '../job/render-template.js';
import type { Job, JobInput } from '../job/job-schema.js';
import { formatProblems, schemaProblems } from '../job/format-errors.js';
import { CancelledError, JobError, SisyphusError, ValidationError, tagError, type Phase } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import type { RunOutcome, TaskHandler } from '../module/task-module.js';
import type { ChildJob, WaitOptions } from '../module/task-children.js';
import type { JobResume, WaitingChildren } from './job-flow.js';
import { childrenOf, isWaitingChildren, recordReturnValue, resumedStep } from './task-children-runtime.js';
import type { AttemptOwner } from '../files/claim-file.js';
import { removeTree } from '../files/remove-tree.js';
import { checkFileUse, type TaskFileUse } from './file-use.js';
import { SOURCE_GUARD_ENV, checkSources, snapshotSources } from './source-guard.js';
import type { ModuleEntry, ModuleRegistry } from '../plugin/module-registry.js';
import { CORE_VERSION } from '../version/version.js';
import type { EngineEvents } from './events.js';
import type { JobResult, TaskRecord } from './job-result.js';
import { createTaskContext, type TaskContextHolder } from './task-context.js';
import { createHandler } from './create-handler.js';
import { runChildrenInline } from './inline-children.js';

/** Settings of an {@link Engine}; see `createEngine`. */
export interface EngineSettings {
  registry: ModuleRegistry;
  /** Per-module settings, already checked against each module's settings schema. */
  settings: Record<string, Record<string, unknown>>;
  dataStore?: DataStore;
  /** A ready path guard; or give `allowedRoots` and `cwd`. */
  pathGuard?: PathGuard;
  allowedRoots?: readonly string[];
  cwd?: string;
  /** Cancel a task whose `run` takes longer (milliseconds). */
  taskTimeoutMs?: number;
  /**
   * Fail a task whose `init`, `validate` or `cleanup` takes longer
   * (milliseconds; a source on a stalled share must not hang a worker).
   * Default: 5 minutes, or `taskTimeoutMs` when that is shorter.
   */
  phaseTimeoutMs?: number;
  /** Where per-job scratch folders are made. Default: the OS temp folder. */
  workspaceRoot?: string;
  /** Reported in results: `worker` (host name) and `worker_id`. */
  worker?: { hostname?: string; id?: string };
}

/** Options of one {@link Engine.run}. */
export interface RunOptions {
  /** Cancels the job: running children are killed, cleanup runs, the result says cancelled. */
  signal?: AbortSignal;
  /** Id for the job (default: `job.job_id`, else a new UUID). */
  jobId?: string;
  /**
   * Values for `{{ name }}` placeholders. The job is always rendered: a
   * placeholder left unfilled fails the job (`SIS_TEMPLATE`), never runs as a literal.
   */
  variables?: TemplateVariables;
  /**
   * Run the job again from task `resume.task_index` after its children
   * completed (the `resume` of a leased job document: see `takeResume`):
   * earlier tasks are taken as done (their records come from `resume.tasks`)
   * and are not initialised, validated or run.
   */
  resume?: JobResume;
  /**
   * What a task's `ctx.children.wait` leads to. `inline` (default, local
   * runs): the engine runs the children itself, one after the other in this
   * process, then resumes the task; a failed child fails the job with its
   * reason. `defer` (workers): the run ends and its result carries
   * `waiting_children` for the server.
   */
  children?: 'inline' | 'defer';
}

/** One task of a validated plan. */
export interface PlannedTask {
  index: number;
  module: string;
  plugin: { name: string; version: string };
  data: Record<string, unknown>;
  /** What the module says `run` will do (e.g. the exact command line). */
  plan: string[];
}

/** What `Engine.validate` returns: the job and what each task will do. */
export interface JobPlan {
  jobId: string;
  job: Job;
  tasks: PlannedTask[];
}

interface Slot {
  index: number;
  entry: ModuleEntry;
  data: Record<string, unknown>;
  task: TaskContextHolder;
  /** The task's tsyringe child container: built for class modules only. */
  container?: DependencyContainer;
  /** The task's own controller (fires on job cancel or task timeout), made when something asks for its signal. */
  controller?: AbortController;
  /** In cleanup: the process runner then uses a controller of its own (made on first use), as the task's may have fired. */
  cleaning?: { controller?: AbortController };
  /** What the task is doing right now (commands, paths being resolved), for a timeout's message; made on first use. */
  activity?: Set<string>;
  handler?: TaskHandler;
  record: TaskRecord;
  timedOut: boolean;
}

interface JobState {
  /** Outputs declared by each task's handler after its validate, by task index. */
  outputs: string[][];
  /** The same, each with its real path (symlinks resolved), so another spelling of a path still matches. */
  outputSpellings: Array<ReadonlySet<string>>;
  /** This attempt: output claims name it (made on first use). */
  owner: () => AttemptOwner;
  jobId: string;
  job: Job;
  signal?: AbortSignal;
  slots: Slot[];
  workspace?: string;
  workspaceUsed?: boolean;
  /** What each task reads, writes and removes (after validate). */
  use?: TaskFileUse[];
  /** With the source guard on (tests): the job's sources as they were before it ran. */
  sources?: Awaited<ReturnType<typeof snapshotSources>>;
  /** The job's cancel is forwarded to the tasks' controllers (see `#taskController`). */
  forwarding?: boolean;
  /** Listeners on the job's signal that live as long as the job: disposed at its end (a worker reuses the signal). */
  detach: Disposable[];
  /** Where the job resumes (RunOptions.resume). */
  resume?: JobResume;
  /** The job is a child run inline by its parent's engine: it cannot wait for children of its own. */
  nested?: boolean;
  /** A task's children run here (`RunOptions.children` is not `defer`). */
  inline: boolean;
  /** Set when a task handed over child jobs: the job ends here, waiting for them. */
  waiting?: WaitingChildren;
}

const noop = () => undefined;
const NO_SPELLINGS: ReadonlySet<string> = new Set();
/** Phases other than `run` are bounded even when no timeout is configured. */
const DEFAULT_PHASE_TIMEOUT_MS = 5 * 60_000;
/** After a cancel or timeout, how long a phase's work gets to wind down (its processes are being killed). */
const WIND_DOWN_MS = 2500;
const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/**
 * Runs jobs: resolve every module, init all, validate all (schema, then the
 * module's own `validate`), then `run` and `cleanup` each task in order. The
 * first failure stops the job; `cleanup` runs whenever `run` started. Emits
 * typed events ({@link EngineEvents}). Never throws for a job's failure: the
 * {@link JobResult} says what happened.
 */
export class Engine extends EventEmitter<EngineEvents> {
  /** The modules this engine can run. */
  readonly modules: ModuleRegistry;
  readonly #settings: EngineSettings;
  #pathGuard?: Promise<PathGuard>;
  /** Read once: both cost a system call, and a busy worker runs hundreds of jobs a second. */
  readonly #hostname: string;
  readonly #workspaceRoot: string;
  /** Read once: a process.env lookup per job costs more than a no-op task (see `SOURCE_GUARD_ENV`). */
  readonly #sourceGuard = Boolean(process.env[SOURCE_GUARD_ENV]);

  constructor(settings: EngineSettings) {
    super();
    this.modules = settings.registry;
    this.#settings = settings;
    this.#hostname = settings.worker?.hostname ?? hostname();
    this.#workspaceRoot = settings.workspaceRoot ?? tmpdir();
  }

  #paths(): Promise<PathGuard> {
    this.#pathGuard ??= this.#settings.pathGuard
      ? Promise.resolve(this.#settings.pathGuard)
      : createPathGuard({ roots: this.#settings.allowedRoots ?? [], cwd: this.#settings.cwd ?? process.cwd() });
    return this.#pathGuard;
  }

  /** A new attempt of job `jobId` on this worker. */
  #owner(jobId: string): () => AttemptOwner {
    let owner: AttemptOwner | undefined;
    const startedAt = Date.now();
    return () => {
      const id = this.#settings.worker?.id;
      return (owner ??= { jobId, attempt: randomUUID(), hostname: this.#hostname, pid: process.pid, startedAt, ...(id ? { workerId: id } : {}) });
    };
  }

  #log(jobId: string, level: LogLevel, message: string, task?: { index: number; module: string }, fields?: Record<string, unknown>) {
    this.emit('log', {
      jobId, level, message, time: new Date().toISOString(),
      ...(task ? { index: task.index, module: task.module } : {}),
      ...(fields ? { fields } : {}),
    });
  }

  /**
   * The task's controller, made on first use (a module asking for its
   * signal, a process run, a timeout): most short tasks never need one.
   * The first one made starts forwarding the job's cancel to them all.
   */
  #taskController(state: JobState, slot: Slot): AbortController {
    if (slot.controller) return slot.controller;
    const controller = (slot.controller = new AbortController());
    const jobSignal = state.signal;
    if (jobSignal && !state.forwarding) {
      state.forwarding = true;
      state.detach.push(addAbortListener(jobSignal, () => state.slots.forEach((s) => s.controller?.abort(jobSignal.reason))));
    }
    if (jobSignal?.aborted) controller.abort(jobSignal.reason);
    return controller;
  }

  /** Throws when the job's signal has fired. */
  #checkCancelled(state: JobState): void {
    if (state.signal?.aborted) throw new CancelledError('job cancelled before it finished');
  }

  /** Run one phase of one task: events, duration, error tagging. */
  async #phase(state: JobState, slot: Slot, phase: Phase, work: () => unknown): Promise<void> {
    const module = slot.entry.module.name;
    // Event objects only for listeners: a busy worker runs eight phases per task, hundreds of tasks a second.
    if (this.listenerCount('task:phase')) this.emit('task:phase', { jobId: state.jobId, index: slot.index, module, phase, status: 'start' });
    const started = performance.now();
    try {
      await (phase === 'run' ? work() : this.#bounded(state, slot, phase, work));
    } catch (error) {
      const durationMs = performance.now() - started;
      slot.record.durations[phase] = Math.round(durationMs);
      const tagged = tagError(error, phase, module, slot.index);
      if (this.listenerCount('task:phase')) {
        this.emit('task:phase', { jobId: state.jobId, index: slot.index, module, phase, status: 'failed', durationMs, error: tagged });
      }
      throw tagged;
    }
    const durationMs = performance.now() - started;
    slot.record.durations[phase] = Math.round(durationMs);
    if (this.listenerCount('task:phase')) this.emit('task:phase', { jobId: state.jobId, index: slot.index, module, phase, status: 'end', durationMs });
  }

  /** `" (still running: ffprobe ... /mnt/share/a.mkv)"`, or nothing when the task is idle. */
  #activity(slot: Slot): string {
    return slot.activity?.size ? ` (still running: ${[...slot.activity].join('; ')})` : '';
  }

  /**
   * Run a phase other than `run` within the phase timeout, and stop it on a
   * cancel. Synchronous work needs no timer. On timeout or cancel the
   * task's processes are killed and the work gets a moment to wind down;
   * then the phase fails whether or not it has (an fs call on a stalled
   * share may never return; the worker's slot must).
   */
  #bounded(state: JobState, slot: Slot, phase: Phase, work: () => unknown): Promise<void> | undefined {
    const started = work();
    return isThenable(started) ? this.#boundedAsync(state, slot, phase, Promise.resolve(started)) : undefined;
  }

  async #boundedAsync(state: JobState, slot: Slot, phase: Phase, running: Promise<unknown>): Promise<void> {
    const limit = this.#settings.phaseTimeoutMs ?? Math.min(this.#settings.taskTimeoutMs ?? Infinity, DEFAULT_PHASE_TIMEOUT_MS);
    // Cleanup runs after a cancel too: only its timeout stops it.
    const jobSignal = phase === 'cleanup' ? undefined : state.signal;
    let timer: NodeJS.Timeout | undefined;
    let listener: Disposable | undefined;
    const stop = new Promise<'timeout' | 'cancel'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limit);
      if (jobSignal?.aborted) resolve('cancel');
      else if (jobSignal) listener = addAbortListener(jobSignal, () => resolve('cancel'));
    });
    running.catch(noop);
    try {
      const outcome = await Promise.race([running.then(() => 'done' as const), stop]);
      if (outcome === 'done') return;
      const doing = this.#activity(slot);
      const controller = phase === 'cleanup' ? (slot.cleaning!.controller ??= new AbortController()) : this.#taskController(state, slot);
      controller.abort(new Error(outcome));
      await Promise.race([running.catch(noop), delay(WIND_DOWN_MS, undefined, { ref: false })]);
      if (outcome === 'cancel') throw new CancelledError('job cancelled before it finished');
      throw new CancelledError(`${phase} timed out after ${limit / 1000} s${doing}`, { code: ErrorCodes.TIMEOUT });
    } catch (error) {
      // A cancel while init/validate is busy (e.g. killing its ffprobe) is a cancel, not a failure.
      if (error instanceof CancelledError || !jobSignal?.aborted) throw error;
      throw new CancelledError('job cancelled before it finished', { cause: error });
    } finally {
      clearTimeout(timer);
      listener?.[Symbol.dispose]();
    }
  }

  /** Resolve modules and build one DI container per task. */
  async #prepare(state: JobState): Promise<void> {
    const { job, jobId } = state;
    job.tasks.forEach((task, index) => {
      if (!this.modules.get(task.module)) {
        throw new ValidationError(
          `module "${task.module}" is not available (available: ${this.modules.names().join(', ') || 'none'})`,
          { code: ErrorCodes.MODULE_NOT_FOUND, module: task.module, taskIndex: index },
        );
      }
    });
    const paths = await this.#paths();
    const dataStore = this.#settings.dataStore ?? createMemoryDataStore();
    // The job's scratch folder is not even named until a task asks for its workspace.
    const jobWorkspace = () => (state.workspace ??= join(this.#workspaceRoot, `sisyphus-job-${randomBytes(6).toString('hex')}`));
    for (const [index, task] of job.tasks.entries()) {
      const entry = this.modules.get(task.module)!;
      const slot: Slot = {
        index, entry, data: task.data,
        record: { index, module: task.module, status: 'pending', durations: {} },
        timedOut: false,
        task: undefined as unknown as TaskContextHolder,
      };
      const who = { index, module: task.module };
      const resumed = state.resume?.task_index === index ? resumedStep(state.resume, index, task.module) : undefined;
      if (state.resume && index < state.resume.task_index) {
        const earlier = state.resume.tasks[index];
        slot.record = { ...(earlier ?? slot.record), index, module: task.module, status: 'done' };
      }
      slot.task = createTaskContext({
        children: childrenOf(resumed, Boolean(state.nested), state.inline),
        info: { index, count: job.tasks.length, module: task.module, jobId, jobTitle: job.job_title },
        data: task.data,
        settings: this.#settings.settings[task.module] ?? {},
        dataStore,
        paths,
        outputs: {
          // A module that does not declare its outputs may write anything: then "maybe" is the honest answer.
          producedEarlier: (path) => state.slots.slice(0, index).some((s) => !s.handler?.outputs || state.outputSpellings[s.index]?.has(path)),
          list: () => state.outputs.slice(0, index).flat(),
        },
        jobWorkspace,
        onWorkspaceCreated: () => {
          state.workspaceUsed = true;
        },
        owner: state.owner,
        inputs: () => state.use?.[index]?.inputs ?? [],
        activity: () => (slot.activity ??= new Set()),
        signal: () => this.#taskController(state, slot).signal,
        runnerSignal: () => (slot.cleaning ? (slot.cleaning.controller ??= new AbortController()).signal : this.#taskController(state, slot).signal),
        log: (level, message, fields) => {
          if (level === 'warn') (slot.record.warnings ??= []).push(message);
          this.#log(jobId, level, message, who, fields);
        },
        progress: ({ percent, ...p }: Progress) => this.emit('progress', { ...p, ...(percent === undefined || Number.isNaN(percent) ? {} : { percent: Math.min(100, Math.max(0, percent)) }), jobId, ...who }),
      });
      state.slots.push(slot);
    }
  }

  /** init all, then validate all (schema first, then the module's own checks). */
  async #initAndValidate(state: JobState): Promise<void> {
    const from = state.resume?.task_index ?? 0;
    const slots = from ? state.slots.slice(from) : state.slots;
    for (const slot of slots) {
      this.#checkCancelled(state);
      await this.#phase(state, slot, 'init', () => {
        slot.handler = createHandler(slot.entry.module, slot.task.context, () => (slot.container ??= createTaskContainer(rootContainer, slot.task.context)));
        return slot.handler.init?.();
      });
    }
    for (const slot of slots) {
      this.#checkCancelled(state);
      // Synchronous all the way for a module whose validate is (no timer, no extra turns): busy workers run hundreds of jobs a second.
      await this.#phase(state, slot, 'validate', () => {
        const problems = schemaProblems(slot.entry.module.schema, slot.data);
        if (problems.length) throw new ValidationError(formatProblems(problems), { details: { problems } });
        const validated = slot.handler!.validate?.();
        return isThenable(validated) ? Promise.resolve(validated).then(() => this.#recordOutputs(state, slot)) : this.#recordOutputs(state, slot);
      });
    }
    this.#checkCancelled(state);
    // Only modules that declare what they read or remove can break the job's file rules.
    // (Tasks before a resume ran already: they have no handler and use nothing now.)
    if (!slots.some((slot) => slot.handler!.inputs || slot.handler!.removes)) return;
    const use: TaskFileUse[] = state.slots.map((slot) => ({
      index: slot.index,
      module: slot.entry.module.name,
      inputs: slot.handler?.inputs?.() ?? [],
      outputs: state.outputs[slot.index] ?? [],
      removes: slot.handler?.removes?.() ?? [],
    }));
    await checkFileUse(use);
    state.use = use;
  }

  /** After a task's validate: what it will write, also by real path (a promise only when it writes something). */
  #recordOutputs(state: JobState, slot: Slot): Promise<void> | undefined {
    const outputs = (state.outputs[slot.index] = slot.handler!.outputs?.() ?? []);
    if (!outputs.length) {
      state.outputSpellings[slot.index] = NO_SPELLINGS;
      return undefined;
    }
    return Promise.all(outputs.map((o) => realpathLoose(o))).then((real) => {
      state.outputSpellings[slot.index] = new Set([...outputs, ...real]);
    });
  }

  /** run, then cleanup (always, once run started), for one task. */
  async #runTask(state: JobState, slot: Slot): Promise<void> {
    const handler = slot.handler!;
    const timeoutMs = this.#settings.taskTimeoutMs;
    const timer = timeoutMs
      ? setTimeout(() => {
          slot.timedOut = true;
          doing = this.#activity(slot);
          slot.controller!.abort(new Error('timeout'));
        }, timeoutMs)
      : undefined;
    // What can stop the run: the task's own signal when it may time out, else only the job's cancel (if it has a signal).
    const signal = timeoutMs ? this.#taskController(state, slot).signal : (slot.controller?.signal ?? state.signal);
    let doing = '';
    const stopped = () =>
      slot.timedOut
        ? new CancelledError(`task timed out after ${(timeoutMs ?? 0) / 1000} s${doing}`, { code: ErrorCodes.TIMEOUT })
        : new CancelledError('job cancelled');

    let runError: SisyphusError | undefined;
    let waiting: { children: readonly ChildJob[]; options: WaitOptions } | undefined;
    try {
      await this.#phase(state, slot, 'run', async () => {
        // A task's `ctx.children.wait` ends its run without failing it; what `run` returns is kept (returnvalue).
        const running = Promise.resolve()
          .then(() => handler.run())
          .then(
            (value) => recordReturnValue(slot.record, value, (message) => this.#log(state.jobId, 'warn', message, { index: slot.index, module: slot.entry.module.name })),
            (error) => {
              if (!isWaitingChildren(error)) throw error;
              waiting = error;
            },
          );
        if (!signal) return running; // nothing can cancel it
        running.catch(noop);
        let listener: Disposable | undefined;
        const aborted = new Promise<never>((_, reject) => {
          if (signal.aborted) reject(stopped());
          else listener = addAbortListener(signal, () => reject(stopped()));
        });
        try {
          await Promise.race([running, aborted]);
        } catch (error) {
          if (!signal.aborted) throw error;
          // Give the module (and the runner's kill) a moment to wind down before cleanup.
          await Promise.race([running.catch(noop), delay(WIND_DOWN_MS, undefined, { ref: false })]);
          if (error instanceof CancelledError) throw error;
          const e = stopped();
          e.cause = error;
          throw e;
        } finally {
          // Whether run returned, threw or was stopped: the signal outlives this job.
          listener?.[Symbol.dispose]();
        }
      });
    } catch (error) {
      runError = error as SisyphusError;
    } finally {
      if (timer) clearTimeout(timer);
    }

    // Cleanup gets a signal of its own (made when a process is run): the run's one may have fired already.
    slot.cleaning = {};
    const outcome: RunOutcome = {
      failed: runError !== undefined,
      cancelled: signal?.aborted === true,
      ...(runError ? { error: runError } : {}),
      ...(waiting && !runError ? { waiting: true } : {}),
    };
    try {
      await this.#phase(state, slot, 'cleanup', () => handler.cleanup?.(outcome));
    } catch (error) {
      const cleanupError = error as SisyphusError;
      if (!runError) throw cleanupError;
      slot.record.cleanupError = { code: cleanupError.code, message: cleanupError.message };
      this.#log(state.jobId, 'error', `cleanup failed too: ${cleanupError.message}`, { index: slot.index, module: slot.entry.module.name });
    } finally {
      // Whatever the module did not promote is this attempt's own, unfinished: remove it.
      const files = slot.task.outputFiles();
      if (files) await files.settle();
    }
    if (runError) throw runError;
    if (waiting) {
      slot.record.waiting = true;
      const n = waiting.children.length;
      this.#log(state.jobId, 'info', `waits for ${n} child job${n === 1 ? '' : 's'}`, { index: slot.index, module: slot.entry.module.name });
      const { state: kept, finally: last } = waiting.options;
      state.waiting = {
        task_index: slot.index,
        children: [...waiting.children],
        ...(kept !== undefined ? { state: kept } : {}),
        ...(last ? { finally: last } : {}),
      };
      return;
    }
    slot.record.status = 'done';
  }

  async #dispose(state: JobState): Promise<void> {
    for (const listener of state.detach) listener[Symbol.dispose]();
    for (const slot of state.slots) {
      const files = slot.task.outputFiles();
      if (files) await files.settle().catch(noop);
      // Disposes what the container constructed that is disposable (tsyringe's own dispose).
      if (slot.container) {
        try {
          await slot.container.dispose();
        } catch {
          // A dependency's dispose failing must not fail a job that has ended.
        }
      }
    }
    if (state.workspace && state.workspaceUsed) await removeTree(state.workspace).catch(noop);
  }

  /**
   * Run a job to its end. `job` is a job document ({@link JobInput}: a
   * misspelled key does not compile; a task's `data` may be anything, it is
   * its module's to check) or a parsed {@link Job}. It is always checked and
   * normalised at run time too: a document from a file or the network may
   * be passed as `doc as JobInput`. Resolves with the result record;
   * failures, cancels and timeouts are reported there, not thrown.
   */
  async run(job: JobInput, options: RunOptions = {}): Promise<JobResult> {
    const first = await this.#runOnce(job, options, false);
    return options.children === 'defer' || !first.waiting_children ? first : runChildrenInline(this, job, options, first);
  }

  /**
   * Run one step of a job (to its end, or until a task waits for children).
   * `nested`: the job is a child run inline by its parent's engine.
   * @internal used by `runChildrenInline`.
   */
  async runStep(job: JobInput, options: RunOptions, nested: boolean): Promise<JobResult> {
    return this.#runOnce(job, options, nested);
  }

  async #runOnce(job: JobInput, options: RunOptions, nested: boolean): Promise<JobResult> {
    const startTime = new Date();
    const started = performance.now();
    let state: JobState | undefined;
    let failure: SisyphusError | undefined;
    let parsed: Job | undefined;
    let jobId = options.jobId ?? randomUUID();
    try {
      parsed = parseJob(renderTemplate(job, options.variables ?? {}));
      jobId = options.jobId ?? parsed.job_id ?? jobId;
      state = {
        outputs: [], outputSpellings: [], owner: this.#owner(jobId), jobId, job: parsed, slots: [], detach: [], inline: options.children !== 'defer',
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.resume ? { resume: options.resume } : {}),
        ...(nested ? { nested } : {}),
      };
      this.emit('job:start', { jobId, job: parsed, modules: parsed.tasks.map((t) => t.module) });
      if (options.resume && options.resume.task_index >= parsed.tasks.length) {
        throw new JobError(`the job resumes at task ${options.resume.task_index + 1}, but it has ${parsed.tasks.length} task${parsed.tasks.length === 1 ? '' : 's'}`);
      }
      await this.#prepare(state);
      await this.#initAndValidate(state);
      if (this.#sourceGuard && state.use) state.sources = await snapshotSources(state.use);
      for (const slot of state.slots) {
        if (slot.index < (state.resume?.task_index ?? 0)) continue; // ran before the job waited
        this.#checkCancelled(state);
        await this.#runTask(state, slot);
        if (state.waiting) break;
      }
    } catch (error) {
      failure = error instanceof SisyphusError ? error : new SisyphusError(`internal error: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    } finally {
      if (state) await this.#dispose(state);
    }
    if (state?.sources?.length) {
      for (const v of await checkSources(jobId, state.sources)) this.#log(jobId, 'error', `source ${v.path} was modified during the job (${v.before.size} -> ${v.after.size} bytes)`);
    }
    const result = this.#result(jobId, parsed, state, startTime, started, failure);
    this.emit('job:end', { jobId, result });
    return result;
  }

  #result(jobId: string, job: Job | undefined, state: JobState | undefined, startTime: Date, started: number, failure?: SisyphusError): JobResult {
    const end = new Date();
    const tasks = (state?.slots ?? []).map((s) => s.record);
    const result: JobResult = {
      start_time: startTime.toISOString(),
      end_time: end.toISOString(),
      runtime: Math.round(performance.now() - started) / 1000,
      worker: this.#hostname,
      worker_id: this.#settings.worker?.id ?? 'local',
      version: CORE_VERSION,
      completed: failure === undefined,
      job_id: jobId,
      job_title: job?.job_title ?? '',
      failed: failure !== undefined,
      cancelled: failure?.code === ErrorCodes.CANCELLED,
      tasks,
    };
    if (!failure && state?.waiting) {
      result.completed = false;
      result.waiting_children = state.waiting;
    }
    if (failure) {
      result.message = failure.message;
      result.code = failure.code;
      if (failure.phase) result.phase = failure.phase;
      if (failure.module) result.module = failure.module;
      if (failure.taskIndex !== undefined) {
        result.task_index = failure.taskIndex;
        const record = tasks[failure.taskIndex];
        if (record) {
          record.status = failure.code === ErrorCodes.CANCELLED ? 'cancelled' : 'failed';
          record.error = { code: failure.code, phase: failure.phase ?? 'run', message: failure.message, ...(failure.details ? { details: failure.details } : {}) };
        }
      }
      for (const record of tasks) if (record.status === 'pending') record.status = 'skipped';
    }
    return result;
  }

  /**
   * Resolve, init and validate every task without running any, and ask each
   * module what it would do. Throws the first error (a tagged
   * {@link SisyphusError}); cleans up after itself either way. `job` as
   * for {@link Engine.run}.
   */
  async validate(job: JobInput, options: RunOptions = {}): Promise<JobPlan> {
    const parsed = parseJob(renderTemplate(job, options.variables ?? {}));
    const jobId = options.jobId ?? parsed.job_id ?? randomUUID();
    const state: JobState = { outputs: [], outputSpellings: [], owner: this.#owner(jobId), jobId, job: parsed, slots: [], detach: [], inline: options.children !== 'defer', ...(options.signal ? { signal: options.signal } : {}) };
    try {
      await this.#prepare(state);
      await this.#initAndValidate(state);
      const tasks: PlannedTask[] = [];
      for (const slot of state.slots) {
        let plan: string | string[] = [];
        try {
          plan = (await slot.handler!.plan?.()) ?? [];
        } catch (error) {
          throw tagError(error, 'validate', slot.entry.module.name, slot.index);
        }
        tasks.push({
          index: slot.index, module: slot.entry.module.name, plugin: slot.entry.plugin, data: slot.data,
          plan: Array.isArray(plan) ? plan : [plan],
        });
      }
      return { jobId, job: parsed, tasks };
    } finally {
      await this.#dispose(state);
    }
  }
}
