import type { WebhookStore } from './webhook-store.js';
import type { WatchStore } from './watch-store.js';
import type { QueueMetricsStore } from './queue-metrics.js';

/**
 * Where a job is in its life. `waiting-children` (BullMQ's name for it): a
 * task of the job handed the server child jobs ({@link QueueStore.waitForChildren});
 * the job holds no worker and is queued again (to resume) once they have all completed.
 */
export type JobState = 'queued' | 'running' | 'waiting-children' | 'completed' | 'failed' | 'cancelled';

/**
 * The fan-out of a job that waited for children: where it resumes and what
 * it is waiting for. Set by {@link QueueStore.waitForChildren}, kept after
 * the job resumes and ends (history shows it).
 */
export interface JobFlow {
  /** Index (0-based) of the task that waits and resumes; tasks before it do not run again. */
  task_index: number;
  /** How many times the job has waited for children (1 on its first wait). */
  round: number;
  /** What the task passed to wait (any JSON), handed back unchanged at resume (e.g. a chunk plan). */
  state?: unknown;
  /** Ids of this round's children, in the order the task gave them. */
  children: string[];
  /** How many of this round's children have not ended yet. */
  pending: number;
  /** Id of the job's `finally` job once it was queued (see {@link WaitForChildren.finally}). */
  finally_id?: string;
}

/** How one child of a flow ended, kept with its parent (as BullMQ keeps children's values): see {@link QueueStore.childResults}. */
export interface ChildResult {
  job_id: string;
  job_title: string;
  state: 'completed' | 'failed' | 'cancelled';
  /** The child's `result` (its worker's result record), when it has one. */
  result?: Record<string, unknown>;
  reason?: string;
}

/** What {@link QueueStore.waitForChildren} records. */
export interface WaitForChildren {
  /** The job's result record so far (earlier tasks' records): kept as its `result` while it waits. */
  result: Record<string, unknown>;
  /** Index of the waiting task. */
  task_index: number;
  /** JSON the task keeps for its resume ({@link JobFlow.state}). */
  state?: unknown;
  /**
   * The children, queued in this order (ids and documents made by the
   * caller; `parent_id` is set by the store). May be empty: the job is then
   * queued again at once.
   */
  children: NewJob[];
  /**
   * A job queued (as a child, outside `children`) when this job ends failed
   * or cancelled however it ends, once none of its children is running (the
   * cleanup of what the children wrote: a chunked encode's chunk files).
   * Queued at most once per job; the last wait's `finally` counts.
   */
  finally?: NewJob;
}

/**
 * What a job needs of the worker that runs it (capability routing). Each
 * entry is `kind:value`, kinds `module`, `binary`, `encoder`, `hwaccel`,
 * `gpu`, `tag` (e.g. `encoder:hevc_nvenc`, `tag:gpu`); a worker advertises
 * its capabilities in the same form (see {@link LeaseOptions}). Made by the
 * server at submission (`queue/job-requirements.ts`) from the job's
 * top-level `requires` and what its tasks use; stores keep it and compare
 * sets, nothing more.
 */
export interface JobRequirements {
  /** Everything required, sorted, without repeats; never empty (a job requires at least its modules). */
  all: string[];
  /**
   * The document has a `requires` of its own. A worker that advertises no
   * capabilities (the original worker) gets only jobs without one: what tasks
   * use is assumed of it, as before routing existed.
   */
  explicit: boolean;
}

/** What a polling worker can do, for {@link QueueStore.lease}, {@link QueueStore.poll} and {@link QueueStore.finishAndPoll}. */
export interface LeaseOptions {
  /**
   * The worker's capabilities, `kind:value` as in {@link JobRequirements}.
   * Undefined: it advertises none (the original worker, an anonymous poll):
   * it gets jobs without explicit requirements.
   */
  capabilities?: readonly string[];
}

/**
 * May a worker with `capabilities` (undefined: advertises none) run a job
 * that requires `requires` (undefined: nothing)? The one rule every store
 * applies (SQL and Lua stores apply it set-wise, this is its definition).
 * Pass a Set when asking about many jobs for one worker.
 */
export function canRun(requires: JobRequirements | undefined, capabilities: readonly string[] | ReadonlySet<string> | undefined): boolean {
  if (!requires) return true;
  if (!capabilities) return !requires.explicit;
  const have: ReadonlySet<string> = capabilities instanceof Set ? capabilities : new Set(capabilities as readonly string[]);
  return requires.all.every((need) => have.has(need));
}

/** A job as the server keeps it. */
export interface StoredJob {
  job_id: string;
  job_title: string;
  /** The submitted document, normalised: `job_title`, `tasks`, plus `job_id` and `added`. */
  job: Record<string, unknown>;
  state: JobState;
  /** Higher runs first; FIFO within a priority. */
  priority: number;
  /** ISO time of submission. */
  added: string;
  /** How many times the job was handed to a worker. */
  attempts: number;
  /** Worker holding (or that last held) the job. */
  worker_id?: string;
  /** Epoch ms when the current lease ends (running jobs). */
  lease_expires?: number;
  /** ISO times the job last started and finished. */
  started_at?: string;
  finished_at?: string;
  /** The completion `info` (the worker's result record). */
  result?: Record<string, unknown>;
  /** Why the job failed or was cancelled, when the server decided it. */
  reason?: string;
  /** A cancel was asked for while the job was running. */
  cancel_requested?: boolean;
  /** This job is a retry of that (failed or cancelled) job (see {@link QueueStore.retry}). */
  retry_of?: string;
  /** This (failed or cancelled) job was retried as that job; it cannot be retried again. */
  retried_as?: string;
  /** This job is a child of that job (see {@link QueueStore.waitForChildren}). */
  parent_id?: string;
  /** Set once the job has waited for children: see {@link JobFlow}. */
  flow?: JobFlow;
  /** What a worker needs to be handed this job (see {@link JobRequirements}); absent: anyone. */
  requires?: JobRequirements;
}

/** A new job to queue. */
export interface NewJob {
  job_id: string;
  job_title: string;
  job: Record<string, unknown>;
  priority: number;
  added: string;
  /** Set by {@link QueueStore.retry} only. */
  retry_of?: string;
  /** Capability routing: only workers that have all of it are handed the job. */
  requires?: JobRequirements;
}

/** How a running job ended, as reported by its worker (or decided by the server). */
export interface JobOutcome {
  state: 'completed' | 'failed' | 'cancelled';
  result?: Record<string, unknown>;
  reason?: string;
}

/** The last heartbeat of a worker plus its attributes, as `GET /workers/{id}` answers. */
export interface WorkerRecord {
  worker_id: string;
  /** The heartbeat body as the worker sent it (`status`, `hostname`, `version`, ...). */
  status: Record<string, unknown>;
  attributes: { disabled: boolean } & Record<string, unknown>;
  /** Epoch ms of the last heartbeat (0 when the worker never sent one). */
  last_seen: number;
  /** Its last heartbeat has not expired (see `worker-presence.ts`). */
  live: boolean;
}

/** Result of {@link QueueStore.finish}. */
export type FinishResult = 'ok' | 'not-found' | 'lease-lost';
/** Result of {@link QueueStore.cancel}. */
export type CancelResult = 'cancelled' | 'requested' | 'not-found' | 'finished';

/** Result of {@link QueueStore.poll}. */
export interface PollResult {
  /** The job handed out, leased to the polling worker. */
  job?: StoredJob;
  /** Why nothing was handed out although jobs may be queued: the queue or this worker is disabled. */
  blocked?: 'queue' | 'worker';
}

/** Result of {@link QueueStore.finishAndPoll}: the finish, and the next job when it went through. */
export interface FinishAndPollResult extends PollResult {
  result: FinishResult;
}

/** One page of {@link QueueStore.queuedDocuments}. */
export interface DocumentPage {
  /** Each queued job's document (as `GET /queue` lists it) as JSON text, in queue order. */
  documents: string[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  next?: string;
}

/** What {@link QueueStore.purge} deletes: finished jobs of one state older than `before`, or beyond the newest `keep`. */
export interface PurgeRule {
  /** Delete jobs that finished before this epoch ms. */
  before?: number;
  /** Keep only this many of the newest (by finish time); delete the rest. */
  keep?: number;
}

/**
 * What {@link QueueStore.list} selects. Every field narrows the listing;
 * paging cursors are only valid with the filter they were made for (another
 * filter may answer `SIS_BAD_CURSOR`).
 */
export interface JobFilter {
  /** One state, or `finished`: completed, failed or cancelled (the history). */
  state?: JobState | 'finished';
  /** Case-insensitive substring of `job_title` (plain text, no wildcards: `%` and `_` match themselves). */
  title?: string;
  /** Jobs held (or last held) by this worker id: exact match of `worker_id`. */
  workerId?: string;
  /**
   * Time range in epoch ms on the job's listing time: `finished_at` for
   * finished jobs, else `added`. `since` inclusive, `until` exclusive.
   */
  since?: number;
  until?: number;
}

/** Jobs per state, as {@link QueueStore.counts} answers them. */
export interface JobCounts {
  queued: number;
  running: number;
  /** Jobs in `waiting-children`. */
  waiting: number;
  /** Finished jobs of each final state whose `finished_at` is at or after `finishedSince`. */
  completed: number;
  failed: number;
  cancelled: number;
}

/** Result of {@link QueueStore.setPriority}. */
export type PriorityResult = 'ok' | 'not-found' | 'not-queued';

/** One page of {@link QueueStore.list}. */
export interface JobPage {
  jobs: StoredJob[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  next?: string;
}

/**
 * The server's storage: queue, leases, history, attributes, worker status and
 * module data. SQLite (embedded default) and Redis/BullMQ implement it; the
 * conformance suite in `@sisyphus/server/testing` runs against both.
 *
 * Times are passed in (`now`, epoch ms) so expiry is testable without waiting.
 */
export interface QueueStore {
  /** Queue a job. A `SIS_JOB_EXISTS` {@link StoreError} when the id is taken (also when submits of one id race). */
  submit(job: NewJob): Promise<StoredJob>;
  /**
   * Hand the next queued job (highest priority, then oldest; requeued jobs
   * first within their priority, among themselves in an order the store
   * chooses) to `workerId` under a lease until
   * `now + leaseMs`: state `running`, attempts + 1. Undefined when none.
   * Only jobs the worker can run ({@link canRun} with `options.capabilities`)
   * are considered: one it cannot run is passed over (it keeps its place
   * for workers that can), and passing over any number of them must not
   * make the lease slower than a few index lookups per distinct
   * {@link JobRequirements} queued.
   */
  lease(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<StoredJob | undefined>;
  /**
   * What `GET /queue/poll` does in one step: nothing while the queue or
   * worker `workerId` is disabled (`blocked` says which), else
   * {@link lease}. `workerId` '' is an anonymous poll (no worker to check).
   */
  poll(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<PollResult>;
  /**
   * Extend the lease of running job `jobId` held by `workerId`. A job leased
   * to no one in particular (`worker_id` unset, e.g. polled by an original
   * client) is adopted by the first worker that renews it. False when the
   * job is not running or held by another worker. The last holder of a job
   * that was requeued (its lease ran out) and not leased again still holds
   * it: its renewal takes the job back (running again under the new lease,
   * out of the queue; attempts unchanged).
   */
  renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean>;
  /**
   * Record how a running job ended. `workerId` (when given) must hold the
   * lease: a late report from a worker whose lease was lost is `lease-lost`
   * and changes nothing. The last holder of a job that was requeued (its
   * lease ran out, e.g. while the server was away) and not yet leased again
   * still holds it: its report is recorded and the job leaves the queue.
   */
  finish(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): Promise<FinishResult>;
  /**
   * {@link finish}, then, when it went through, {@link poll} for the same
   * worker: a worker reporting a job gets its next one in the same call.
   * The next job is leased exactly as a separate poll right after the finish
   * would lease it (same order, same disabled checks).
   */
  finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number, options?: LeaseOptions): Promise<FinishAndPollResult>;
  /**
   * Give a running job back: it returns to the head of the queue at once
   * (a worker that was stopped mid-job says so instead of letting the lease
   * run out). Same holder rules as {@link finish}; attempts stay counted.
   * The job is nobody's afterwards: a later report of the releasing
   * worker is `lease-lost` (it gave the job back; it is not its last holder).
   */
  release(jobId: string, workerId: string | undefined, now: number): Promise<FinishResult>;
  /**
   * Requeue running jobs whose lease ended before `now` at the head of the
   * queue; those already leased `maxAttempts` times go to failed with the
   * reason. Returns the ids of both kinds.
   */
  expireLeases(now: number, maxAttempts: number): Promise<{ requeued: string[]; failed: string[] }>;
  /** Cancel: a queued job leaves the queue as cancelled; a running one gets `cancel_requested`. */
  cancel(jobId: string, now: number): Promise<CancelResult>;
  /** Any job by id, in any state. */
  get(jobId: string): Promise<StoredJob | undefined>;
  /**
   * Jobs, newest first (queued: in queue order), optionally of one state, in
   * pages of at most `MAX_PAGE_SIZE`. A `SIS_BAD_CURSOR` {@link StoreError}
   * for a cursor this listing did not make.
   */
  list(options: JobFilter & { limit: number; cursor?: string }): Promise<JobPage>;
  /**
   * How many jobs are queued and running now, and how many finished in each
   * final state at or after epoch ms `finishedSince` (the dashboard's "last
   * hour"). Must stay fast (indexes, counters) with 100,000 jobs in history.
   */
  counts(finishedSince: number): Promise<JobCounts>;
  /**
   * Change a queued job's priority; it moves to its place among jobs of the
   * new priority by its original submission order (FIFO within a priority).
   */
  setPriority(jobId: string, priority: number): Promise<PriorityResult>;
  /**
   * Atomically queue `job` (which carries `retry_of: jobId`) as a new attempt
   * of failed or cancelled job `jobId`, and mark `jobId` as `retried_as`
   * the new id. `StoreError`s: `SIS_JOB_NOT_FOUND`; `SIS_JOB_STATE` when
   * `jobId` is not failed or cancelled, or was retried already (the message
   * names the retry); `SIS_JOB_EXISTS` when `job.job_id` is taken.
   */
  retry(jobId: string, job: NewJob & { retry_of: string }): Promise<StoredJob>;
  /**
   * A page of queued jobs' documents in queue order, as JSON text the store
   * keeps (nothing is decoded or encoded again): what `GET /queue` serves.
   * Cursors as {@link list}'s for `state: 'queued'`.
   */
  queuedDocuments(options: { limit: number; cursor?: string }): Promise<DocumentPage>;
  /** How many jobs are queued. */
  queueLength(): Promise<number>;
  /**
   * Delete up to `batch` finished jobs of `state` that `rule` says to drop
   * (oldest first), with their records; returns how many. Retention calls
   * it in small batches so that no call holds the store for long.
   */
  purge(state: 'completed' | 'failed' | 'cancelled', rule: PurgeRule, batch: number): Promise<number>;
  /**
   * Remove a queued job and its record (`DELETE /jobs/{id}`); false when
   * there was none. A child (`parent_id` set) is not removed: a
   * `SIS_JOB_STATE` StoreError (cancel its parent instead).
   */
  remove(jobId: string): Promise<boolean>;
  /** Remove every queued job that is not a child, with its record (`DELETE /queue`); children stay with their parents. */
  clear(): Promise<void>;

  // ---- fan-out (flows): jobs that wait for child jobs and resume ----

  /**
   * The running job `jobId` (holder rules as {@link finish}) hands over
   * child jobs and waits for them, holding no worker: atomically, it goes to
   * `waiting-children` (no lease, no holder: a later report or renewal of
   * the worker is `lease-lost`; `attempts` back to 0, counted again for the
   * resumed run), its {@link JobFlow} is recorded (`round` + 1), its
   * `result` becomes `wait.result`, and the children are queued as ordinary
   * jobs with `parent_id` (at their own priority, FIFO). Children are
   * leased, renewed, requeued and cancelled like any job. Then, as each
   * child ends (a worker's report, a lease running out for the last time, a
   * cancel), its {@link ChildResult} is kept with the parent and:
   * - all children of the round completed: the parent is queued again, at
   *   the head of its priority (as a requeued job); leased, it carries its
   *   `flow` and resumes at `flow.task_index`;
   * - a child failed (after its own attempts): the parent fails with reason
   *   `child ID (TITLE) failed: REASON`; a child cancelled: the parent is
   *   cancelled with `child ID (TITLE) was cancelled`; in both cases every
   *   other unfinished child is cancelled (queued ones at once, running ones
   *   get `cancel_requested`).
   * Cancelling a parent in `waiting-children` cancels it at once
   * ({@link cancel} answers `cancelled`) and its unfinished children as above.
   * Its `finally` job: see {@link WaitForChildren.finally}.
   * A child cannot wait for children of its own (`SIS_JOB_STATE`).
   * Result as {@link finish}'s (`not-found`, `lease-lost`); `SIS_JOB_EXISTS`
   * when a child's id is taken.
   */
  waitForChildren(jobId: string, workerId: string | undefined, wait: WaitForChildren, now: number): Promise<FinishResult>;
  /**
   * How the children of `parentId`'s current round that have ended so far
   * ended, in the order they were given ({@link JobFlow.children}); kept
   * with the parent, so it answers even after the children's own records
   * were purged. Empty for a job without a flow.
   */
  childResults(parentId: string): Promise<ChildResult[]>;
  /**
   * Every child of `parentId` (all rounds, and its finally job) that still
   * has a record, in the order they were queued. Empty when none.
   */
  children(parentId: string): Promise<StoredJob[]>;

  /** Queue attributes (`disabled` pauses every worker). */
  queueAttributes(): Promise<{ disabled: boolean } & Record<string, unknown>>;
  setQueueAttributes(patch: Record<string, unknown>): Promise<{ disabled: boolean } & Record<string, unknown>>;

  /** Store a heartbeat; the worker counts as present until `now + expiryMs`. */
  heartbeat(workerId: string, status: Record<string, unknown>, now: number, expiryMs: number): Promise<WorkerRecord>;
  /** A worker's record; attributes are created on demand, so this always answers. */
  worker(workerId: string, now: number): Promise<WorkerRecord>;
  /** Workers whose heartbeat has not expired (`live`), or that have attributes set. */
  workers(now: number): Promise<WorkerRecord[]>;
  removeWorker(workerId: string): Promise<boolean>;
  setWorkerAttributes(workerId: string, patch: Record<string, unknown>): Promise<WorkerRecord['attributes']>;

  /** Server-side module data (e.g. ffmpeg option sets). */
  getData(module: string, name: string): Promise<Record<string, unknown> | undefined>;
  putData(module: string, name: string, record: Record<string, unknown>): Promise<void>;
  deleteData(module: string, name: string): Promise<boolean>;
  listData(module: string): Promise<string[]>;

  /**
   * The store's event log: what changed in the queue, in order, shared by
   * every process on the store (server instances on one Redis, direct
   * workers). `GET /events` serves it; `withQueueEvents` appends to it.
   */
  readonly events: QueueEventLog;

  /** Release the connection / file. */
  close(): Promise<void>;

  /**
   * Optional: `undefined` when the store can serve requests, else why not
   * (e.g. "Redis is reconnecting"). The server answers 503 with it instead
   * of letting requests hang.
   */
  unavailable?(): string | undefined;

  /**
   * Optional: call `listener` each time the store is back after an outage
   * (Redis reconnected), so the lease sweep can give running leases a grace
   * period. Returns the unsubscribe function.
   */
  onReconnect?(listener: () => void): () => void;

  /**
   * Optional, for stores where something besides the sweep can hand out a
   * running job whose lease ran out (BullMQ's stalled check): until epoch ms
   * `until`, such a job stays its holder's, as under a live lease.
   */
  setLeaseGrace?(until: number): Promise<void>;

  /**
   * Optional: call `listener` when jobs may have become available through
   * another process on the same store (several server instances on one
   * Redis), so long-polls look at once. `everyone`: any number of jobs (a
   * resumed queue), else about one. Returns the unsubscribe function.
   */
  onJobsAvailable?(listener: (everyone: boolean) => void): () => void;

  /**
   * Optional: webhook cursors and deliveries, and the once-per-fleet claim of
   * workers going offline (see `webhook-store.ts`). Without it the server has
   * no webhooks and appends no `worker.offline` events.
   */
  readonly webhooks?: WebhookStore;

  /** Optional: what the watch folders keep (rules, file states, outputs, scanner leases; see `watch-store.ts`). Without it the server has no watch folders. */
  readonly watch?: WatchStore;

  /**
   * Optional: where the queue's metrics are kept (the counters and
   * histograms of `GET /metrics`, the same for every process on the store;
   * see `queue-metrics.ts`). `withQueueEvents` records into it. Without it
   * `/metrics` shows gauges and process metrics only.
   */
  readonly metrics?: QueueMetricsStore;
}

/** An event to append to a {@link QueueEventLog}: `type` (e.g. `job.completed`) plus a JSON-able payload. */
export interface NewQueueEvent {
  type: string;
  /** Epoch ms. */
  at: number;
  data: Record<string, unknown>;
}

/** An event as the log hands it back, with its id. */
export interface QueueEvent extends NewQueueEvent {
  /**
   * Opaque, unique in the log, increasing in log order; printable ASCII
   * without spaces or line breaks (it becomes the SSE `id:`).
   */
  id: string;
}

/** Result of {@link QueueEventLog.read}. */
export interface EventRead {
  /** Events after the given id, oldest first, at most `limit`. */
  events: QueueEvent[];
  /**
   * The given id is not in the log (trimmed away, from another log, or not an
   * id at all): events may have been missed; the reader must load the state
   * afresh. `events` then starts at the oldest event kept.
   */
  reset: boolean;
}

/**
 * An append-only, bounded log of queue events shared by every process on
 * the store. Appends must be cheap (a heartbeat appends one); the log keeps
 * at least the newest {@link EVENT_LOG_KEEP} events (older ones are trimmed)
 * and survives a restart of the server (a file, Redis).
 */
export interface QueueEventLog {
  /** Append events in order; returns their ids. */
  append(events: readonly NewQueueEvent[]): Promise<string[]>;
  /** Events after `after` (exclusive; `undefined`: from the oldest kept). See {@link EventRead}. */
  read(after: string | undefined, limit: number): Promise<EventRead>;
  /** Id of the newest event, undefined when the log is empty. */
  last(): Promise<string | undefined>;
  /**
   * Call `listener` soon (within about 100 ms) after events were appended by
   * any process on the store; calls may be coalesced. Returns the
   * unsubscribe function. Listening stops with `close()`.
   */
  onAppend(listener: () => void): () => void;
}

/** How many of the newest events a {@link QueueEventLog} keeps at least. */
export const EVENT_LOG_KEEP = 10_000;
