import type { JobResult } from '../engine/job-result.js';
import type { Logger } from '../container/services.js';
import type { ModuleLookup } from '../job/job-requirements.js';
import type { WorkerCapabilities } from '../worker/worker-capabilities.js';

/** A job handed to a worker by its transport. */
export interface LeasedJob {
  /** The job's id on the server. */
  job_id: string;
  /** The job document as submitted (`job_title`/`job_name`, `tasks`, ...). */
  job: Record<string, unknown>;
  /** Transport-specific lease handle (kept opaque by the worker). */
  lease?: unknown;
}

/** The heartbeat body, in the original Sisyphus worker's shape. */
export interface WorkerStatus {
  status: 'startup' | 'idle' | 'in_progress';
  hostname: string;
  version: string;
  /** When the worker came online (any string; the original sends Python `str(datetime)` or "None"). */
  online_at: string;
  job_id?: string;
  job_title?: string;
  /** Module name of the running task. */
  task?: string;
  /** 0-100. */
  progress?: number;
  info?: Record<string, unknown>;
  /**
   * What the worker can do (capability routing; added by us, absent from
   * the original worker's heartbeats): detected at start-up plus its tags.
   * The server hands it only jobs whose requirements it meets; compare in
   * the flat form `capabilityList(capabilities)`.
   */
  capabilities?: WorkerCapabilities;
}

/** What a server may answer to a heartbeat. */
export interface HeartbeatReply {
  /** Ids of running jobs the worker must abort. */
  cancel?: string[];
  /** True when the worker (or the queue) is disabled. */
  disabled?: boolean;
}

/**
 * Options of {@link Transport.next}. Added for the worker loop: one worker
 * process may show up as several workers (`ID-1`, `ID-2`, ... one per
 * concurrency slot), so the transport must be told which one is asking; and
 * a transport that can wait for a job server-side (long-poll) needs to know
 * how long it may hold the request.
 */
export interface NextOptions {
  /** Id of the worker (slot) asking; a leasing server records it as the lease holder. */
  workerId?: string;
  /**
   * With {@link TransportCapabilities.longPoll}: hold the request up to this
   * long waiting for a job. Transports without long-poll ignore it and
   * answer at once.
   */
  waitMs?: number;
}

/** Options of {@link Transport.heartbeat}. */
export interface HeartbeatOptions {
  /** Id of the worker (slot) the status belongs to. */
  workerId?: string;
  signal?: AbortSignal;
}

/**
 * What a transport can do beyond the original protocol, found out at run
 * time (an HTTP transport asks the server once). The worker adapts: with
 * `longPoll` it does not sleep between empty polls.
 */
export interface TransportCapabilities {
  /** `next` honours `waitMs` and answers as soon as a job arrives. */
  longPoll?: boolean;
  /** The server holds polled jobs under leases renewed by heartbeats. */
  leases?: boolean;
  /**
   * `next` itself answers "nothing" while the queue or this worker is
   * disabled, so the worker need not ask `queueDisabled`/`workerDisabled`
   * before every poll (two requests less per job).
   */
  pollChecksDisabled?: boolean;
  /**
   * `complete` with {@link CompleteOptions.next} hands out the worker's next
   * job in the same call (`CompleteReply.next`): one call per job instead of
   * two while the queue is busy.
   */
  completeFetchesNext?: boolean;
  /**
   * The source takes a result with `waiting_children` (a task handed over
   * child jobs): it queues them and hands the job out again, with `resume`,
   * once they have completed. Without it the worker runs the children
   * itself, in the slot, one after the other (an original server would take
   * such a result for a completion).
   */
  children?: boolean;
}

/**
 * How the server took a completion. `void` from {@link Transport.complete}
 * means accepted. `accepted: false` means the server refused it on purpose
 * (e.g. 409: the lease was lost and the job was handed to someone else):
 * sending it again cannot help, so the worker drops it and logs `reason`.
 */
export interface CompleteReply {
  accepted: boolean;
  reason?: string;
  /**
   * With {@link CompleteOptions.next} (and `completeFetchesNext`): the
   * worker's next job, leased to it as `next()` would have. Absent when none
   * was queued or the queue or worker is disabled: the worker then polls.
   */
  next?: LeasedJob;
}

/** Options of {@link Transport.complete}. */
export interface CompleteOptions {
  /**
   * With {@link TransportCapabilities.completeFetchesNext}: also take the
   * next job for this worker (slot) id, as `next()` without waiting would.
   * Transports without the capability ignore it.
   */
  next?: { workerId: string };
}

/**
 * The worker's link to a job source (HTTP server, Redis, ...). Each adapter
 * owns its connection; every adapter runs the core's transport conformance
 * suite.
 *
 * Errors: a method that cannot reach the server throws. The worker retries
 * with backoff unless the error says `retryable: false` (see
 * `TransportError`); adapters do single attempts and leave retrying,
 * backoff and outage logging to the worker loop, so every adapter behaves
 * the same.
 */
export interface Transport {
  /** Adapter name, e.g. `http`. */
  readonly name: string;
  /**
   * The next job, or `undefined` when there is none right now. Honours
   * `signal`. `options` (added for the worker loop; older callers pass
   * nothing) names the asking worker and, with long-poll, how long to wait.
   */
  next(signal: AbortSignal, options?: NextOptions): Promise<LeasedJob | undefined>;
  /** Report status; renews the lease of the running job. `options.workerId` names the slot. */
  heartbeat(status: WorkerStatus, options?: HeartbeatOptions): Promise<HeartbeatReply | void>;
  /**
   * Report a finished job (done, failed or cancelled). Must not lose
   * `result`: throw when it could not be delivered (the worker keeps it and
   * retries), resolve `{accepted: false}` when the server refused it for good.
   */
  complete(job: LeasedJob, result: JobResult, options?: CompleteOptions): Promise<CompleteReply | void>;
  /** Server-side module data (e.g. ffmpeg option sets), or `undefined`. */
  getData(module: string, name: string): Promise<Record<string, unknown> | undefined>;
  /** Release the connection. */
  close(): Promise<void>;
  /**
   * Optional (added for the worker loop): what this transport supports. May
   * ask the server the first time and cache the answer.
   */
  capabilities?(signal?: AbortSignal): Promise<TransportCapabilities>;
  /**
   * Optional (added for the worker loop, mirroring the original worker's
   * `GET /queue` check): true when the queue is paused; the worker then does
   * not poll.
   */
  queueDisabled?(signal?: AbortSignal): Promise<boolean>;
  /**
   * Optional (added for the worker loop, mirroring the original worker's
   * `GET /workers/{id}` check): true when this worker is disabled.
   */
  workerDisabled?(workerId: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Optional: call `listener` with the id of a job whose cancel was just
   * requested, as soon as the source tells (the Redis transport listens on
   * a pub/sub channel), so a running job stops within milliseconds rather
   * than at the next heartbeat reply. Heartbeat replies still carry cancels
   * too (a missed message). Returns the unsubscribe function.
   */
  onCancel?(listener: (jobId: string) => void): () => void;
}

/** What a {@link TransportFactory} gets besides its options. */
export interface TransportContext {
  /** Where the transport may log (connection notes, detected features). */
  logger?: Logger;
  /**
   * The modules of the worker's plugins. A transport that takes reports
   * itself (straight into a store, without a server) derives the
   * requirements of the child jobs a task hands over from them
   * (`jobRequirements`), as a server does from its own.
   */
  modules?: ModuleLookup;
}

/**
 * A transport as a plugin provides it: `definePlugin({ transports: [{ name:
 * 'http', create(options) }] })`. The worker config picks one by `name` and
 * passes `transport.options`.
 */
export interface TransportFactory<Options = Record<string, unknown>> {
  /** The name configs use (`transport.name`), e.g. `http`. */
  readonly name: string;
  /** One line for listings. */
  readonly description?: string;
  /** Make a transport from the config's `transport.options`. */
  create(options: Options, context?: TransportContext): Transport | Promise<Transport>;
}

/** Is `value` a {@link TransportFactory} (a named object with `create`)? */
export function isTransportFactory(value: unknown): value is TransportFactory {
  const v = value as Partial<TransportFactory> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && v.name !== '' && typeof v.create === 'function';
}
