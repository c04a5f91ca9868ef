import type { EventEmitter } from 'eventemitter3';
import type { LogLevel } from '../container/services.js';
import type { Engine } from '../engine/engine.js';
import type { ProgressEvent, TaskPhaseEvent } from '../engine/events.js';
import type { JobResult } from '../engine/job-result.js';
import type { JobInput } from '../job/job-schema.js';
import { takeResume } from '../engine/job-flow.js';
import { isRetryable } from '../transport/transport-error.js';
import type { LeasedJob, Transport, WorkerStatus } from '../transport/transport.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { JobProgress } from './job-progress.js';
import type { OutageTracker } from './outage-tracker.js';
import { sleep } from './sleep.js';
import type { WorkerEvents } from './worker-events.js';
import type { ResultOutbox } from './result-outbox.js';
import type { WorkerCapabilities } from './worker-capabilities.js';

/**
 * While a job reports progress, its slot heartbeats at least this often
 * (milliseconds), whatever the heartbeat interval: `submit --wait`, `workers
 * ls` and dashboards show progress about live, not a sample per interval.
 */
export const PROGRESS_HEARTBEAT_MS = 1000;

/** What every slot of one worker shares (built by `createWorker`). */
export interface SlotContext {
  engine: Engine;
  transport: Transport;
  hostname: string;
  version: string;
  /** Sent as `online_at`. */
  onlineAt: string;
  pollIntervalMs: number;
  /** Backoff of retried calls (polls after an error, completions). */
  retry: BackoffOptions;
  /**
   * When the server is reachable again, a retry waiting on its backoff goes
   * at once, but not sooner than this after its failed attempt (milliseconds):
   * a server that answers other calls yet keeps failing this one gets it at
   * this pace at most, not in a loop.
   */
  retryWakeMs: number;
  outage: OutageTracker;
  events: EventEmitter<WorkerEvents>;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>, workerId?: string): void;
  /** Fires when the worker stops: idle waits and polls end. */
  pollSignal: AbortSignal;
  /** Fires on an aborting stop: results still undelivered get one last attempt. */
  retrySignal: AbortSignal;
  /** Fires once every slot has ended: in-flight heartbeats are dropped. */
  endSignal: AbortSignal;
  stopping(): boolean;
  aborting(): boolean;
  /** A heartbeat reply asked to cancel `jobId` (whichever slot runs it). */
  cancelJob(jobId: string): void;
  /** Keeps results that could not be reported across worker restarts. */
  outbox?: ResultOutbox;
  /** What the worker can do, sent in every heartbeat (set once {@link SlotContext.ready} settles). */
  capabilities?: WorkerCapabilities;
  /** Settles when the capabilities are known: the startup heartbeat waits for it, so it carries them. */
  ready?: Promise<void>;
}

interface RunningJob {
  leased: LeasedJob;
  title: string;
  controller: AbortController;
  progress: JobProgress;
  abortReason?: 'cancel' | 'stop';
  /** The engine is done with it (only the report is left): nothing to abort any more. */
  ended?: boolean;
}

function titleOf(job: Record<string, unknown>): string {
  const title = job.job_title ?? job.job_name;
  return typeof title === 'string' ? title : '';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One concurrency slot: to the server, a worker of its own. It heartbeats,
 * polls while idle (unless the queue or it is disabled), runs one job at a
 * time and reports its result, retrying until the report goes through.
 */
export class WorkerSlot {
  #phase: WorkerStatus['status'] = 'startup';
  #running: RunningJob | undefined;
  #beating: Promise<void> | undefined;
  #beatAgain = false;
  /** The last heartbeat of this slot failed: the server has a stale status (and lease) of it. */
  #beatMissed = false;
  #timer: NodeJS.Timeout | undefined;
  /** The running job's abort controller; kept for the next job until it fires (a new one per job costs a busy worker ~4 us). */
  #controller = new AbortController();

  constructor(
    private readonly ctx: SlotContext,
    /** The slot's worker id, as the server sees it. */
    readonly id: string,
    private readonly heartbeatIntervalMs: number,
  ) {}

  /** Id of the job this slot runs (or still reports), if any. */
  get jobId(): string | undefined {
    return this.#running?.leased.job_id;
  }

  /** The heartbeat body right now. */
  status(): WorkerStatus {
    const base: WorkerStatus = { status: this.#phase, hostname: this.ctx.hostname, version: this.ctx.version, online_at: this.ctx.onlineAt };
    if (this.ctx.capabilities) base.capabilities = this.ctx.capabilities;
    const running = this.#running;
    if (!running) return base;
    return { ...base, job_id: running.leased.job_id, job_title: running.title, ...running.progress.fields() };
  }

  /** Engine events are per engine; the slot keeps those of its own job. */
  onPhase(event: TaskPhaseEvent): void {
    if (event.jobId === this.jobId) this.#running!.progress.onPhase(event);
  }

  /** See {@link WorkerSlot.onPhase}. Progress reaches the server within {@link PROGRESS_HEARTBEAT_MS}, not at the next regular heartbeat. */
  onProgress(event: ProgressEvent): void {
    if (event.jobId !== this.jobId) return;
    this.#running!.progress.onProgress(event);
    this.#beatForProgress();
  }

  #lastBeatAt = 0;
  /** A heartbeat at most {@link PROGRESS_HEARTBEAT_MS} after the last one while progress comes in (people follow it live). */
  #beatForProgress(): void {
    if (this.#soon || !this.#timer || this.heartbeatIntervalMs <= PROGRESS_HEARTBEAT_MS) return;
    const wait = Math.max(0, this.#lastBeatAt + PROGRESS_HEARTBEAT_MS - Date.now());
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.beat();
    }, wait);
  }

  /** Abort the running job (its processes are killed); false when `jobId` is not running here. */
  abortJob(reason: 'cancel' | 'stop', jobId?: string): boolean {
    const running = this.#running;
    if (!running || running.ended || (jobId !== undefined && running.leased.job_id !== jobId) || running.controller.signal.aborted) return false;
    running.abortReason = reason;
    this.ctx.log('warn', `${reason === 'cancel' ? 'the server cancelled' : 'aborting'} job ${running.leased.job_id} "${running.title}"`, undefined, this.id);
    this.ctx.events.emit('job:abort', { workerId: this.id, jobId: running.leased.job_id, reason });
    running.controller.abort(new Error(reason === 'cancel' ? 'cancelled by the server' : 'the worker is stopping'));
    return true;
  }

  /** Send a heartbeat now; one already in flight is followed by another instead of overlapping. */
  beat(): Promise<void> {
    if (this.#beating) {
      this.#beatAgain = true;
      return this.#beating;
    }
    this.#beating = (async () => {
      do {
        this.#beatAgain = false;
        await this.#sendHeartbeat();
      } while (this.#beatAgain && !this.ctx.endSignal.aborted);
    })().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  /**
   * The server is reachable again (after an outage): heartbeat at once, so
   * the running job's lease is renewed before anything else. Only when the
   * slot's last heartbeat failed: not for the one that found the server back,
   * nor when the "outage" was a failed report while heartbeats went through.
   */
  renew(): void {
    if (!this.#timer || !this.#beatMissed) return; // not started yet, or stopped; or nothing missed
    void this.beat();
  }

  async #sendHeartbeat(): Promise<void> {
    if (this.ctx.endSignal.aborted) return;
    this.#lastBeatAt = Date.now();
    const status = this.status();
    try {
      const reply = await this.ctx.transport.heartbeat(status, { workerId: this.id, signal: this.ctx.endSignal });
      this.#beatMissed = false;
      this.ctx.outage.succeeded();
      this.ctx.events.emit('heartbeat', { workerId: this.id, status, ok: true, ...(reply ? { reply } : {}) });
      for (const jobId of reply?.cancel ?? []) this.ctx.cancelJob(jobId);
    } catch (error) {
      if (this.ctx.endSignal.aborted) return;
      this.#beatMissed = true;
      this.ctx.outage.failed(error, `heartbeat of ${this.id}`);
      this.ctx.events.emit('heartbeat', { workerId: this.id, status, ok: false, error });
    }
  }

  /** Stop the heartbeat timer and wait for a heartbeat in flight. */
  async stopHeartbeats(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#soon) clearTimeout(this.#soon);
    this.#soon = undefined;
    await this.#beating;
  }

  /** The slot's life: startup heartbeat (once the capabilities are known), then poll/run until the worker stops. */
  async run(): Promise<void> {
    // The startup heartbeat carries the capabilities, and precedes the first poll (a server routes jobs by them).
    await this.ctx.ready;
    await this.beat();
    this.#phase = 'idle';
    this.#timer = setInterval(() => void this.beat(), this.heartbeatIntervalMs);
    let failures = 0;
    while (!this.ctx.stopping()) {
      const signal = this.ctx.pollSignal;
      let job: LeasedJob | undefined;
      let longPoll = false;
      try {
        const caps = await this.ctx.transport.capabilities?.(signal);
        // Our server refuses polls itself while disabled; the original needs the two checks first.
        const skip = caps?.pollChecksDisabled ? undefined : await this.#disabled(signal);
        if (skip) {
          this.ctx.outage.succeeded();
          failures = 0;
          this.ctx.events.emit('poll:skip', { workerId: this.id, reason: skip });
          await sleep(this.ctx.pollIntervalMs, signal);
          continue;
        }
        longPoll = caps?.longPoll === true;
        job = await this.ctx.transport.next(signal, { workerId: this.id, ...(longPoll ? { waitMs: this.ctx.pollIntervalMs } : {}) });
        this.ctx.outage.succeeded();
        failures = 0;
      } catch (error) {
        if (this.ctx.stopping()) break;
        const back = this.ctx.outage.failed(error, `polling as ${this.id}`);
        const retryable = isRetryable(error);
        const wait = retryable ? backoffDelay(failures++, this.ctx.retry) : this.ctx.pollIntervalMs;
        this.ctx.log('debug', `poll failed: ${errorMessage(error)}; next try in ${Math.round(wait / 100) / 10} s${retryable ? ' (sooner when the server is back)' : ''}`, undefined, this.id);
        await sleep(wait, signal, retryable ? { signal: back, minMs: this.ctx.retryWakeMs } : undefined);
        continue;
      }
      if (!job) {
        if (!longPoll) await sleep(this.ctx.pollIntervalMs, signal);
        continue;
      }
      // A job that arrived while stopping is not run; it is reported back as aborted (to be requeued).
      // A transport that hands out the next job with the report keeps the slot busy without polls.
      let next: LeasedJob | undefined = job;
      while (next) next = await this.#runJob(next, this.ctx.stopping());
    }
  }

  async #disabled(signal: AbortSignal): Promise<'queue-disabled' | 'worker-disabled' | undefined> {
    if (await this.ctx.transport.queueDisabled?.(signal)) return 'queue-disabled';
    if (await this.ctx.transport.workerDisabled?.(this.id, signal)) return 'worker-disabled';
    return undefined;
  }

  #soon: NodeJS.Timeout | undefined;
  /**
   * Report a status change shortly, not at once: a job that ends within
   * the delay (and the next one that starts) costs no heartbeats of its own,
   * while a real encode shows as in_progress within a quarter second.
   */
  #beatSoon(): void {
    this.#soon ??= setTimeout(() => {
      this.#soon = undefined;
      void this.beat();
    }, 250);
  }

  /** Run one job and report it; resolves to the next job when the report brought one. */
  async #runJob(leased: LeasedJob, refuse: boolean): Promise<LeasedJob | undefined> {
    // The engine takes its listeners off the signal when the job ends, so an unfired controller serves the next job too.
    if (this.#controller.signal.aborted) this.#controller = new AbortController();
    const running: RunningJob = { leased, title: titleOf(leased.job), controller: this.#controller, progress: new JobProgress() };
    this.#running = running;
    this.#phase = 'in_progress';
    const jobId = leased.job_id;
    this.ctx.events.emit('job:start', { workerId: this.id, jobId, title: running.title });
    this.ctx.log('info', `job ${jobId} "${running.title}" started`, undefined, this.id);
    if (refuse || this.ctx.aborting()) this.abortJob('stop');
    this.#beatSoon();

    const started = new Date();
    let result: JobResult;
    try {
      // The job as the transport delivered it: the engine checks it before anything runs. A job resuming after
      // its children carries `resume` (the server's); a task's wait for children goes back to the server (`defer`).
      const doc = { ...leased.job };
      const resume = takeResume(doc);
      // A source that cannot take child jobs (an original server): the children run here, in this slot.
      const children = (await this.ctx.transport.capabilities?.(running.controller.signal).catch(() => undefined))?.children ? 'defer' : 'inline';
      result = await this.ctx.engine.run(doc as JobInput, { signal: running.controller.signal, jobId, children, ...(resume ? { resume } : {}) });
    } catch (error) {
      // The engine reports failures in its result; a throw is a bug, but the worker carries on.
      result = {
        start_time: started.toISOString(), end_time: new Date().toISOString(), runtime: (Date.now() - started.getTime()) / 1000,
        worker: this.ctx.hostname, worker_id: this.id, version: this.ctx.version, completed: false,
        message: `internal error: ${errorMessage(error)}`, job_id: jobId, job_title: running.title, failed: true, cancelled: false, tasks: [],
      };
    }
    running.ended = true; // a cancel arriving now (e.g. a heartbeat sent before the job ended) is moot
    result = { ...result, worker: this.ctx.hostname, worker_id: this.id };
    if (running.abortReason === 'stop' && !result.completed && !result.waiting_children) {
      result.requeue = true;
      result.message = `the worker stopped before the job finished (${result.message ?? 'aborted'})`;
    }
    running.progress.progress = result.completed ? 100 : running.progress.progress;
    this.ctx.events.emit('job:end', { workerId: this.id, jobId, result });
    const waiting = result.waiting_children;
    if (waiting) {
      const n = waiting.children.length;
      this.ctx.log('info', `job ${jobId} waits for ${n} child job${n === 1 ? '' : 's'} (its step took ${result.runtime} s)`, undefined, this.id);
    } else {
      const how = result.completed ? 'done' : result.cancelled ? 'cancelled' : 'failed';
      this.ctx.log(result.completed ? 'info' : 'warn', `job ${jobId} ${how} in ${result.runtime} s${result.completed ? '' : `: ${result.message ?? ''}`}`, undefined, this.id);
    }

    const next = await this.#report(leased, result, false, !result.requeue);
    this.#running = undefined;
    this.#phase = 'idle';
    this.#beatSoon();
    return next;
  }

  /** Report a result kept in the outbox by an earlier run of the worker. */
  async reportKept(leased: LeasedJob, result: JobResult): Promise<void> {
    await this.#report(leased, result, true);
  }

  /**
   * Deliver the result; keep it and retry with backoff until it goes
   * through. After the first failed attempt it is also kept in the outbox
   * (when there is one), so not even a restart of the worker loses it.
   * With `wantNext` (and a transport that can), the report also asks for
   * this slot's next job, which is returned.
   */
  async #report(leased: LeasedJob, result: JobResult, inOutbox = false, wantNext = false): Promise<LeasedJob | undefined> {
    const jobId = leased.job_id;
    let saved = inOutbox;
    const done = (outcome: 'delivered' | 'refused' | 'lost' | 'kept', attempts: number, reason?: string) => {
      if (saved && outcome !== 'kept') void this.ctx.outbox?.remove(jobId);
      this.ctx.events.emit('job:reported', { workerId: this.id, jobId, outcome, attempts, ...(reason ? { reason } : {}) });
    };
    for (let attempt = 0; ; attempt++) {
      const last = this.ctx.retrySignal.aborted;
      try {
        const fetchNext = wantNext && !this.ctx.stopping() && (await this.ctx.transport.capabilities?.())?.completeFetchesNext === true;
        const reply = await this.ctx.transport.complete(leased, result, fetchNext ? { next: { workerId: this.id } } : undefined);
        this.ctx.outage.succeeded();
        if (reply && reply.accepted === false) {
          this.ctx.log('warn', `the server refused the result of job ${jobId} (${reply.reason ?? 'no reason given'}); dropped`, undefined, this.id);
          done('refused', attempt + 1, reply.reason);
        } else {
          this.ctx.log('info', `job ${jobId} reported${attempt ? ` after ${attempt + 1} attempts` : ''}`, undefined, this.id);
          done('delivered', attempt + 1);
          return reply?.next;
        }
        return undefined;
      } catch (error) {
        if (!isRetryable(error)) {
          this.ctx.log('error', `cannot report job ${jobId}: ${errorMessage(error)}; result dropped`, { result }, this.id);
          done('lost', attempt + 1, errorMessage(error));
          return;
        }
        const back = this.ctx.outage.failed(error, `reporting job ${jobId}`);
        if (!saved && this.ctx.outbox) {
          await this.ctx.outbox.save({ leased, result }).then(
            () => (saved = true),
            (e: unknown) => this.ctx.log('warn', `cannot keep the result of job ${jobId} on disk: ${errorMessage(e)}`, undefined, this.id),
          );
        }
        if (last && saved) {
          this.ctx.log('warn', `could not report job ${jobId} before exiting: ${errorMessage(error)}; the result is kept and reported when the worker starts again`, undefined, this.id);
          done('kept', attempt + 1, errorMessage(error));
          return;
        }
        if (last) {
          this.ctx.log('error', `could not report job ${jobId} before exiting: ${errorMessage(error)}; result dropped`, { result }, this.id);
          done('lost', attempt + 1, errorMessage(error));
          return;
        }
        const wait = backoffDelay(attempt, this.ctx.retry);
        this.ctx.log('debug', `report of job ${jobId} failed: ${errorMessage(error)}; keeping the result, next try in ${Math.round(wait / 100) / 10} s (sooner when the server is back)`, undefined, this.id);
        await sleep(wait, this.ctx.retrySignal, { signal: back, minMs: this.ctx.retryWakeMs });
      }
    }
  }
}
