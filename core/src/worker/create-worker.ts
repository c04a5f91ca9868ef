import { EventEmitter } from 'eventemitter3';
import { hostname as osHostname } from 'node:os';
import type { Logger, LogLevel } from '../container/services.js';
import type { Engine } from '../engine/engine.js';
import type { ProgressEvent, TaskPhaseEvent } from '../engine/events.js';
import type { Transport, WorkerStatus } from '../transport/transport.js';
import { CORE_VERSION } from '../version/version.js';
import { OutageTracker } from './outage-tracker.js';
import { slotWorkerIds } from './slot-worker-id.js';
import type { WorkerEvents } from './worker-events.js';
import { WorkerSlot, type SlotContext } from './worker-slot.js';
import type { ResultOutbox } from './result-outbox.js';
import type { WorkerCapabilities } from './worker-capabilities.js';

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** Runs the jobs (its data store is usually the transport's: see `transportDataStore`). */
  engine: Engine;
  /** The link to the job source. Not closed by the worker. */
  transport: Transport;
  /** The worker's id (see `loadOrCreateWorkerId`); slots are `ID-1`, `ID-2`, ... when `concurrency` > 1. */
  workerId: string;
  /** Sent in heartbeats and results. Default: the OS host name. */
  hostname?: string;
  /** Milliseconds between heartbeats of each slot. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Milliseconds between polls while idle (or the long-poll wait). Default 10000. */
  pollIntervalMs?: number;
  /**
   * First delay after a failed call; doubles per failure (with jitter). Default 20000 (`NETWORK_RETRY_INTERVAL`).
   * When the server answers again after an outage, every slot heartbeats at once and a retry waiting on
   * its backoff goes at once, though not sooner than the smaller of this and `heartbeatIntervalMs`
   * after its failed attempt. Heartbeats are never on a backoff: they keep their interval in an outage.
   */
  networkRetryIntervalMs?: number;
  /** Longest delay between retries. Default 300000 (or the interval, when larger). */
  networkRetryMaxMs?: number;
  /** Jobs run at once; each slot is a worker of its own to the server. Default 1. */
  concurrency?: number;
  /** Where the worker's own lines go (they are also `log` events). */
  logger?: Logger;
  /** Sent as `version`. Default: the core version. */
  version?: string;
  /**
   * Keeps results that could not be reported (see `createFileOutbox`); they
   * are reported first thing when the worker starts again. Without one, an
   * unreported result is lost when the worker exits (its job is then redone
   * once its lease expires).
   */
  outbox?: ResultOutbox;
  /**
   * What the worker can do (see `detectWorkerCapabilities`), sent in every
   * heartbeat of every slot so the server hands it only jobs it can run. A
   * promise is waited for before the startup heartbeat (detection may run
   * while the rest starts); one that rejects is logged and the worker
   * advertises nothing. Without it, heartbeats carry no capabilities (as the
   * original worker's): such a worker gets only jobs without an explicit
   * `requires`.
   */
  capabilities?: WorkerCapabilities | Promise<WorkerCapabilities>;
}

/** Options of {@link SisyphusWorker.stop}. */
export interface StopOptions {
  /**
   * Abort running jobs (processes are killed, the jobs reported as aborted
   * so the server queues them again) instead of letting them finish.
   */
  abort?: boolean;
}

/**
 * The worker loop: each concurrency slot heartbeats, polls while idle, runs
 * a job through the engine and reports the result through the transport.
 * Make one with {@link createWorker}.
 */
export class SisyphusWorker extends EventEmitter<WorkerEvents> {
  /** The ids the slots show to the server. */
  readonly workerIds: readonly string[];
  readonly #options: WorkerOptions;
  readonly #slots: WorkerSlot[];
  readonly #poll = new AbortController();
  readonly #retry = new AbortController();
  readonly #end = new AbortController();
  #stopping = false;
  #aborting = false;
  #done: Promise<void> | undefined;
  readonly #detach: Array<() => void> = [];

  constructor(options: WorkerOptions) {
    super();
    if (!options.workerId) throw new TypeError('createWorker: workerId is required');
    this.#options = options;
    const concurrency = options.concurrency ?? 1;
    this.workerIds = slotWorkerIds(options.workerId, concurrency);
    const retryBase = options.networkRetryIntervalMs ?? 20_000;
    const outage = new OutageTracker({
      down: (error, context, refused) => {
        if (refused) {
          this.#log('error', `the server refuses this worker's token (${context}): ${error}; give the worker a token with the worker role (api.token in its config, or $SISYPHUS_TOKEN); retrying with backoff, finished results are kept`);
        } else this.#log('warn', `server unreachable (${context}): ${error}; retrying with backoff, finished results are kept (logged again when it is back)`);
        this.emit('network', { state: 'down', error });
      },
      up: (downMs, failures) => {
        this.#log('info', `server reachable again after ${Math.round(downMs / 100) / 10} s (${failures} failed call${failures === 1 ? '' : 's'})`);
        this.emit('network', { state: 'up', downMs });
        // Renew every lease at once; the retries waiting on a backoff go next (the tracker wakes them).
        for (const slot of this.#slots) slot.renew();
      },
    });
    const heartbeatMs = options.heartbeatIntervalMs ?? 5000;
    const ctx: SlotContext = {
      engine: options.engine,
      transport: options.transport,
      hostname: options.hostname ?? osHostname(),
      version: options.version ?? CORE_VERSION,
      onlineAt: new Date().toISOString(),
      pollIntervalMs: options.pollIntervalMs ?? 10_000,
      retry: { baseMs: retryBase, maxMs: Math.max(options.networkRetryMaxMs ?? 300_000, retryBase) },
      retryWakeMs: Math.min(heartbeatMs, retryBase),
      outage,
      events: this,
      log: (level, message, fields, workerId) => this.#log(level, message, fields, workerId),
      pollSignal: this.#poll.signal,
      retrySignal: this.#retry.signal,
      endSignal: this.#end.signal,
      stopping: () => this.#stopping,
      aborting: () => this.#aborting,
      cancelJob: (jobId) => this.#cancelJob(jobId),
      ...(options.outbox ? { outbox: options.outbox } : {}),
    };
    if (options.capabilities !== undefined) {
      ctx.ready = Promise.resolve(options.capabilities).then(
        (capabilities) => {
          ctx.capabilities = capabilities;
        },
        (error: unknown) => this.#log('warn', `capabilities not known (${error instanceof Error ? error.message : String(error)}); heartbeats carry none`),
      );
    }
    this.#slots = this.workerIds.map((id) => new WorkerSlot(ctx, id, heartbeatMs));
  }

  /** Abort job `jobId` in whichever slot runs it (a cancel from the server). */
  #cancelJob(jobId: string): void {
    for (const slot of this.#slots) slot.abortJob('cancel', jobId);
  }

  /** Like EventEmitter's, but a listener that throws is logged instead of breaking the worker loop. */
  override emit<T extends EventEmitter.EventNames<WorkerEvents>>(event: T, ...args: EventEmitter.EventArgs<WorkerEvents, T>): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      this.#options.logger?.error(`a "${String(event)}" listener threw: ${error instanceof Error ? error.message : String(error)}`);
      return true;
    }
  }

  #log(level: LogLevel, message: string, fields?: Record<string, unknown>, workerId?: string): void {
    if (!this.#options.logger && this.listenerCount('log') === 0) return; // nobody to tell (a bench or an embedding app)
    const line = workerId && this.workerIds.length > 1 ? `[${workerId}] ${message}` : message;
    this.#options.logger?.[level](line, fields);
    this.emit('log', { level, message, ...(workerId ? { workerId } : {}), ...(fields ? { fields } : {}) });
  }

  /** Has `start` been called and `stop` not yet finished? */
  get running(): boolean {
    return this.#done !== undefined && !this.#end.signal.aborted;
  }

  /** The heartbeat body of every slot right now. */
  statuses(): Array<{ workerId: string; status: WorkerStatus }> {
    return this.#slots.map((s) => ({ workerId: s.id, status: s.status() }));
  }

  /**
   * Start every slot: a `startup` heartbeat, then the poll loop. Returns at
   * once; {@link SisyphusWorker.finished} settles when the worker has stopped.
   */
  start(): void {
    if (this.#done) throw new Error('the worker was already started');
    const onPhase = (e: TaskPhaseEvent) => this.#slots.forEach((s) => s.onPhase(e));
    const onProgress = (e: ProgressEvent) => this.#slots.forEach((s) => s.onProgress(e));
    const { engine } = this.#options;
    engine.on('task:phase', onPhase);
    engine.on('progress', onProgress);
    this.#detach.push(() => engine.off('task:phase', onPhase), () => engine.off('progress', onProgress));
    // Cancels the transport pushes (besides those in heartbeat replies) abort the job at once.
    const unsubscribe = this.#options.transport.onCancel?.((jobId) => this.#cancelJob(jobId));
    if (unsubscribe) this.#detach.push(unsubscribe);
    this.#log('info', `worker ${this.workerIds.join(', ')} started (transport ${this.#options.transport.name})`);
    // Results an earlier run could not report go first (a refused one, e.g. lease lost, is dropped).
    const kept = this.#options.outbox
      ? this.#options.outbox.list().then(async (results) => {
          if (results.length) this.#log('info', `reporting ${results.length} result(s) kept from before the last exit`);
          for (const { leased, result } of results) await this.#slots[0]!.reportKept(leased, result);
        })
      : Promise.resolve();
    this.#done = Promise.all([
      kept.catch((error: unknown) => this.#log('error', `cannot read the kept results: ${error instanceof Error ? error.message : String(error)}`)),
      ...this.#slots.map((slot) =>
        slot.run().catch((error: unknown) => {
          // Never expected: the slot loop catches what it calls. Keep the others going.
          this.#log('error', `slot stopped by an internal error: ${error instanceof Error ? error.stack : String(error)}`, undefined, slot.id);
        }),
      ),
    ]).then(async () => {
      await Promise.all(this.#slots.map((s) => s.stopHeartbeats()));
      this.#end.abort();
      this.#detach.forEach((f) => f());
      this.#log('info', 'worker stopped');
      this.emit('stopped');
    });
  }

  /** Settles when the worker has stopped (after {@link SisyphusWorker.stop}). */
  finished(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /**
   * Stop taking jobs. Graceful by default: running jobs finish and their
   * results are delivered (retrying as long as it takes). With `abort`,
   * running jobs are cancelled through their AbortSignal (their processes
   * are killed), reported with `requeue: true`, and a result the server
   * cannot take right now gets one last attempt. A graceful stop may be
   * followed by an aborting one. Resolves when everything has ended.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (!this.#done) return;
    const escalate = !!options.abort && !this.#aborting;
    if (!this.#stopping) {
      this.#stopping = true;
      this.emit('stopping', { abort: !!options.abort });
      const busy = this.#slots.filter((s) => s.jobId !== undefined).length;
      if (!options.abort) this.#log('info', `stopping: no new jobs${busy ? `; waiting for ${busy} running job${busy === 1 ? '' : 's'} to finish` : ''}`);
      this.#poll.abort();
    } else if (escalate) {
      this.emit('stopping', { abort: true });
    }
    if (escalate) {
      this.#aborting = true;
      this.#log('warn', 'stopping: aborting running jobs');
      this.#retry.abort();
      for (const slot of this.#slots) slot.abortJob('stop');
    }
    await this.#done;
  }
}

/**
 * Make a worker: `concurrency` slots that each poll the transport, run jobs
 * on `engine` and report them. Call `start()`; `stop()` ends it.
 *
 * @example
 * const worker = createWorker({ engine, transport, workerId: await loadOrCreateWorkerId() });
 * worker.on('job:reported', (e) => console.log(e.jobId, e.outcome));
 * worker.start();
 * process.once('SIGTERM', () => void worker.stop());
 */
export function createWorker(options: WorkerOptions): SisyphusWorker {
  return new SisyphusWorker(options);
}
