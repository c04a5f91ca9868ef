import { Redis } from 'ioredis';
import type {
  CancelResult,
  ChildResult,
  DocumentPage,
  FinishAndPollResult,
  FinishResult,
  JobCounts,
  JobFilter,
  JobOutcome,
  JobPage,
  LeaseOptions,
  NewJob,
  PollResult,
  PriorityResult,
  PurgeRule,
  QueueEventLog,
  QueueStore,
  StoredJob,
  WaitForChildren,
  WorkerRecord,
} from '@sisyphus/server/store';
import { attributesOf, updateAttributes, type Attributes } from './attribute-hash.js';
import { BullmqInternals } from './bullmq-internals.js';
import type { BullmqStoreOptions } from './bullmq-store-options.js';
import { BullmqMoves } from './bullmq-moves.js';
import { ConnectionWatch } from './connection-watch.js';
import { RedisEventLog } from './event-log.js';
import { JobFlows } from './job-flows.js';
import { JobLeases } from './job-leases.js';
import { JobListings } from './job-listings.js';
import { JobOutbox } from './job-outbox.js';
import { JobReports } from './job-reports.js';
import { ensureListingIndexes } from './listing-indexes.js';
import { ensureReadyIndexes } from './ready-indexes.js';
import { defineScripts } from './lua-scripts.js';
import { ModuleData } from './module-data.js';
import { QueuedJobs } from './queued-jobs.js';
import { RedisQueueMetrics } from './redis-queue-metrics.js';
import { RedisWebhooks } from './redis-webhooks.js';
import { RedisWatchStore } from './redis-watch.js';
import { StoreChannels } from './store-channels.js';
import type { StoreContext } from './store-context.js';
import { StoreKeys } from './store-keys.js';
import { WorkerRegistry } from './worker-registry.js';

export type { BullmqStoreOptions } from './bullmq-store-options.js';

/**
 * A {@link QueueStore} on Redis: the queue itself is a BullMQ queue (submit
 * with `Queue.add`, renew with `extendLock`, finish with
 * `moveToCompleted`/`moveToFailed`, give back with `moveToWait`), the job records, leases, history, attributes, worker status
 * and module data are plain Redis structures under the same prefix, changed
 * by small Lua scripts (`lua/`). Several server instances on one Redis and
 * prefix share one queue: lock tokens are kept in Redis, not in the process.
 * The event log is a Redis stream under the prefix (event-log.ts), shared by
 * every instance and direct worker on it.
 *
 * Priorities from -1 048 575 to 1 048 575 each get their own place in the
 * queue (see `priority-mapping.ts`).
 *
 * Capability routing: a lease hands out the best job the worker can run,
 * not BullMQ's head. Each requirement set has a ready index beside BullMQ's
 * queue (the same jobs, scored alike: lua/fragments/ready-index.lua); the
 * lease looks at the head of each set the worker can run and takes the best
 * one in BullMQ itself, as BullMQ's fetch would (lease.lua,
 * lua/fragments/bullmq-take.lua): jobs nobody polling can run block nothing
 * and cost nothing (docs/architecture.md, "Capability routing on Redis").
 *
 * Fan-out (flows, `waitForChildren`) follows BullMQ's flows in our own keys
 * (a parent's children, its pending children as BullMQ's `:dependencies`,
 * their kept results as its `:processed`; see lua/fragments/job-ended.lua),
 * not with BullMQ's parent/child job options: with those, BullMQ itself
 * would move a parent from waiting-children back to wait when its last
 * child completes (and fail or keep it when one fails), inside its own
 * scripts, behind our record, our state and listing indexes and our event
 * log. Here our record decides, in the same Lua script as the child's end,
 * and BullMQ stays a plain queue that follows: a waiting parent leaves
 * BullMQ and is added again when it resumes (job-outbox.ts).
 */
export class BullmqStore implements QueueStore {
  /** Connect to Redis and open the store under `prefix`. */
  static async open(options: BullmqStoreOptions): Promise<BullmqStore> {
    const common = {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      ...(options.failFast ? { enableOfflineQueue: false, autoResendUnfulfilledCommands: false } : {}),
    } as const;
    const redis =
      typeof options.connection === 'string' ? new Redis(options.connection, common) : new Redis({ ...options.connection, ...common });
    // Heard from the start (ioredis prints every unheard error); the store reports outages once it is open.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      defineScripts(redis);
      const bull = BullmqInternals.create(redis, { prefix: options.prefix, lockMs: (options.leaseMs ?? 30_000) + (options.lockGraceMs ?? 30_000) });
      const store = new BullmqStore(redis, bull, options);
      await ensureListingIndexes(store.ctx);
      await ensureReadyIndexes(store.ctx);
      await bull.start(options.stalledCheck !== false);
      if (!bull.fastPathAvailable()) options.log?.('warn', 'this BullMQ lacks what the one-round-trip report takes; reports take the longer way');
      return store;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  private readonly ctx: StoreContext;
  private readonly channels: StoreChannels;
  private readonly connection: ConnectionWatch;
  private readonly moves: BullmqMoves;
  private readonly leases: JobLeases;
  private readonly reports: JobReports;
  private readonly queued: QueuedJobs;
  private readonly listings: JobListings;
  private readonly outbox: JobOutbox;
  private readonly flows: JobFlows;
  private readonly registry: WorkerRegistry;
  private readonly data: ModuleData;
  private readonly eventLog: RedisEventLog;
  /** Webhook cursors and deliveries, offline workers (redis-webhooks.ts). */
  readonly webhooks: RedisWebhooks;
  /** Watch folder rules, file states, outputs and scanner leases (redis-watch.ts). */
  readonly watch: RedisWatchStore;
  /** The metrics' totals and the depth per priority (redis-queue-metrics.ts). */
  readonly metrics: RedisQueueMetrics;
  private closed = false;

  private constructor(
    /** Our own commands; BullMQ's queue shares it, its worker duplicates it for its blocking connection. */
    private readonly redis: Redis,
    /** BullMQ's queue and fetching worker (the one door to BullMQ). */
    private readonly bull: BullmqInternals,
    options: BullmqStoreOptions,
  ) {
    const keys = new StoreKeys(options.prefix);
    this.ctx = { redis, keys, bull, lockGraceMs: options.lockGraceMs ?? 30_000 };
    this.connection = new ConnectionWatch(redis, bull, options.log);
    this.channels = new StoreChannels(redis, keys);
    this.moves = new BullmqMoves(this.ctx, this.channels);
    this.outbox = new JobOutbox(this.ctx, this.moves, this.channels, options.log);
    this.leases = new JobLeases(this.ctx, this.moves, this.outbox);
    this.reports = new JobReports(this.ctx, this.leases, this.moves, this.outbox);
    this.queued = new QueuedJobs(this.ctx, this.moves, this.channels, this.outbox);
    this.listings = new JobListings(this.ctx);
    this.flows = new JobFlows(this.ctx, this.leases, this.moves, this.outbox, this.listings);
    this.registry = new WorkerRegistry(redis, keys);
    this.data = new ModuleData(redis, keys);
    this.eventLog = new RedisEventLog(redis, keys);
    this.webhooks = new RedisWebhooks(redis, keys);
    this.watch = new RedisWatchStore(redis, keys);
    this.metrics = new RedisQueueMetrics(this.ctx);
  }

  // ---- jobs (queued-jobs.ts, job-leases.ts, job-reports.ts) ----

  submit(job: NewJob): Promise<StoredJob> {
    return this.queued.submit(job);
  }

  lease(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<StoredJob | undefined> {
    return this.leases.lease(workerId, leaseMs, now, options);
  }

  poll(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<PollResult> {
    return this.leases.poll(workerId, leaseMs, now, options);
  }

  finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number, options?: LeaseOptions): Promise<FinishAndPollResult> {
    return this.reports.finishAndPoll(jobId, workerId, outcome, now, leaseMs, options);
  }

  renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
    return this.leases.renew(jobId, workerId, leaseMs, now);
  }

  finish(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): Promise<FinishResult> {
    return this.reports.finish(jobId, workerId, outcome, now);
  }

  release(jobId: string, workerId: string | undefined, _now: number): Promise<FinishResult> {
    return this.leases.release(jobId, workerId);
  }

  /**
   * The lease sweep (see {@link QueueStore.expireLeases}). It also adds to
   * BullMQ the jobs a flow's script queued whose add a crash prevented
   * (older than a few seconds in the outbox, job-outbox.ts): those are not
   * in the returned lists.
   */
  expireLeases(now: number, maxAttempts: number): Promise<{ requeued: string[]; failed: string[] }> {
    return this.leases.expireLeases(now, maxAttempts);
  }

  /**
   * Until epoch ms `until`, no lease expires: the sweep's grace period after
   * an outage, shared by every instance on the prefix.
   */
  setLeaseGrace(until: number): Promise<void> {
    return this.leases.setLeaseGrace(until);
  }

  cancel(jobId: string, now: number): Promise<CancelResult> {
    return this.queued.cancel(jobId, now);
  }

  remove(jobId: string): Promise<boolean> {
    return this.queued.remove(jobId);
  }

  clear(): Promise<void> {
    return this.queued.clear();
  }

  setPriority(jobId: string, priority: number): Promise<PriorityResult> {
    return this.queued.setPriority(jobId, priority);
  }

  retry(jobId: string, job: NewJob & { retry_of: string }): Promise<StoredJob> {
    return this.queued.retry(jobId, job);
  }

  // ---- fan-out (job-flows.ts, lua/fragments/job-ended.lua) ----

  waitForChildren(jobId: string, workerId: string | undefined, wait: WaitForChildren, now: number): Promise<FinishResult> {
    return this.flows.waitForChildren(jobId, workerId, wait, now);
  }

  childResults(parentId: string): Promise<ChildResult[]> {
    return this.flows.childResults(parentId);
  }

  children(parentId: string): Promise<StoredJob[]> {
    return this.flows.children(parentId);
  }

  // ---- listings and history (job-listings.ts) ----

  get(jobId: string): Promise<StoredJob | undefined> {
    return this.listings.get(jobId);
  }

  list(options: JobFilter & { limit: number; cursor?: string }): Promise<JobPage> {
    return this.listings.list(options);
  }

  counts(finishedSince: number): Promise<JobCounts> {
    return this.listings.counts(finishedSince);
  }

  queuedDocuments(options: { limit: number; cursor?: string }): Promise<DocumentPage> {
    return this.listings.queuedDocuments(options);
  }

  queueLength(): Promise<number> {
    return this.listings.queueLength();
  }

  purge(state: 'completed' | 'failed' | 'cancelled', rule: PurgeRule, batch: number): Promise<number> {
    return this.listings.purge(state, rule, batch);
  }

  // ---- queue attributes ----

  async queueAttributes(): Promise<Attributes> {
    return attributesOf(await this.redis.hgetall(this.ctx.keys.queueAttributes));
  }

  async setQueueAttributes(patch: Record<string, unknown>): Promise<Attributes> {
    const attributes = await updateAttributes(this.redis, this.ctx.keys.queueAttributes, patch);
    if (!attributes.disabled) await this.channels.wake(true); // a resumed queue: waiting polls look at once
    return attributes;
  }

  // ---- workers (worker-registry.ts) ----

  heartbeat(workerId: string, status: Record<string, unknown>, now: number, expiryMs: number): Promise<WorkerRecord> {
    return this.registry.heartbeat(workerId, status, now, expiryMs);
  }

  worker(workerId: string, now: number): Promise<WorkerRecord> {
    return this.registry.worker(workerId, now);
  }

  workers(now: number): Promise<WorkerRecord[]> {
    return this.registry.workers(now);
  }

  removeWorker(workerId: string): Promise<boolean> {
    return this.registry.removeWorker(workerId);
  }

  async setWorkerAttributes(workerId: string, patch: Record<string, unknown>): Promise<WorkerRecord['attributes']> {
    const attributes = await this.registry.setWorkerAttributes(workerId, patch);
    if (!attributes.disabled) await this.channels.wake(true);
    return attributes;
  }

  // ---- module data (module-data.ts) ----

  getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    return this.data.getData(module, name);
  }

  putData(module: string, name: string, record: Record<string, unknown>): Promise<void> {
    return this.data.putData(module, name, record);
  }

  deleteData(module: string, name: string): Promise<boolean> {
    return this.data.deleteData(module, name);
  }

  listData(module: string): Promise<string[]> {
    return this.data.listData(module);
  }

  // ---- event log (event-log.ts) ----

  /** The queue event log: a Redis stream under the prefix, shared by every instance on it (see event-log.ts). */
  get events(): QueueEventLog {
    return this.eventLog;
  }

  // ---- notifications and connection (store-channels.ts, connection-watch.ts) ----

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
    return this.channels.onJobsAvailable(listener);
  }

  /**
   * Call `listener` with the id of a running job as soon as its cancel is
   * requested through any store instance on this prefix (Redis pub/sub), so
   * a direct worker stops it at once. Returns the unsubscribe function.
   */
  onCancelRequested(listener: (jobId: string) => void): () => void {
    return this.channels.onCancelRequested(listener);
  }

  /** Call `listener` each time Redis is back after the connection was lost. Returns the unsubscribe function. */
  onReconnect(listener: () => void): () => void {
    return this.connection.onReconnect(listener);
  }

  /** Why Redis cannot serve requests right now (connecting, reconnecting...), or undefined. */
  unavailable(): string | undefined {
    return this.connection.unavailable();
  }

  /** Stop the worker and the queue and disconnect from Redis. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connection.close();
    this.channels.close();
    this.eventLog.close();
    await this.bull.close();
    await this.redis.quit();
  }
}
