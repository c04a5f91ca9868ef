import { Job, Queue, QueueKeys, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAME } from './store-keys.js';

/*
 * The one door to BullMQ: the only file that imports it, and so the only
 * place that knows what the store relies on beyond BullMQ's documented
 * manual-fetching API (Queue.add/addBulk/remove,
 * Job.moveToCompleted/moveToFailed/moveToWait/extendLock,
 * startStalledCheckTimer): how BullMQ names keys (its job lock, the
 * prioritized set, the wait and active lists, the events stream), Job
 * handles made without a fetch, the worker's lock duration, the
 * one-round-trip completion of `fastComplete` (the backend's
 * moveToCompletedArgs/execCommand/client and the socket's cork), the score
 * layout of the prioritized set with the job hash's `priority` field (a
 * priority change that keeps the submission order, set-priority.lua; a
 * resumed parent put at the head of its priority, enqueued.lua), and what
 * BullMQ's fetch does to the job it hands out: capability routing leases a
 * job the store chose (the best one the worker can run, not BullMQ's head),
 * so our lease takes that job in BullMQ as BullMQ's moveToActive takes its
 * head (lua/fragments/bullmq-take.lua: out of the prioritized set or the
 * wait list to the head of the active list, an `active` event,
 * `processedOn`, the `ats` count, the lock). BullMQ's own fetch
 * (Worker.getNextJob, a move with fetchNext) is never used: it would hand
 * out the head of the queue whoever asks.
 * test/bullmq-internals.test.ts fails when an upgrade changes any of it.
 */

/** Name of every BullMQ job (BullMQ wants one; ours are told apart by id). */
const JOB_NAME = 'sisyphus-job';
/** BullMQ keeps finished jobs: our history is in our own records, theirs stays inspectable. */
const JOB_OPTIONS = { removeOnComplete: false, removeOnFail: false } as const;
/** BullMQ's return value of a completed job (the result is in our record). */
const RETURN_VALUE = 'null';
/**
 * The names BullMQ gives its own keys beside its jobs' (`PREFIX:jobs:wait`,
 * `:active`, `:meta`, ...): a job whose id is one of them would be stored
 * on that key. Read from BullMQ's own key list, so an upgrade that adds one
 * is covered.
 */
export const BULLMQ_KEY_NAMES: ReadonlySet<string> = new Set(Object.keys(new QueueKeys('p').getKeys(QUEUE_NAME)));

/** What BullMQ's job lock key adds to the job's key. */
const LOCK_SUFFIX = ':lock';

/**
 * BullMQ scores its prioritized set `priority * PRIORITY_SCORE_UNIT + counter`
 * (getPriorityScore.lua): the counter numbers submissions (0 for a job put
 * back at the head of its priority), and the job hash keeps the priority in
 * its `priority` field.
 */
export const PRIORITY_SCORE_UNIT = 2 ** 32;

/** BullMQ keys the store reads itself or hands to its scripts. */
export interface BullmqKeys {
  /** Sorted set of the queued jobs (BullMQ ids): score ascending, then member, is the order BullMQ hands them out. */
  readonly prioritized: string;
  /** List of the jobs waiting without a priority: where BullMQ's stalled check puts a job back. */
  readonly wait: string;
  /** List of the active jobs: BullMQ's fetch pushes the job it hands out to the head. */
  readonly active: string;
  /** Stream of BullMQ's job events (`active`, `completed`, ...), what BullMQ's QueueEvents read. */
  readonly events: string;
  /** What every BullMQ job key starts with: a job's lock is `${jobPrefix}${bullmqId}${lockSuffix}`. */
  readonly jobPrefix: string;
  /** What a job's lock key adds to its job key. */
  readonly lockSuffix: string;
}

/** What the one-round-trip completion takes from BullMQ's Redis backend (checked at open). */
type FastBackend = Pick<Worker['backend'], 'moveToCompletedArgs' | 'execCommand' | 'client'>;

/** The socket of a connection (a new one after each reconnect), as far as the fast path corks it. */
type Corkable = { cork(): void; uncork(): void };

/** What {@link BullmqInternals.fastComplete} did. */
export interface FastCompletion<T> {
  /** BullMQ completed the job (the move did not fail). */
  completed: boolean;
  /** Error of the command sent along (null when it succeeded)... */
  error: unknown;
  /** ... or its reply. */
  reply: T | undefined;
}

/** Error or value of a promise, without throwing. */
function settle<T>(promise: Promise<T>): Promise<[unknown, T | undefined]> {
  return promise.then(
    (value): [unknown, T] => [null, value],
    (error: unknown): [unknown, undefined] => [error ?? new Error('failed'), undefined],
  );
}

/** A promise of what `call` returns, or of what it throws. */
function attempt<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** BullMQ's backend, when it and this connection offer all the fast path needs. */
function fastBackendOf(redis: Redis, fetcher: Worker): FastBackend | undefined {
  const backend = fetcher.backend as unknown as (Partial<FastBackend> & { version?: unknown }) | undefined;
  const stream = redis.stream as Partial<Corkable> | undefined;
  if (typeof backend?.moveToCompletedArgs !== 'function' || typeof backend.execCommand !== 'function') return undefined;
  if (typeof (backend.client as Promise<unknown> | undefined)?.then !== 'function') return undefined;
  // execCommand runs `NAME:VERSION`, defined by BullMQ on the connection it was given: ours.
  if (typeof (redis as unknown as Record<string, unknown>)[`moveToFinished:${String(backend.version)}`] !== 'function') return undefined;
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return undefined;
  return backend as FastBackend;
}

/**
 * The BullMQ queue of one prefix, and the manually processing worker whose
 * job handles move the jobs our lease took (lua/fragments/bullmq-take.lua)
 * and whose timer runs BullMQ's stalled check, as the store uses them. Job
 * ids here are BullMQ's (see job-ids.ts).
 */
export class BullmqInternals {
  /**
   * Queue and manually processing worker on `redis` (the Worker duplicates it for its
   * blocking connection). Listen to {@link onError} before {@link start}.
   */
  static create(redis: Redis, options: { prefix: string; lockMs: number }): BullmqInternals {
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: options.prefix });
    const fetcher = new Worker(QUEUE_NAME, null, {
      connection: redis,
      prefix: options.prefix,
      autorun: false,
      // The stalled check only gives a job whose lock was lost back to the queue; our own maxAttempts decides when it fails.
      maxStalledCount: 1_000_000,
      lockDuration: options.lockMs,
    });
    return new BullmqInternals(redis, queue, fetcher);
  }

  /** Wait until queue and worker are ready, check what the fast path needs, and start BullMQ's stalled check unless `stalledCheck` is false. */
  async start(stalledCheck: boolean): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.fetcher.waitUntilReady()]);
    this.#fast = fastBackendOf(this.redis, this.fetcher);
    // Manual fetching: the stalled check runs only when started (BullMQ's guide to manual processing).
    if (stalledCheck) await this.fetcher.startStalledCheckTimer();
  }

  readonly keys: BullmqKeys;
  /** How long a lease locks the BullMQ job it takes at least (the worker's `lockDuration`, which its moves expect), in ms. */
  readonly lockMs: number;
  #fast: FastBackend | undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly fetcher: Worker,
  ) {
    this.keys = {
      prioritized: queue.keys['prioritized']!,
      wait: queue.keys['wait']!,
      active: queue.keys['active']!,
      events: queue.keys['events']!,
      jobPrefix: queue.toKey(''),
      lockSuffix: LOCK_SUFFIX,
    };
    this.lockMs = fetcher.opts.lockDuration!;
  }

  /** Whether {@link fastComplete} is available: this BullMQ offers what it takes (checked at open). */
  fastPathAvailable(): boolean {
    return this.#fast !== undefined;
  }

  /** BullMQ's key of job `bullmqId` (a hash; its `priority` field is the job's BullMQ priority). */
  jobKey(bullmqId: string): string {
    return `${this.keys.jobPrefix}${bullmqId}`;
  }

  /** BullMQ's lock key of job `bullmqId` (its job key plus `:lock`, as BullMQ's scripts name it). */
  lockKey(bullmqId: string): string {
    return `${this.keys.jobPrefix}${bullmqId}${LOCK_SUFFIX}`;
  }

  /** Call `listener` with the errors of BullMQ's queue and worker. */
  onError(listener: (error: Error) => void): void {
    this.queue.on('error', listener);
    this.fetcher.on('error', listener);
  }

  /** Queue job `bullmqId` (holding `data`, for BullMQ dashboards) at BullMQ priority `priority`. */
  async add(bullmqId: string, data: Record<string, unknown>, priority: number): Promise<void> {
    await this.queue.add(JOB_NAME, data, { ...JOB_OPTIONS, jobId: bullmqId, priority });
  }

  /**
   * Queue several jobs as {@link add} does, in this order (one pipeline:
   * BullMQ numbers them in it, so they are handed out in it within a
   * priority). A job whose id BullMQ holds already is left as it is.
   */
  async addBulk(jobs: ReadonlyArray<{ bullmqId: string; data: Record<string, unknown>; priority: number }>): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((job) => ({ name: JOB_NAME, data: job.data, opts: { ...JOB_OPTIONS, jobId: job.bullmqId, priority: job.priority } })));
  }

  /** Whether BullMQ job `bullmqId` waits to be handed out (in the prioritized set or the wait list). */
  async waiting(bullmqId: string): Promise<boolean> {
    const [score, position] = await Promise.all([this.redis.zscore(this.keys.prioritized, bullmqId), this.redis.lpos(this.keys.wait, bullmqId)]);
    return score !== null || position !== null;
  }

  /** Forget job `bullmqId` (BullMQ refuses while it is locked). */
  async remove(bullmqId: string): Promise<void> {
    await this.queue.remove(bullmqId);
  }

  /**
   * A handle on BullMQ job `bullmqId` for lock and move calls (no round
   * trip). It belongs to the worker, as BullMQ's own handles do.
   */
  private job(bullmqId: string): Job {
    return new Job(this.fetcher, JOB_NAME, {}, JOB_OPTIONS, bullmqId);
  }

  /** Lock job `bullmqId` (held with `token`) for `ms` from now. */
  async extendLock(bullmqId: string, token: string, ms: number): Promise<void> {
    await this.job(bullmqId).extendLock(token, ms);
  }

  /** Give job `bullmqId` (held with `token`) back to the head of its priority. */
  async moveToWait(bullmqId: string, token: string): Promise<void> {
    await this.job(bullmqId).moveToWait(token);
  }

  /** Complete job `bullmqId` (held with `token`). */
  async complete(bullmqId: string, token: string): Promise<void> {
    await this.job(bullmqId).moveToCompleted(null, token, false);
  }

  /** Fail job `bullmqId` (held with `token`) with `reason`. */
  async fail(bullmqId: string, token: string, reason: string): Promise<void> {
    await this.job(bullmqId).moveToFailed(new Error(reason), token, false);
  }

  /**
   * {@link complete}, and `then()` right behind it in the same write: one
   * round trip for both. `then` must send its one command before it returns
   * (an ioredis call on the store's connection does), so that Redis runs it
   * after the move. Undefined (and nothing sent) when
   * {@link fastPathAvailable} is false.
   */
  async fastComplete<T>(bullmqId: string, token: string, then: () => Promise<T>): Promise<FastCompletion<T> | undefined> {
    const backend = this.#fast;
    if (!backend) return undefined;
    const client = await backend.client;
    // The arguments read only the job's id and options: no need for a whole BullMQ Job.
    const moveArgs = backend.moveToCompletedArgs({ id: bullmqId, opts: JOB_OPTIONS } as unknown as Job, RETURN_VALUE, false, token, false);
    // Both leave in one write: the socket (of this connection, new after a reconnect) is corked until the end of this tick.
    const stream = this.redis.stream as Partial<Corkable> | undefined;
    stream?.cork?.();
    // Sent first (the script after it sees the job completed): the call itself, not in a later microtask.
    const moving = settle(attempt(() => backend.execCommand(client, 'moveToFinished', moveArgs) as Promise<unknown>));
    const sending = settle(attempt(then));
    process.nextTick(() => stream?.uncork?.());
    const [[moveError, moved], [error, reply]] = await Promise.all([moving, sending]);
    // A negative number is BullMQ's refusal (lock lost, job not active...).
    const completed = !moveError && (typeof moved !== 'number' || moved >= 0);
    return { completed, error, reply };
  }

  /** Stop the worker (and its stalled check) and the queue; the connection stays open. */
  async close(): Promise<void> {
    await this.fetcher.close();
    await this.queue.close();
  }
}
