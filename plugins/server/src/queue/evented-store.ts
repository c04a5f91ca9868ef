import type {
  CancelResult, ChildResult, DocumentPage, FinishAndPollResult, FinishResult, JobCounts, JobFilter, JobOutcome, JobPage, JobState, LeaseOptions, NewJob,
  NewQueueEvent, PollResult, PriorityResult, PurgeRule, QueueEventLog, QueueStore, StoredJob, WaitForChildren, WorkerRecord,
} from '../store/queue-store.js';
import { finishedEventType, jobSummary, type JobSummary, type QueueEventType } from './queue-events.js';
import { QueueMetricsRecorder } from '../metrics/queue-metrics-recorder.js';

/**
 * Shortest time between two appends of one process (ms): a busy process
 * gathers its events for this long, so that it appends about a hundred
 * times a second whatever its rate (an append per job cost a direct Redis
 * worker a fifth of its throughput); an idle one appends at once.
 */
const BATCH_MS = 10;

/** Longest job title an event carries (cut with an ellipsis): every listener gets every event; the job's own view has it whole. */
export const EVENT_TITLE_MAX = 1000;

/** `summary` as an event carries it: the title at most {@link EVENT_TITLE_MAX} characters. */
function eventSummary(summary: JobSummary): JobSummary {
  return summary.job_title.length > EVENT_TITLE_MAX ? { ...summary, job_title: `${summary.job_title.slice(0, EVENT_TITLE_MAX - 1)}…` } : summary;
}

/** Jobs this process leased whose summary is kept for their finish event (the oldest are dropped beyond it). */
const MAX_LEASED = 50_000;

/** How many finally jobs this process remembers having announced (their `job.submitted`). */
const MAX_FINALLY = 10_000;

/** The event of a parent whose flow moved: resumed, still waiting (a child ended), or ended. */
function parentEventType(job: StoredJob): QueueEventType {
  switch (job.state) {
    case 'queued':
      return 'job.resumed';
    case 'waiting-children':
      return 'job.waiting_children';
    case 'running':
      return 'job.started';
    default:
      return finishedEventType(job.state);
  }
}

/** Settings of {@link withQueueEvents}. */
export interface QueueEventsOptions {
  /**
   * A worker's heartbeat becomes an event when its status changed (state,
   * job, task, progress, info) or when the last event of that worker is
   * older than this (ms), so that listeners keep its `last_seen` fresh.
   * Default 10,000 (a third of the default worker expiry).
   */
  heartbeatRefreshMs?: number;
  /** An event could not be appended (the change itself went through). */
  onError?: (error: unknown) => void;
  /** Metrics could not be recorded in the store's metrics part (the change went through). Default: `onError`. */
  onMetricsError?: (error: unknown) => void;
  /** Current time (epoch ms); replaceable in tests. */
  now?: () => number;
}

/** Fields of a heartbeat whose change is news; the rest (times, host, version) only refreshes. */
const heartbeatKey = (status: Record<string, unknown>) =>
  JSON.stringify([status.status, status.job_id, status.task, status.progress, status.info, status.job_title]);

/**
 * The queue's events, written once for every store: a {@link QueueStore}
 * that does what `store` does and appends what changed to `store.events`
 * (see `queue-events.ts` for the types). Every process that changes the
 * store (each server, each direct Redis worker) wraps its store, so the log
 * shared through the store sees every change whoever made it. It also counts
 * what it passes on (jobs started, ended, requeued...) into the store's
 * metrics part when it has one (`QueueMetricsRecorder`: batched, never
 * delaying or failing the change).
 *
 * Appending never delays or fails the change: events are appended in call
 * order, in batches, beside the calls (an append that fails is reported to
 * `onError` and dropped); {@link flush} waits for what is pending. A process that
 * dies between a change and its append loses that event: readers that reload
 * on `reset` and on (re)connect see the state itself.
 */
export class EventedQueueStore implements QueueStore {
  readonly #store: QueueStore;
  readonly #refreshMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;
  /** Event makers not yet appended, in call order. */
  #pending: Array<() => Promise<NewQueueEvent[]> | NewQueueEvent[]> = [];
  #draining: Promise<void> | undefined;
  /** `performance.now()` of the last append. */
  #lastAppend = -Infinity;
  /** Per worker: the key of its last heartbeat event and when it was appended. */
  readonly #lastBeat = new Map<string, { key: string; at: number }>();
  /**
   * Summaries of the jobs this process leased, so that their finish event
   * needs no read of the job (a report per job: the busiest path).
   */
  readonly #leased = new Map<string, JobSummary>();
  /** Finally jobs announced by this process (the oldest are forgotten beyond {@link MAX_FINALLY}). */
  readonly #announced = new Set<string>();
  /** Counts what this process changes into the store's metrics part, when it has one (see `QueueMetricsRecorder`). */
  readonly #metrics: QueueMetricsRecorder | undefined;

  constructor(store: QueueStore, options: QueueEventsOptions = {}) {
    this.#store = store;
    this.#refreshMs = options.heartbeatRefreshMs ?? 10_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    this.#metrics = store.metrics ? new QueueMetricsRecorder(store, store.metrics, { onError: options.onMetricsError ?? this.#onError }) : undefined;
  }

  /** The wrapped store. */
  get inner(): QueueStore {
    return this.#store;
  }

  get events(): QueueEventLog {
    return this.#store.events;
  }

  get metrics(): QueueStore['metrics'] {
    return this.#store.metrics;
  }

  /** Wait until the metrics recorded so far are written to the store (a scrape right after a change counts it). */
  async flushMetrics(): Promise<void> {
    await this.#metrics?.flush();
  }

  /** Wait until every event of a change made so far is appended (or dropped). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
    await this.#metrics?.flush();
  }

  /** Append the events `make` builds (it may read the store), after those queued before. */
  #emit(make: () => Promise<NewQueueEvent[]> | NewQueueEvent[]): void {
    this.#pending.push(make);
    this.#draining ??= this.#drain();
  }

  /**
   * Append what is pending, in order: everything that came in while the last
   * append was on its way goes in the next one, so a busy process makes one
   * append per round trip, not one per change (1,400 heartbeats a second fell
   * seconds behind one by one on Redis), and at most one per {@link BATCH_MS}.
   */
  async #drain(): Promise<void> {
    try {
      while (this.#pending.length) {
        const since = performance.now() - this.#lastAppend;
        if (since < BATCH_MS) await new Promise((resolve) => setTimeout(resolve, BATCH_MS - since));
        const batch = this.#pending.splice(0);
        const events: NewQueueEvent[] = [];
        for (const make of batch) {
          try {
            events.push(...(await make()));
          } catch (error) {
            this.#onError(error);
          }
        }
        try {
          this.#lastAppend = performance.now();
          if (events.length) await this.#store.events.append(events);
        } catch (error) {
          this.#onError(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  #event(type: QueueEventType, data: Record<string, unknown>): NewQueueEvent {
    return { type, at: this.#now(), data };
  }

  /** A `job.*` event per id, with each job as it is now (ids no longer stored are skipped). */
  #jobEvents(ids: readonly string[], type: QueueEventType | ((job: StoredJob) => QueueEventType)): void {
    if (!ids.length) return;
    this.#emit(async () => {
      const events: NewQueueEvent[] = [];
      for (const id of ids) {
        const job = await this.#store.get(id);
        if (job) events.push(this.#event(typeof type === 'function' ? type(job) : type, { job: eventSummary(jobSummary(job)) }));
      }
      return events;
    });
  }

  #jobEvent(job: StoredJob, type: QueueEventType): void {
    const summary = eventSummary(jobSummary(job));
    this.#emit(() => [this.#event(type, { job: summary })]);
  }

  /** A job this process leased: `job.started`, and its summary kept for the finish. */
  #started(job: StoredJob): void {
    const summary = eventSummary(jobSummary(job));
    if (this.#leased.size >= MAX_LEASED) this.#leased.delete(this.#leased.keys().next().value!);
    this.#leased.set(job.job_id, summary);
    this.#metrics?.started(job);
    this.#emit(() => [this.#event('job.started', { job: summary })]);
  }

  /** The finish event of `jobId`: from the summary kept at lease time (as the store records a finish), else read. */
  #finished(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): void {
    this.#metrics?.finished(jobId, outcome, now);
    const leased = this.#leased.get(jobId);
    this.#leased.delete(jobId);
    if (!leased) {
      this.#jobEvents([jobId], finishedEventType(outcome.state));
      return this.#flowEvents([jobId], true);
    }
    if (leased.parent_id !== undefined || leased.flow) this.#flowEvents([jobId], true);
    const { cancel_requested: _asked, ...rest } = leased;
    const summary: JobSummary = {
      ...rest,
      state: outcome.state,
      finished_at: new Date(now).toISOString(),
      ...(workerId !== undefined ? { worker_id: workerId } : {}),
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    };
    this.#emit(() => [this.#event(finishedEventType(outcome.state), { job: summary })]);
  }

  /**
   * What a store changed besides the jobs `ids` themselves when they ended
   * or waited (fan-out): each parent's new state (resumed, still waiting
   * with one child fewer pending, or ended by a child), the children a
   * cascade cancelled, and a finally job just queued. `read`: look the jobs
   * up for their parents (the caller does not know them).
   */
  #flowEvents(ids: readonly string[], read: boolean): void {
    if (!ids.length) return;
    this.#emit(async () => {
      const events: NewQueueEvent[] = [];
      for (const id of ids) {
        const job = await this.#store.get(id);
        if (!job) continue;
        const parent = job.parent_id !== undefined ? await this.#store.get(job.parent_id) : read && job.flow ? job : undefined;
        if (!parent?.flow) continue;
        if (parent !== job) events.push(this.#event(parentEventType(parent), { job: eventSummary(jobSummary(parent)) }));
        if (parent.state === 'failed' || parent.state === 'cancelled') events.push(...(await this.#cascadeEvents(parent)));
      }
      return events;
    });
  }

  /** After parent `parent` ended: its children cancelled by the cascade and its finally job, each announced once. */
  async #cascadeEvents(parent: StoredJob): Promise<NewQueueEvent[]> {
    const events: NewQueueEvent[] = [];
    const finallyId = parent.flow?.finally_id;
    for (const child of await this.#store.children(parent.job_id)) {
      const key = `${child.job_id}:${child.state}:${child.cancel_requested ? 1 : 0}`;
      const news =
        (child.job_id === finallyId && child.state === 'queued') ||
        (child.state === 'cancelled' && child.reason?.startsWith('parent ')) ||
        (child.state === 'running' && child.cancel_requested);
      if (!news || this.#announced.has(key)) continue;
      if (this.#announced.size >= MAX_FINALLY) this.#announced.delete(this.#announced.values().next().value!);
      this.#announced.add(key);
      const type: QueueEventType = child.state === 'queued' ? 'job.submitted' : child.state === 'cancelled' ? 'job.cancelled' : 'job.cancel_requested';
      events.push(this.#event(type, { job: eventSummary(jobSummary(child)) }));
    }
    return events;
  }

  async submit(job: NewJob): Promise<StoredJob> {
    const stored = await this.#store.submit(job);
    this.#jobEvent(stored, 'job.submitted');
    this.#metrics?.submitted();
    return stored;
  }

  async lease(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<StoredJob | undefined> {
    const job = await this.#store.lease(workerId, leaseMs, now, options);
    if (job) this.#started(job);
    return job;
  }

  async poll(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<PollResult> {
    const result = await this.#store.poll(workerId, leaseMs, now, options);
    if (result.job) this.#started(result.job);
    return result;
  }

  async renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
    return this.#store.renew(jobId, workerId, leaseMs, now);
  }

  async finish(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): Promise<FinishResult> {
    const result = await this.#store.finish(jobId, workerId, outcome, now);
    if (result === 'ok') this.#finished(jobId, workerId, outcome, now);
    return result;
  }

  async finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number, options?: LeaseOptions): Promise<FinishAndPollResult> {
    const result = await this.#store.finishAndPoll(jobId, workerId, outcome, now, leaseMs, options);
    if (result.result === 'ok') this.#finished(jobId, workerId, outcome, now);
    if (result.job) this.#started(result.job);
    return result;
  }

  async release(jobId: string, workerId: string | undefined, now: number): Promise<FinishResult> {
    const result = await this.#store.release(jobId, workerId, now);
    this.#leased.delete(jobId);
    if (result === 'ok') this.#jobEvents([jobId], 'job.requeued');
    if (result === 'ok') this.#metrics?.released(jobId);
    return result;
  }

  async expireLeases(now: number, maxAttempts: number): Promise<{ requeued: string[]; failed: string[] }> {
    const result = await this.#store.expireLeases(now, maxAttempts);
    for (const id of [...result.requeued, ...result.failed]) this.#leased.delete(id);
    this.#metrics?.expired(result.requeued, result.failed);
    this.#jobEvents(result.requeued, 'job.requeued');
    this.#jobEvents(result.failed, (job) => (job.state === 'cancelled' ? 'job.cancelled' : 'job.failed'));
    this.#flowEvents(result.failed, true);
    return result;
  }

  async cancel(jobId: string, now: number): Promise<CancelResult> {
    const result = await this.#store.cancel(jobId, now);
    if (result === 'cancelled') {
      this.#metrics?.cancelled(jobId);
      this.#jobEvents([jobId], 'job.cancelled');
      this.#flowEvents([jobId], true);
    } else if (result === 'requested') this.#jobEvents([jobId], 'job.cancel_requested');
    return result;
  }

  get(jobId: string): Promise<StoredJob | undefined> {
    return this.#store.get(jobId);
  }

  async waitForChildren(jobId: string, workerId: string | undefined, wait: WaitForChildren, now: number): Promise<FinishResult> {
    const result = await this.#store.waitForChildren(jobId, workerId, wait, now);
    if (result !== 'ok') return result;
    this.#leased.delete(jobId);
    this.#metrics?.waited(jobId, wait.children.length);
    this.#jobEvents([jobId], parentEventType);
    this.#jobEvents(
      wait.children.map((child) => child.job_id),
      'job.submitted',
    );
    return result;
  }

  childResults(parentId: string): Promise<ChildResult[]> {
    return this.#store.childResults(parentId);
  }

  children(parentId: string): Promise<StoredJob[]> {
    return this.#store.children(parentId);
  }

  list(options: JobFilter & { limit: number; cursor?: string }): Promise<JobPage> {
    return this.#store.list(options);
  }

  counts(finishedSince: number): Promise<JobCounts> {
    return this.#store.counts(finishedSince);
  }

  async setPriority(jobId: string, priority: number): Promise<PriorityResult> {
    const result = await this.#store.setPriority(jobId, priority);
    if (result === 'ok') this.#jobEvents([jobId], 'job.priority');
    return result;
  }

  async retry(jobId: string, job: NewJob & { retry_of: string }): Promise<StoredJob> {
    const stored = await this.#store.retry(jobId, job);
    this.#jobEvent(stored, 'job.submitted');
    this.#metrics?.submitted();
    this.#jobEvents([jobId], 'job.retried');
    return stored;
  }

  queuedDocuments(options: { limit: number; cursor?: string }): Promise<DocumentPage> {
    return this.#store.queuedDocuments(options);
  }

  queueLength(): Promise<number> {
    return this.#store.queueLength();
  }

  purge(state: Exclude<JobState, 'queued' | 'running' | 'waiting-children'>, rule: PurgeRule, batch: number): Promise<number> {
    return this.#store.purge(state, rule, batch);
  }

  async remove(jobId: string): Promise<boolean> {
    const removed = await this.#store.remove(jobId);
    if (removed) this.#emit(() => [this.#event('job.removed', { job: { job_id: jobId } })]);
    return removed;
  }

  async clear(): Promise<void> {
    await this.#store.clear();
    this.#emit(() => [this.#event('queue.cleared', {})]);
  }

  queueAttributes(): Promise<{ disabled: boolean } & Record<string, unknown>> {
    return this.#store.queueAttributes();
  }

  async setQueueAttributes(patch: Record<string, unknown>): Promise<{ disabled: boolean } & Record<string, unknown>> {
    const attributes = await this.#store.setQueueAttributes(patch);
    this.#emit(() => [this.#event('queue.attributes', { attributes })]);
    return attributes;
  }

  async heartbeat(workerId: string, status: Record<string, unknown>, now: number, expiryMs: number): Promise<WorkerRecord> {
    const record = await this.#store.heartbeat(workerId, status, now, expiryMs);
    const key = heartbeatKey(status);
    const last = this.#lastBeat.get(workerId);
    if (!last || last.key !== key || now - last.at >= this.#refreshMs) {
      this.#lastBeat.set(workerId, { key, at: now });
      const worker = {
        worker_id: workerId,
        online: true,
        last_seen: new Date(record.last_seen || now).toISOString(),
        status: record.status,
        attributes: record.attributes,
      };
      this.#emit(() => [this.#event('worker.heartbeat', { worker })]);
    }
    return record;
  }

  worker(workerId: string, now: number): Promise<WorkerRecord> {
    return this.#store.worker(workerId, now);
  }

  workers(now: number): Promise<WorkerRecord[]> {
    return this.#store.workers(now);
  }

  async removeWorker(workerId: string): Promise<boolean> {
    const removed = await this.#store.removeWorker(workerId);
    this.#lastBeat.delete(workerId);
    if (removed) this.#emit(() => [this.#event('worker.removed', { worker_id: workerId })]);
    return removed;
  }

  async setWorkerAttributes(workerId: string, patch: Record<string, unknown>): Promise<WorkerRecord['attributes']> {
    const attributes = await this.#store.setWorkerAttributes(workerId, patch);
    this.#emit(() => [this.#event('worker.attributes', { worker_id: workerId, attributes })]);
    return attributes;
  }

  getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    return this.#store.getData(module, name);
  }

  async putData(module: string, name: string, record: Record<string, unknown>): Promise<void> {
    await this.#store.putData(module, name, record);
    this.#emit(() => [this.#event('data.changed', { module, name, deleted: false })]);
  }

  async deleteData(module: string, name: string): Promise<boolean> {
    const deleted = await this.#store.deleteData(module, name);
    if (deleted) this.#emit(() => [this.#event('data.changed', { module, name, deleted: true })]);
    return deleted;
  }

  listData(module: string): Promise<string[]> {
    return this.#store.listData(module);
  }

  /** Append what is pending, then close the store. */
  async close(): Promise<void> {
    await this.flush();
    await this.#store.close();
  }

  unavailable(): string | undefined {
    return this.#store.unavailable?.();
  }

  onReconnect(listener: () => void): () => void {
    return this.#store.onReconnect?.(listener) ?? (() => undefined);
  }

  async setLeaseGrace(until: number): Promise<void> {
    await this.#store.setLeaseGrace?.(until);
  }

  onJobsAvailable(listener: (everyone: boolean) => void): () => void {
    return this.#store.onJobsAvailable?.(listener) ?? (() => undefined);
  }
}

/** `store` with its changes appended to its event log (see {@link EventedQueueStore}); a store already wrapped is returned as it is. */
export function withQueueEvents(store: QueueStore, options: QueueEventsOptions = {}): EventedQueueStore {
  return store instanceof EventedQueueStore ? store : new EventedQueueStore(store, options);
}
