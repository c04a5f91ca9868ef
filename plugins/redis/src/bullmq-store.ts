import { randomUUID } from 'node:crypto';
import { Job, Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { compareWorkers } from '@sisyphus/server/store';
import type {
  CancelResult,
  FinishAndPollResult,
  FinishResult,
  JobOutcome,
  JobPage,
  JobState,
  NewJob,
  PollResult,
  QueueStore,
  StoredJob,
  WorkerRecord,
} from '@sisyphus/server/store';
import { attributesOf, patchFields, type Attributes } from './attribute-hash.js';
import { fromBullmqId, toBullmqId } from './job-ids.js';
import { hashOf, newRecordFields, timeScore, toStoredJob, type RecordHash } from './job-record.js';
import { CANCEL, EXPIRE, FINISH, FINISH_LEASE_HEAD, GATE, LEASE, RELEASE, REMOVE, RENEW, SUBMIT } from './job-scripts.js';
import { decodeCursor, encodeCursor, type ListCursor } from './list-cursor.js';
import { toBullmqPriority } from './priority-mapping.js';
import { QUEUE_NAME, StoreKeys } from './store-keys.js';

/** Options of {@link BullmqStore.open}. */
export interface BullmqStoreOptions {
  /** A `redis://HOST:PORT/DB` URL or ioredis options. */
  connection: string | RedisOptions;
  /** Key prefix of this installation: every key is `${prefix}:...`. */
  prefix: string;
  /**
   * How long (wall-clock ms) a BullMQ lock outlives the lease it belongs to
   * (default 30 000). The lease (`lease_expires`, decided by the `now` the
   * server passes) is what counts; the lock is the safety net BullMQ's
   * stalled check uses when no server sweeps leases any more.
   */
  lockGraceMs?: number;
  /**
   * The lease most calls ask for (default 30 000; the server passes its
   * `leaseSeconds`). BullMQ takes each job's lock for this plus
   * `lockGraceMs` as it hands the job out, so a lease no longer than this
   * costs no separate lock extension.
   */
  leaseMs?: number;
  /** Told once when the connection to Redis is lost, and when it is back. */
  log?: (level: 'warn' | 'info', message: string) => void;
  /** Start BullMQ's stalled-job check on this instance (default true). */
  stalledCheck?: boolean;
}

/** How many lock tokens of leased jobs an instance remembers (see `heldTokens`); a forgotten one is read from Redis. */
const MAX_HELD_TOKENS = 10_000;

/** Largest page {@link BullmqStore.list} hands out; bigger limits are clamped (as the SQLite store). */
export const MAX_PAGE_SIZE = 1000;

/** Name of every BullMQ job (BullMQ wants one; ours are told apart by id). */
const JOB_NAME = 'sisyphus-job';
/** BullMQ keeps finished jobs: our history is in our own records, theirs stays inspectable. */
const JOB_OPTIONS = { removeOnComplete: false, removeOnFail: false } as const;
/**
 * What BullMQ's own job holds: enough to tell it apart in a BullMQ dashboard.
 * The job document and the result live in our record only (`GET /jobs/ID`);
 * a copy in BullMQ would be written, sent and parsed again with every job.
 */
const bullmqData = (job: StoredJob) => ({ job_id: job.job_id, job_title: job.job_title });
/** BullMQ's return value of a completed job (the result is in our record, see {@link bullmqData}). */
const BULLMQ_RETURN_VALUE = 'null';

type Heartbeat = { status: Record<string, unknown>; last_seen: number; expires_at: number };

const iso = (ms: number) => new Date(ms).toISOString();

/** The part of BullMQ's (internal) Redis backend the one-round-trip finish uses; checked at run time. */
interface BullmqBackend {
  moveToCompletedArgs(job: Job, returnValue: string, removeOnComplete: boolean, token: string, fetchNext: boolean): unknown[];
  execCommand(client: unknown, command: string, args: unknown[]): unknown;
  /** The connection, as BullMQ wraps it. */
  readonly client?: Promise<unknown>;
}
/** Error or value of a promise, without throwing. */
function settle<T>(promise: Promise<T>): Promise<[unknown, T | undefined]> {
  return promise.then(
    (value): [unknown, T] => [null, value],
    (error: unknown): [unknown, undefined] => [error ?? new Error('failed'), undefined],
  );
}

/** The BullMQ id of the job a `moveToFinished` with fetchNext handed out (`[jobData, jobId, ...]`), if any. */
function fetchedId(reply: unknown): string | undefined {
  const id = Array.isArray(reply) ? reply[1] : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Redis orders equal scores by member bytes. */
const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * A {@link QueueStore} on Redis: the queue itself is a BullMQ queue (submit
 * with `Queue.add`, lease with a manually fetching `Worker`, renew with
 * `extendLock`, finish with `moveToCompleted`/`moveToFailed`, give back with
 * `moveToWait`), the job records, leases, history, attributes, worker status
 * and module data are plain Redis structures under the same prefix, changed
 * by small Lua scripts. Several server instances on one Redis and prefix
 * share one queue: lock tokens are kept in Redis, not in the process.
 *
 * Priorities from -1 048 576 to 1 048 575 each get their own place in the
 * queue (see `priority-mapping.ts`).
 */
export class BullmqStore implements QueueStore {
  private readonly keys: StoreKeys;
  private readonly lockGraceMs: number;
  /** How long BullMQ locks a job it hands out (the fetching worker's `lockDuration`). */
  private readonly lockMs: number;

  /** Connect to Redis and open the store under `prefix`. */
  static async open(options: BullmqStoreOptions): Promise<BullmqStore> {
    const common = { maxRetriesPerRequest: null, lazyConnect: true } as const;
    const redis =
      typeof options.connection === 'string' ? new Redis(options.connection, common) : new Redis({ ...options.connection, ...common });
    // Heard from the start (ioredis prints every unheard error); the store reports outages once it is open.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: options.prefix });
      const worker = new Worker(QUEUE_NAME, null, {
        connection: redis,
        prefix: options.prefix,
        autorun: false,
        // The stalled check only gives a job whose lock was lost back to the queue; our own maxAttempts decides when it fails.
        maxStalledCount: 1_000_000,
        lockDuration: (options.leaseMs ?? 30_000) + (options.lockGraceMs ?? 30_000),
      });
      const store = new BullmqStore(redis, queue, worker, options);
      await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
      if (options.stalledCheck !== false) await worker.startStalledCheckTimer();
      return store;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  private constructor(
    /** Our own commands; the Queue shares it, the Worker duplicates it for its blocking connection. */
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly fetcher: Worker,
    options: BullmqStoreOptions,
  ) {
    this.keys = new StoreKeys(options.prefix);
    this.lockGraceMs = options.lockGraceMs ?? 30_000;
    this.lockMs = fetcher.opts.lockDuration!;
    this.watchConnection(options.log);
  }

  /**
   * A handle on BullMQ job `bullmqId` for lock and move calls (no round
   * trip). It belongs to the fetching worker, as BullMQ's own handles do:
   * a move that fetches the next job locks it for the worker's `lockDuration`.
   */
  private bullJob(bullmqId: string): Job {
    return new Job(this.fetcher, JOB_NAME, {}, JOB_OPTIONS, bullmqId);
  }

  /** BullMQ's lock key of job `jobId` (its job hash key plus `:lock`, as BullMQ's scripts name it). */
  private lockKey(jobId: string): string {
    return `${this.queue.toKey(toBullmqId(jobId))}:lock`;
  }

  /**
   * Lock token and holder of the jobs this instance leased and has not seen
   * end, so the holder's report can move the BullMQ job in the same round
   * trip as our FINISH script (see {@link finishAndPoll}). Only the holder's:
   * the token moves the BullMQ job whoever sends it, so a report from anyone
   * else must not use it. Bounded: the oldest entries go first.
   */
  readonly #heldTokens = new Map<string, { token: string; workerId: string }>();

  private holdToken(jobId: string, token: string, workerId: string): void {
    this.#heldTokens.set(jobId, { token, workerId });
    if (this.#heldTokens.size > MAX_HELD_TOKENS) this.#heldTokens.delete(this.#heldTokens.keys().next().value!);
  }

  /**
   * Listen to the connection's errors (ioredis prints every unheard one)
   * and tell `log` once per outage, then once when Redis is back.
   */
  private watchConnection(log: BullmqStoreOptions['log']): void {
    let down = false;
    const lost = (error: Error) => {
      if (down || this.closed) return;
      down = true;
      log?.('warn', `Redis connection lost (${error.message}); reconnecting`);
    };
    this.redis.on('error', lost);
    this.queue.on('error', lost);
    this.fetcher.on('error', lost);
    this.redis.on('ready', () => {
      if (!down) return;
      down = false;
      log?.('info', 'Redis connection back');
    });
  }

  private async record(jobId: string): Promise<StoredJob | undefined> {
    return toStoredJob(jobId, await this.redis.hgetall(this.keys.job(jobId)));
  }

  private async records(jobIds: readonly string[]): Promise<StoredJob[]> {
    if (jobIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of jobIds) pipeline.hgetall(this.keys.job(id));
    const replies = (await pipeline.exec()) ?? [];
    const jobs: StoredJob[] = [];
    replies.forEach(([error, hash], i) => {
      if (error) throw error;
      const job = toStoredJob(jobIds[i]!, hash as RecordHash);
      if (job) jobs.push(job);
    });
    return jobs;
  }

  // ---- BullMQ moves (after our script decided) ----

  /** Give a job we hold back to the head of its priority. */
  private async requeueInBullmq(jobId: string, token: string): Promise<void> {
    // Only with the lock: a job whose lock is someone else's is theirs; one without a lock is the stalled check's.
    if (token !== '') await this.bullJob(toBullmqId(jobId)).moveToWait(token).catch(() => undefined);
    await this.wake();
  }

  /**
   * End a job we hold in BullMQ as our record says. With `fetchNext`, BullMQ
   * hands out its next job in the same call (locked with the same token):
   * its BullMQ id is returned, for {@link leaseFetched}.
   */
  private async finishInBullmq(jobId: string, token: string, outcome: JobOutcome, fetchNext = false): Promise<string | undefined> {
    // Only with the lock (BullMQ would hand a next job out unlocked, and a job locked by someone else is theirs).
    // Without it, whoever fetches the job next (after the stalled check) meets our record and drops it.
    if (token === '') return undefined;
    const job = this.bullJob(toBullmqId(jobId));
    try {
      const fetched = (
        outcome.state === 'completed'
          ? await job.moveToCompleted(null, token, fetchNext)
          : await job.moveToFailed(new Error(outcome.reason ?? outcome.state), token, fetchNext)
      ) as unknown[] | undefined;
      return fetchedId(fetched);
    } catch {
      return undefined; // lock lost meanwhile: as above
    }
  }

  /** Tell every subscriber of {@link onJobsAvailable} that a job (or, `everyone`, any number of jobs) may be waiting. */
  private async wake(everyone = false): Promise<void> {
    await this.redis.publish(this.keys.wakeChannel, everyone ? '*' : '1');
  }

  // ---- jobs ----

  async submit(job: NewJob): Promise<StoredJob> {
    const k = this.keys;
    const fields = newRecordFields(job);
    const created = await SUBMIT.run(this.redis, [k.job(job.job_id), k.state('queued'), k.all], [job.job_id, timeScore(job.added), ...fields]);
    if (created !== 1) throw new Error(`job ${job.job_id} exists already`);
    // The record is exactly what was just written: no need to read it back.
    const stored = toStoredJob(job.job_id, hashOf(fields))!;
    try {
      await this.queue.add(JOB_NAME, bullmqData(stored), { ...JOB_OPTIONS, jobId: toBullmqId(job.job_id), priority: toBullmqPriority(job.priority) });
    } catch (error) {
      await REMOVE.run(this.redis, [k.job(job.job_id), k.state('queued'), k.all], [job.job_id]);
      throw error;
    }
    await this.wake().catch(() => undefined); // the job is queued; a missed wake-up only delays it to the next look
    return stored;
  }

  async lease(workerId: string, leaseMs: number, now: number): Promise<StoredJob | undefined> {
    for (;;) {
      const token = randomUUID();
      const job = await this.fetcher.getNextJob(token, { block: false });
      if (!job?.id) return undefined;
      const leased = await this.leaseFetched(job.id, token, workerId, leaseMs, now);
      if (leased) return leased;
    }
  }

  /**
   * Record the lease of a job BullMQ just handed out (locked with `token`).
   * Undefined when it was removed or cancelled meanwhile (it is then dropped
   * from BullMQ too), or when it runs under a live lease (BullMQ gave it back
   * after its lock lapsed; the lock goes back to its holder): the caller
   * takes the next one.
   */
  private async leaseFetched(bullmqId: string, token: string, workerId: string, leaseMs: number, now: number): Promise<StoredJob | undefined> {
    const k = this.keys;
    const jobId = fromBullmqId(bullmqId);
    const [leased, payload] = (await LEASE.run(this.redis, [k.job(jobId), k.leases, k.state('queued'), k.state('running'), this.lockKey(jobId)], [
      jobId,
      workerId,
      now + leaseMs,
      iso(now),
      token,
      now,
      this.lockMs,
    ])) as [number, string[] | string];
    if (leased === 2) return undefined; // someone's live lease: left to its holder
    const job = this.bullJob(bullmqId);
    if (leased === 1) {
      this.holdToken(jobId, token, workerId);
      // BullMQ locked it for lockMs already; only a longer lease needs more.
      if (leaseMs + this.lockGraceMs > this.lockMs) await job.extendLock(token, leaseMs + this.lockGraceMs);
      return toStoredJob(jobId, hashOf(payload as string[]));
    }
    await this.dropFetched(bullmqId, token, payload as string);
    return undefined;
  }

  /** A job BullMQ handed out whose record is gone or finished (`state`): out of BullMQ too. */
  private async dropFetched(bullmqId: string, token: string, state: string): Promise<void> {
    // A move that fails leaves it locked by us; once the lock lapses the stalled check gives it back, and this runs again.
    await this.bullJob(bullmqId).moveToFailed(new Error(`job is ${state === '' ? 'gone' : state}`), token, false).catch(() => undefined);
    await this.queue.remove(bullmqId).catch(() => 0);
  }

  async poll(workerId: string, leaseMs: number, now: number): Promise<PollResult> {
    const k = this.keys;
    const blocked = (await GATE.run(this.redis, [k.queueAttributes, k.workerAttributes(workerId)], [workerId === '' ? '0' : '1'])) as string;
    if (blocked === 'queue' || blocked === 'worker') return { blocked };
    const job = await this.lease(workerId, leaseMs, now);
    return job ? { job } : {};
  }

  async finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number): Promise<FinishAndPollResult> {
    const held = this.#heldTokens.get(jobId);
    if (held && workerId !== '' && held.workerId === workerId && outcome.state === 'completed') {
      this.#heldTokens.delete(jobId);
      const done = await this.finishAndPollAtOnce(jobId, workerId, outcome, now, leaseMs, held.token);
      if (done) return done;
    }
    const [result, token, blocked] = await this.finishScript(jobId, workerId, outcome, now, true);
    if (result !== 'ok') return { result };
    this.#heldTokens.delete(jobId);
    if (blocked === 'queue' || blocked === 'worker') {
      await this.finishInBullmq(jobId, token, outcome);
      return { result, blocked };
    }
    // BullMQ's own worker loop: finishing a job fetches the next one in the same call.
    const nextId = await this.finishInBullmq(jobId, token, outcome, true);
    const job = (nextId && (await this.leaseFetched(nextId, token, workerId, leaseMs, now))) || (await this.lease(workerId, leaseMs, now));
    return job ? { result, job } : { result };
  }

  /**
   * {@link finishAndPoll} in one round trip: BullMQ's move to completed
   * (fetching the next job with the same token) and FINISH_LEASE_HEAD (our
   * finish, and our lease of the job the move fetched) leave in one write.
   * The move is safe to send before our script has decided: a worker whose
   * lease was lost lost the BullMQ lock with it (EXPIRE drops the lock, a
   * new lease has a new token), so its move fails and changes nothing, and
   * then no job holds its token for the script to lease. Undefined when
   * BullMQ's internals are not as expected: the caller takes the ordinary path.
   */
  private async finishAndPollAtOnce(
    jobId: string,
    workerId: string,
    outcome: JobOutcome,
    now: number,
    leaseMs: number,
    token: string,
  ): Promise<FinishAndPollResult | undefined> {
    const backend = (this.fetcher as unknown as { backend?: BullmqBackend }).backend;
    if (typeof backend?.moveToCompletedArgs !== 'function' || typeof backend.execCommand !== 'function' || !backend.client) return undefined;
    const client = await backend.client;
    // The arguments read only the job's id and options: no need for a whole BullMQ Job.
    const moveArgs = backend.moveToCompletedArgs({ id: toBullmqId(jobId), opts: JOB_OPTIONS } as unknown as Job, BULLMQ_RETURN_VALUE, false, token, true);
    const nowIso = iso(now); // finished_at of this job, started_at of the next
    const k = this.keys;
    // Both leave in one write: the socket is corked until the end of this tick.
    const stream = this.redis.stream as { cork?(): void; uncork?(): void } | undefined;
    stream?.cork?.();
    // Sent first (the script must see the job the move fetched): the call itself, not in a later microtask.
    let moveCall: Promise<unknown>;
    try {
      moveCall = Promise.resolve(backend.execCommand(client, 'moveToFinished', moveArgs));
    } catch (error) {
      moveCall = Promise.reject(error as Error);
    }
    const moving = settle(moveCall);
    const finishing = settle(
      FINISH_LEASE_HEAD.run(
        this.redis,
        [...this.finishKeys(jobId, workerId, outcome), this.queue.keys['active']!, k.state('queued')],
        [
          ...this.finishArgs(jobId, workerId, outcome, now, true, outcome.result === undefined ? undefined : JSON.stringify(outcome.result), nowIso),
          this.queue.toKey(''),
          k.jobPrefix,
          now + leaseMs,
          nowIso,
          token,
          toBullmqId(jobId),
          this.lockMs,
        ],
      ) as Promise<[FinishResult, string, string, number?, (string[] | string)?, string?]>,
    );
    process.nextTick(() => stream?.uncork?.());
    const [[moveError, moved], [finishError, finished]] = await Promise.all([moving, finishing]);
    const completedInBullmq = !moveError && (typeof moved !== 'number' || moved >= 0);
    const nextId = completedInBullmq ? fetchedId(moved) : undefined;
    if (finishError) {
      // Our finish is not known to have happened: give a fetched job back and let the worker retry its report.
      // (If Redis is gone, the fetched job's lock runs out and BullMQ's stalled check gives it back.)
      if (nextId) await this.requeueInBullmq(fromBullmqId(nextId), token).catch(() => undefined);
      throw finishError;
    }
    const [result, leaseToken, gate, code = 3, headPayload, headId] = finished!;
    // The remembered token was stale (the lease was renewed under another instance's token) or the lock was lost: the lease's own token.
    if (result === 'ok' && !completedInBullmq && leaseToken !== token) await this.finishInBullmq(jobId, leaseToken, outcome);
    const blocked = gate === 'queue' || gate === 'worker' ? gate : undefined;
    const nothing = (): FinishAndPollResult => (blocked && result === 'ok' ? { result, blocked } : { result });
    if (!nextId) {
      // Nothing fetched: the queue was empty. (When the move itself failed, look the ordinary way.)
      if (result !== 'ok' || blocked || completedInBullmq) return nothing();
      const job = await this.lease(workerId, leaseMs, now);
      return job ? { result, job } : { result };
    }
    const nextJobId = fromBullmqId(nextId);
    if (result !== 'ok' || blocked) {
      await this.requeueInBullmq(nextJobId, token); // not to be handed out now: back to the head of the queue
      return nothing();
    }
    // What the script found at the head counts only if it is the job the move fetched.
    const headCode = headId === nextId ? code : code === 1 && headId ? -1 : 3;
    if (headCode === -1) {
      await this.release(fromBullmqId(headId!), workerId, now); // cannot happen (see FINISH_LEASE_HEAD); never keep a job nobody runs
    } else if (headCode === 1) {
      this.holdToken(nextJobId, token, workerId);
      if (leaseMs + this.lockGraceMs > this.lockMs) await this.bullJob(nextId).extendLock(token, leaseMs + this.lockGraceMs);
      return { result, job: toStoredJob(nextJobId, hashOf(headPayload as string[]))! };
    }
    if (headCode === 0 || headCode === 2) {
      // Finished or gone: out of BullMQ too. Running under a live lease: the script gave the lock back to its holder.
      if (headCode === 0) await this.dropFetched(nextId, token, headPayload as string);
      const job = await this.lease(workerId, leaseMs, now);
      return job ? { result, job } : { result };
    }
    // Another client's job came to the head in between (or the id is escaped): lease ours by its id.
    const job = (await this.leaseFetched(nextId, token, workerId, leaseMs, now)) || (await this.lease(workerId, leaseMs, now));
    return job ? { result, job } : { result };
  }

  async renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
    const k = this.keys;
    const token = (await RENEW.run(this.redis, [k.job(jobId), k.leases, this.lockKey(jobId)], [
      jobId,
      workerId,
      now + leaseMs,
      leaseMs + this.lockGraceMs,
    ])) as string | null;
    if (token === null) return false;
    // The lease is ours whatever BullMQ says; a lock BullMQ lost already is left to its stalled check.
    if (token !== '') await this.bullJob(toBullmqId(jobId)).extendLock(token, leaseMs + this.lockGraceMs);
    return true;
  }

  async finish(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): Promise<FinishResult> {
    const [result, token] = await this.finishScript(jobId, workerId ?? '', outcome, now, false);
    if (result === 'ok') {
      this.#heldTokens.delete(jobId);
      await this.finishInBullmq(jobId, token, outcome);
    }
    return result;
  }

  /** Our side of a finish (the FINISH script); with `polling`, also the gate of the poll that follows. */
  private async finishScript(jobId: string, workerId: string, outcome: JobOutcome, now: number, polling: boolean): Promise<[FinishResult, string, string]> {
    const resultJson = outcome.result === undefined ? undefined : JSON.stringify(outcome.result);
    return (await FINISH.run(this.redis, this.finishKeys(jobId, workerId, outcome), this.finishArgs(jobId, workerId, outcome, now, polling, resultJson))) as [
      FinishResult,
      string,
      string,
    ];
  }

  /** KEYS of the FINISH script (FINISH_LEASE_HEAD adds its own after them). */
  private finishKeys(jobId: string, workerId: string, outcome: JobOutcome): string[] {
    const k = this.keys;
    return [k.job(jobId), k.leases, k.state('running'), k.state(outcome.state), k.all, k.queueAttributes, k.workerAttributes(workerId)];
  }

  /** ARGV of the FINISH script (FINISH_LEASE_HEAD adds its own after them). */
  private finishArgs(
    jobId: string,
    workerId: string,
    outcome: JobOutcome,
    now: number,
    polling: boolean,
    resultJson: string | undefined,
    nowIso = iso(now),
  ): Array<string | number> {
    return [
      jobId,
      workerId,
      outcome.state,
      nowIso,
      now,
      resultJson === undefined ? '0' : '1',
      resultJson ?? '',
      outcome.reason === undefined ? '0' : '1',
      outcome.reason ?? '',
      polling ? '1' : '0',
    ];
  }

  async release(jobId: string, workerId: string | undefined, _now: number): Promise<FinishResult> {
    const k = this.keys;
    const [result, token] = (await RELEASE.run(this.redis, [k.job(jobId), k.leases, k.state('running'), k.state('queued'), this.lockKey(jobId)], [
      jobId,
      workerId ?? '',
      randomUUID(),
      this.lockGraceMs,
    ])) as [FinishResult, string];
    if (result === 'ok') {
      this.#heldTokens.delete(jobId);
      await this.requeueInBullmq(jobId, token);
    }
    return result;
  }

  async expireLeases(now: number, maxAttempts: number): Promise<{ requeued: string[]; failed: string[] }> {
    const k = this.keys;
    const expired = await this.redis.zrangebyscore(k.leases, '-inf', `(${now}`);
    const requeued: string[] = [];
    const failed: string[] = [];
    for (const jobId of expired) {
      const [outcome, moveToken, reason] = (await EXPIRE.run(
        this.redis,
        [k.job(jobId), k.leases, k.state('running'), k.state('queued'), k.state('failed'), k.state('cancelled'), k.all, this.lockKey(jobId)],
        [jobId, now, maxAttempts, iso(now), randomUUID(), this.lockGraceMs],
      )) as ['requeued' | 'failed' | 'cancelled' | 'skip', string, string];
      if (outcome !== 'skip') this.#heldTokens.delete(jobId);
      // The script moved the BullMQ lock from the holder to this sweep (moveToken): the moves use it.
      if (outcome === 'requeued') {
        await this.requeueInBullmq(jobId, moveToken);
        requeued.push(jobId);
      } else if (outcome !== 'skip') {
        await this.finishInBullmq(jobId, moveToken, { state: outcome, reason });
        failed.push(jobId);
      }
    }
    return { requeued, failed };
  }

  async cancel(jobId: string, now: number): Promise<CancelResult> {
    const k = this.keys;
    const result = (await CANCEL.run(this.redis, [k.job(jobId), k.state('queued'), k.state('cancelled'), k.all], [jobId, iso(now), now])) as CancelResult;
    // Our record keeps the cancelled job; BullMQ forgets it (refused while a lease() holds it, which then drops it).
    if (result === 'cancelled') await this.queue.remove(toBullmqId(jobId)).catch(() => 0);
    // A running one: its worker hears it at once when it listens (direct Redis workers), else at its next heartbeat.
    if (result === 'requested') await this.redis.publish(this.keys.cancelChannel, jobId).catch(() => 0);
    return result;
  }

  async get(jobId: string): Promise<StoredJob | undefined> {
    return this.record(jobId);
  }

  async list(options: { state?: JobState; limit: number; cursor?: string }): Promise<JobPage> {
    const limit = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(options.limit) || 1));
    return options.state === 'queued' ? this.listQueued(limit, options.cursor) : this.listNewest(limit, options.state, options.cursor);
  }

  /** Queue order straight from BullMQ's prioritized set (score ascending, then member). */
  private async listQueued(limit: number, cursorText: string | undefined): Promise<JobPage> {
    const key = this.queue.keys['prioritized']!;
    let start = 0;
    if (cursorText !== undefined) {
      const c = decodeCursor(cursorText, 'q');
      const [before, ties] = await Promise.all([this.redis.zcount(key, '-inf', `(${c.s}`), this.redis.zrangebyscore(key, c.s, c.s)]);
      start = before + ties.filter((id) => byteCompare(id, c.id) <= 0).length;
    }
    const flat = await this.redis.zrange(key, start, start + limit, 'WITHSCORES');
    const entries: Array<{ id: string; score: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i]!, score: Number(flat[i + 1]) });
    return this.page(entries, limit, 'q', (id) => fromBullmqId(id), (job) => job.state === 'queued');
  }

  /** Newest first: score (finished_at, else added) descending, then job id descending. */
  private async listNewest(limit: number, state: JobState | undefined, cursorText: string | undefined): Promise<JobPage> {
    const key = state === undefined ? this.keys.all : this.keys.state(state);
    let start = 0;
    if (cursorText !== undefined) {
      const c = decodeCursor(cursorText, 'n');
      const [after, ties] = await Promise.all([this.redis.zcount(key, `(${c.s}`, '+inf'), this.redis.zrangebyscore(key, c.s, c.s)]);
      start = after + ties.filter((id) => byteCompare(id, c.id) >= 0).length;
    }
    const flat = await this.redis.zrevrange(key, start, start + limit, 'WITHSCORES');
    const entries: Array<{ id: string; score: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i]!, score: Number(flat[i + 1]) });
    return this.page(entries, limit, 'n', (id) => id, (job) => state === undefined || job.state === state);
  }

  /** A page of up to `limit` of `entries` (fetched with one extra to know whether more follow). */
  private async page(
    entries: Array<{ id: string; score: number }>,
    limit: number,
    mode: ListCursor['m'],
    jobIdOf: (member: string) => string,
    keep: (job: StoredJob) => boolean,
  ): Promise<JobPage> {
    const shown = entries.slice(0, limit);
    const jobs = (await this.records(shown.map((e) => jobIdOf(e.id)))).filter(keep);
    const page: JobPage = { jobs };
    const last = shown[shown.length - 1];
    if (entries.length > limit && last) page.next = encodeCursor({ m: mode, s: last.score, id: last.id });
    return page;
  }

  async queued(): Promise<StoredJob[]> {
    const [waiting, prioritized] = await Promise.all([
      this.redis.lrange(this.queue.keys['wait']!, 0, -1),
      this.redis.zrange(this.queue.keys['prioritized']!, 0, -1),
    ]);
    // BullMQ takes un-prioritised jobs (none of ours) from the right end of `wait`, before the prioritized set.
    const order = [...waiting.reverse(), ...prioritized].map(fromBullmqId);
    return (await this.records(order)).filter((job) => job.state === 'queued');
  }

  async remove(jobId: string): Promise<boolean> {
    const k = this.keys;
    const removed = await REMOVE.run(this.redis, [k.job(jobId), k.state('queued'), k.all], [jobId]);
    if (removed !== 1) return false;
    await this.queue.remove(toBullmqId(jobId)).catch(() => 0);
    return true;
  }

  async clear(): Promise<void> {
    const ids = await this.redis.zrange(this.keys.state('queued'), 0, -1);
    await Promise.all(ids.map((id) => this.remove(id)));
  }

  // ---- attributes ----

  private async setAttributes(key: string, patch: Record<string, unknown>, also?: (tx: ReturnType<Redis['multi']>) => void): Promise<Attributes> {
    const tx = this.redis.multi();
    also?.(tx);
    tx.hsetnx(key, 'disabled', 'false');
    const fields = patchFields(patch);
    if (fields.length > 0) tx.hset(key, ...fields);
    tx.hgetall(key);
    const replies = (await tx.exec()) ?? [];
    const [error, hash] = replies[replies.length - 1] ?? [new Error('attributes update aborted'), {}];
    if (error) throw error;
    return attributesOf(hash as Record<string, string>);
  }

  async queueAttributes(): Promise<Attributes> {
    return attributesOf(await this.redis.hgetall(this.keys.queueAttributes));
  }

  async setQueueAttributes(patch: Record<string, unknown>): Promise<Attributes> {
    const attributes = await this.setAttributes(this.keys.queueAttributes, patch);
    if (!attributes.disabled) await this.wake(true); // a resumed queue: waiting polls look at once
    return attributes;
  }

  // ---- workers ----

  private toWorker(workerId: string, heartbeat: string | null | undefined, attributes: Record<string, string>, now: number): WorkerRecord {
    const beat = heartbeat ? (JSON.parse(heartbeat) as Heartbeat) : undefined;
    return {
      worker_id: workerId,
      // An expired heartbeat is gone, as in the original (a Redis key with a TTL); last_seen still tells when.
      status: beat && beat.expires_at > now ? beat.status : {},
      attributes: attributesOf(attributes),
      last_seen: beat?.last_seen ?? 0,
    };
  }

  async heartbeat(workerId: string, status: Record<string, unknown>, now: number, expiryMs: number): Promise<WorkerRecord> {
    const beat: Heartbeat = { status, last_seen: now, expires_at: now + expiryMs };
    await this.redis.hset(this.keys.heartbeats, workerId, JSON.stringify(beat));
    return this.worker(workerId, now);
  }

  async worker(workerId: string, now: number): Promise<WorkerRecord> {
    const [beat, attributes] = await Promise.all([
      this.redis.hget(this.keys.heartbeats, workerId),
      this.redis.hgetall(this.keys.workerAttributes(workerId)),
    ]);
    return this.toWorker(workerId, beat, attributes, now);
  }

  async workers(now: number): Promise<WorkerRecord[]> {
    const [beats, withAttributes] = await Promise.all([
      this.redis.hgetall(this.keys.heartbeats),
      this.redis.smembers(this.keys.workersWithAttributes),
    ]);
    const ids = new Set(withAttributes);
    for (const [id, json] of Object.entries(beats)) if ((JSON.parse(json) as Heartbeat).expires_at > now) ids.add(id);
    const listed = [...ids];
    const pipeline = this.redis.pipeline();
    for (const id of listed) pipeline.hgetall(this.keys.workerAttributes(id));
    const replies = listed.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    return listed
      .map((id, i) => {
        const [error, attributes] = replies[i] ?? [null, {}];
        if (error) throw error;
        return this.toWorker(id, beats[id], attributes as Record<string, string>, now);
      })
      .sort(compareWorkers);
  }

  async removeWorker(workerId: string): Promise<boolean> {
    const replies =
      (await this.redis
        .multi()
        .hdel(this.keys.heartbeats, workerId)
        .del(this.keys.workerAttributes(workerId))
        .srem(this.keys.workersWithAttributes, workerId)
        .exec()) ?? [];
    return replies.some(([, n]) => (n as number) > 0);
  }

  async setWorkerAttributes(workerId: string, patch: Record<string, unknown>): Promise<WorkerRecord['attributes']> {
    const attributes = await this.setAttributes(this.keys.workerAttributes(workerId), patch, (tx) => tx.sadd(this.keys.workersWithAttributes, workerId));
    if (!attributes.disabled) await this.wake(true);
    return attributes;
  }

  // ---- module data ----

  async getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    const json = await this.redis.hget(this.keys.data(module), name);
    return json === null ? undefined : (JSON.parse(json) as Record<string, unknown>);
  }

  async putData(module: string, name: string, record: Record<string, unknown>): Promise<void> {
    await this.redis.hset(this.keys.data(module), name, JSON.stringify(record));
  }

  async deleteData(module: string, name: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.data(module), name)) > 0;
  }

  async listData(module: string): Promise<string[]> {
    return (await this.redis.hkeys(this.keys.data(module))).sort(byteCompare);
  }

  #subscriber: Redis | undefined;
  readonly #wakeListeners = new Set<(everyone: boolean) => void>();
  readonly #cancelListeners = new Set<(jobId: string) => void>();

  /**
   * Call `listener` whenever jobs may have become available to poll
   * (submitted, requeued, or the queue or a worker enabled), through any
   * store instance on this prefix: a Redis pub/sub channel, so long-polls
   * and idle direct workers look at once instead of on their next tick.
   * Messages can be missed (while reconnecting), so waiters still look
   * again now and then. `everyone` is true when any number of jobs may
   * have become available (a resumed queue), else about one. Returns the
   * unsubscribe function.
   */
  onJobsAvailable(listener: (everyone: boolean) => void): () => void {
    this.#wakeListeners.add(listener);
    this.#subscribe();
    return () => {
      this.#wakeListeners.delete(listener);
    };
  }

  /**
   * Call `listener` with the id of a running job as soon as its cancel is
   * requested through any store instance on this prefix (Redis pub/sub), so
   * a direct worker stops it at once. Returns the unsubscribe function.
   */
  onCancelRequested(listener: (jobId: string) => void): () => void {
    this.#cancelListeners.add(listener);
    this.#subscribe();
    return () => {
      this.#cancelListeners.delete(listener);
    };
  }

  /** The connection that listens on the wake and cancel channels (made on first use). */
  #subscribe(): void {
    if (this.#subscriber || this.closed) return;
    const subscriber = this.redis.duplicate({ lazyConnect: false });
    subscriber.on('error', () => undefined); // the main connection reports outages
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.cancelChannel) for (const listener of this.#cancelListeners) listener(message);
      else for (const wake of this.#wakeListeners) wake(message === '*');
    });
    void subscriber.subscribe(this.keys.wakeChannel, this.keys.cancelChannel).catch(() => undefined);
    this.#subscriber = subscriber;
  }

  private closed = false;

  /** Why Redis cannot serve requests right now (connecting, reconnecting...), or undefined. */
  unavailable(): string | undefined {
    return this.redis.status === 'ready' ? undefined : `the Redis store is ${this.redis.status}; try again shortly`;
  }

  /** Stop the worker and the queue and disconnect from Redis. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.#wakeListeners.clear();
    this.#cancelListeners.clear();
    this.#subscriber?.disconnect();
    await this.fetcher.close();
    await this.queue.close();
    await this.redis.quit();
  }
}
