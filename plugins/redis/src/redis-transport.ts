import {
  TransportError,
  capabilityList,
  completionBody,
  type CompleteOptions,
  type CompleteReply,
  type HeartbeatOptions,
  type HeartbeatReply,
  type LeasedJob,
  type NextOptions,
  type Transport,
  type TransportCapabilities,
  type WorkerStatus,
} from '@sisyphus/core/transport';
import {
  type JobResult,
  type Logger,
} from '@sisyphus/core';
import { LeaseSweeper, leasedDocument, recordHeartbeat, reportJob, withQueueEvents, workerScheduleBlock, type EventedQueueStore } from '@sisyphus/server/queue';
import { isStoreError, type PollResult, type StoredJob } from '@sisyphus/server/store';
import { BullmqStore } from './bullmq-store.js';
import { resolveRedisTransportOptions, type RedisTransportOptions, type ResolvedRedisTransportOptions } from './redis-transport-options.js';

export type { RedisTransportOptions } from './redis-transport-options.js';

/** The lease handle this transport puts on a {@link LeasedJob}. */
export interface RedisLease {
  /** The worker (slot) holding the job. */
  workerId: string;
}

const CAPABILITIES: TransportCapabilities = { longPoll: true, leases: true, pollChecksDisabled: true, completeFetchesNext: true, children: true };

/** A stored job as this transport hands it to the worker. */
async function leasedJob(store: EventedQueueStore, job: StoredJob, workerId: string): Promise<LeasedJob> {
  const lease: RedisLease = { workerId };
  return { job_id: job.job_id, job: await leasedDocument(store, job), lease };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** How long (ms) a slot's active-hours answer is used before the store is asked again (a schedule changed through the API shows within it). */
const SCHEDULE_RECHECK_MS = 2000;

/** Sleep `ms`, cut short by any of `signals`. */
function pause(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const any = AbortSignal.any(signals);
    if (any.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      any.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    any.addEventListener('abort', done, { once: true });
  });
}

/**
 * The worker's direct link to the queue on Redis, without an HTTP server in
 * between: a {@link BullmqStore} of its own on the servers' prefix, used the
 * way the server's routes use theirs (poll refused while the queue or the
 * worker is disabled; heartbeats stored in the server's shape and renewing
 * the running job's lease, the reply asking to abort a job whose lease was
 * lost or whose cancel was requested; completions finishing or, with
 * `requeue`, releasing the job). So `GET /workers` and `GET /queue` on any
 * server show these workers, and pause/disable/cancel reach them.
 *
 * Each method is one attempt; a Redis error or a call slower than
 * `callTimeoutMs` is a retryable `TransportError`, so the worker loop backs
 * off and tries again (the store reconnects by itself).
 */
export class RedisTransport implements Transport {
  readonly name = 'redis';
  readonly #options: ResolvedRedisTransportOptions;
  readonly #leaseMs: number;
  readonly #expiryMs: number;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #closed = new AbortController();
  #store: Promise<BullmqStore> | undefined;
  /** The opened store with its changes appended to the shared event log (what servers' `GET /events` serve). */
  #evented: EventedQueueStore | undefined;
  /** Idle `next()` calls waiting for a job, woken by the store's pub/sub. */
  readonly #waiting = new Set<() => void>();
  /** The worker's {@link onCancel} listeners. */
  readonly #cancelListeners = new Set<(jobId: string) => void>();
  #sweeper: LeaseSweeper | undefined;
  /** Calls in flight and when each gives up; one timer looks at them all (see {@link #call}). */
  readonly #inFlight = new Set<{ deadline: number; fail: () => void }>();
  #watchdog: NodeJS.Timeout | undefined;
  /**
   * Each slot's capabilities (flat `kind:value`), from its latest heartbeat
   * (the startup one precedes the first poll): polls and reports that take
   * the next job pass them to the store, which hands out only jobs they meet.
   */
  readonly #capabilities = new Map<string, readonly string[]>();

  /** Throws a `ConfigError` naming the option when one is wrong, missing or unknown. */
  constructor(options: RedisTransportOptions) {
    this.#options = resolveRedisTransportOptions(options);
    this.#leaseMs = this.#options.leaseSeconds * 1000;
    this.#expiryMs = this.#options.clientExpirySeconds * 1000;
    this.#pollMs = this.#options.pollIntervalMs;
    this.#timeoutMs = this.#options.callTimeoutMs;
  }

  /** The store, opened on first use (again after a failed open). */
  #open(): Promise<BullmqStore> {
    if (!this.#store) {
      const maintenance = this.#options.maintenance;
      const logger = this.#options.logger;
      const opening = BullmqStore.open({
        connection: this.#options.connection,
        prefix: this.#options.prefix,
        leaseMs: this.#leaseMs,
        stalledCheck: maintenance,
        // A call that timed out here is retried by the worker: Redis must never run it later on its own.
        failFast: true,
        log: (level, text) => logger?.[level](`redis transport: ${text}`),
      });
      this.#store = opening;
      opening.then(
        (store) => {
          // Closed while opening: do not leave the connection behind.
          if (this.#closed.signal.aborted) return void store.close().catch(() => undefined);
          logger?.info(`redis transport: connected (prefix ${this.#options.prefix})`);
          this.#evented = this.#eventedOf(store);
          store.onJobsAvailable((everyone) => this.#wake(everyone));
          store.onCancelRequested((jobId) => this.#cancelListeners.forEach((listener) => listener(jobId)));
          if (maintenance) this.#startSweeper(store);
        },
        () => {
          if (this.#store === opening) this.#store = undefined;
        },
      );
    }
    return this.#store;
  }

  /** `store` appending its changes to the event log: the direct worker's jobs show in every server's events. */
  #eventedOf(store: BullmqStore): EventedQueueStore {
    if (this.#evented?.inner !== store) {
      this.#evented = withQueueEvents(store, {
        heartbeatRefreshMs: Math.max(1000, this.#expiryMs / 3),
        onError: (error) => this.#options.logger?.warn(`redis transport: an event could not be appended: ${message(error)}`),
        onMetricsError: (error) => this.#options.logger?.warn(`redis transport: metrics could not be recorded: ${message(error)}`),
      });
    }
    return this.#evented;
  }

  /** Per slot: is it outside its active hours, and until when (epoch ms) that answer holds. */
  readonly #schedule = new Map<string, { off: boolean; until: number }>();

  /**
   * Is `workerId` outside its active hours (its own or its tags' schedule,
   * see `workerScheduleBlock`)? Read from the store at most every
   * {@link SCHEDULE_RECHECK_MS} per slot (a poll must not cost a read more),
   * and again at once when the schedule's own next change comes sooner.
   */
  async #offHours(store: EventedQueueStore, workerId: string): Promise<boolean> {
    const now = Date.now();
    const known = this.#schedule.get(workerId);
    if (known && now < known.until) return known.off;
    const block = await workerScheduleBlock(store, workerId, now);
    this.#schedule.set(workerId, { off: !!block, until: Math.min(now + SCHEDULE_RECHECK_MS, block?.until ?? Infinity) });
    return !!block;
  }

  /** Wake one idle `next()` (or all of them). */
  #wake(everyone: boolean): void {
    for (const wake of this.#waiting) {
      wake();
      if (!everyone) return;
    }
  }

  /** Requeue jobs whose lease ran out, as the servers do (see `maintenance`), with the same sweep and grace periods. */
  #startSweeper(store: BullmqStore): void {
    const logger = this.#options.logger;
    this.#sweeper = new LeaseSweeper(this.#eventedOf(store), {
      leaseMs: this.#leaseMs,
      maxAttempts: this.#options.maxAttempts,
      intervalMs: this.#options.sweepIntervalMs,
      log: (level, text) => logger?.[level](`redis transport: ${text}`),
    });
    this.#sweeper.start();
  }

  /**
   * Run one store call as a transport call: closed -> not retryable; Redis
   * error or no answer within `callTimeoutMs` -> retryable. One watchdog
   * timer, ticking a tenth of the timeout, ends calls past their deadline,
   * rather than a timer per call, which a busy worker would set and clear
   * thousands of times a second.
   */
  async #call<T>(what: string, body: (store: EventedQueueStore) => Promise<T>): Promise<T> {
    if (this.#closed.signal.aborted) throw new TransportError(`${what}: the transport is closed`, { retryable: false });
    let entry: { deadline: number; fail: () => void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      entry = {
        deadline: Date.now() + this.#timeoutMs,
        fail: () => reject(new TransportError(`${what}: no answer from Redis within ${this.#timeoutMs / 1000} s`)),
      };
    });
    this.#inFlight.add(entry!);
    this.#watch();
    try {
      return await Promise.race([
        this.#open().then((store) => {
          const away = store.unavailable();
          if (away) throw new TransportError(`${what}: ${away}`);
          return body(this.#eventedOf(store));
        }),
        timeout,
      ]);
    } catch (error) {
      if (this.#closed.signal.aborted) throw new TransportError(`${what}: the transport is closed`, { retryable: false, cause: error });
      if (error instanceof TransportError) throw error;
      // ioredis' words for a connection that is gone (calls fail at once rather than wait: see failFast).
      const text = /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET/.test(message(error)) ? 'Redis is unreachable; retrying' : message(error);
      throw new TransportError(`${what}: ${text}`, { cause: error });
    } finally {
      this.#inFlight.delete(entry!);
    }
  }

  /** Start the watchdog of {@link #call} (it stops itself once no call is in flight). */
  #watch(): void {
    if (this.#watchdog) return;
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      for (const call of this.#inFlight) {
        if (call.deadline > now) continue;
        this.#inFlight.delete(call);
        call.fail();
      }
      if (this.#inFlight.size === 0) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, Math.max(10, Math.ceil(this.#timeoutMs / 10)));
  }

  async capabilities(): Promise<TransportCapabilities> {
    return { ...CAPABILITIES };
  }

  async queueDisabled(): Promise<boolean> {
    return this.#call('queue attributes', async (store) => (await store.queueAttributes()).disabled);
  }

  async workerDisabled(workerId: string): Promise<boolean> {
    return this.#call(`worker ${workerId}`, async (store) => (await store.worker(workerId, Date.now())).attributes.disabled);
  }

  /**
   * Take the next job under a lease for `options.workerId` (nothing while
   * the queue or the worker is disabled). With `waitMs`, wait for a job
   * until one comes, the time is up or `signal` fires: woken at once by a
   * submit or requeue anywhere on the prefix, looking again every
   * `pollIntervalMs` in case a wake-up was missed.
   */
  async next(signal: AbortSignal, options: NextOptions = {}): Promise<LeasedJob | undefined> {
    const workerId = options.workerId ?? '';
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    const capabilities = this.#capabilities.get(workerId);
    const lease = capabilities ? { capabilities } : undefined;
    for (;;) {
      // Outside its active hours (its own or its tags' schedule) a worker takes no new job, as a disabled one.
      const { job } = await this.#call('poll', async (store): Promise<PollResult> =>
        (await this.#offHours(store, workerId)) ? {} : store.poll(workerId, this.#leaseMs, Date.now(), lease),
      );
      if (job) return this.#call('resume', (store) => leasedJob(store, job, workerId));
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return undefined;
      await this.#idle(Math.min(this.#pollMs, left), signal);
      if (signal.aborted) return undefined;
    }
  }

  /** Wait `ms`, or less when woken (a job may be there) or `signal` or close fires. */
  #idle(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiting.delete(done);
        resolve();
      };
      this.#waiting.add(done);
      void pause(ms, [signal, this.#closed.signal]).then(done);
    });
  }

  /**
   * Store the heartbeat (as `POST /workers/{id}` does) and renew the lease of
   * the job it names; the reply asks to abort that job when the lease is
   * lost or a cancel was requested.
   */
  async heartbeat(status: WorkerStatus, options: HeartbeatOptions = {}): Promise<HeartbeatReply | void> {
    const workerId = options.workerId;
    if (!workerId) throw new TypeError('heartbeat: no worker id (pass options.workerId)');
    // Kept before the call: a poll right after a heartbeat that failed still routes by them.
    if (status.capabilities) this.#capabilities.set(workerId, capabilityList(status.capabilities));
    return this.#call(`heartbeat of ${workerId}`, async (store) => {
      const { cancel } = await recordHeartbeat(store, workerId, { ...status }, { now: Date.now(), leaseMs: this.#leaseMs, expiryMs: this.#expiryMs });
      return cancel.length ? { cancel } : undefined;
    });
  }

  /**
   * Report a finished job (as `PATCH /jobs/{id}/completed` does): done ->
   * completed; failed with `requeue` (worker stopped mid-job) -> back to the
   * queue unless a cancel was requested; failed -> cancelled (when cancelled
   * or asked to) or failed. The result is stored as the job's `info`.
   * Refused (`accepted: false`) when the lease was lost or the job is gone.
   */
  async complete(job: LeasedJob, result: JobResult, options: CompleteOptions = {}): Promise<CompleteReply> {
    const id = job.job_id;
    const report = completionBody(result);
    const holder = typeof report.info.worker_id === 'string' ? report.info.worker_id : (job.lease as Partial<RedisLease> | undefined)?.workerId;
    const workerId = holder || undefined;
    const nextFor = options.next?.workerId;
    const capabilities = workerId ? this.#capabilities.get(workerId) : undefined;
    return this.#call(`completion of job ${id}`, async (store) => {
      try {
        const { next } = await reportJob(store, id, report, {
          workerId,
          now: Date.now(),
          leaseMs: this.#leaseMs,
          next: !!nextFor && nextFor === workerId && !(await this.#offHours(store, workerId)),
          ...(capabilities ? { lease: { capabilities } } : {}),
          // Child jobs require what their tasks use, derived from this worker's modules (as a server does from its own).
          ...(this.#options.modules ? { registry: this.#options.modules } : {}),
        });
        return next ? { accepted: true, next: await leasedJob(store, next, workerId!) } : { accepted: true };
      } catch (error) {
        // Refused (unknown job, lease lost): the worker drops the result, as after a 404/409 from a server.
        if (isStoreError(error, 'SIS_JOB_NOT_FOUND') || isStoreError(error, 'SIS_LEASE_LOST')) return { accepted: false, reason: error.message };
        // A report the server can never take (child jobs that are not jobs): as a 400 from a server.
        if (isStoreError(error, 'SIS_VALIDATION')) throw new TransportError(`completion of job ${id}: ${error.message}`, { retryable: false, cause: error });
        throw error;
      }
    });
  }

  async getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    return this.#call(`data ${module}/${name}`, (store) => store.getData(module, name));
  }

  /**
   * Call `listener` with the id of a job as soon as its cancel is requested
   * (through any server or store on the prefix), not only in the next
   * heartbeat reply. Listening starts once the transport is connected.
   */
  onCancel(listener: (jobId: string) => void): () => void {
    this.#cancelListeners.add(listener);
    return () => {
      this.#cancelListeners.delete(listener);
    };
  }

  /** End waiting polls and disconnect; later calls fail (not retryable). */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#sweeper?.stop();
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const opening = this.#store;
    this.#store = undefined;
    if (!opening) return;
    const store = await opening.catch(() => undefined);
    // The evented store appends what is pending, then closes the store.
    await (store ? this.#eventedOf(store) : undefined)?.close().catch(() => undefined);
    this.#evented = undefined;
  }
}

/** Make a {@link RedisTransport} (it connects on first use). */
export function createRedisTransport(options: RedisTransportOptions): RedisTransport {
  return new RedisTransport(options);
}
