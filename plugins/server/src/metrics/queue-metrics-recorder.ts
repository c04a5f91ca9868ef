import { ErrorCodes } from '@sisyphus/core';
import type { QueueMetricsStore } from '../store/queue-metrics.js';
import type { JobOutcome, QueueStore, StoredJob } from '../store/queue-store.js';
import { seriesKey, type Labels } from './metric-series.js';
import { MAX_SERIES_PER_METRIC, STORED_METRICS, type StoredMetric } from './queue-metric-definitions.js';

/**
 * Shortest time between two writes of one process (ms): what happens
 * meanwhile is added up and written as one `record` (a busy direct worker
 * writes ten times a second, not once per job).
 */
const BATCH_MS = 100;

/** Series keys a recorder remembers (see `QueueMetricsRecorder.#key`); beyond it they are made afresh. */
const MAX_KEYS = 10_000;

/** Jobs whose start this process remembers for their end (the oldest are forgotten beyond it). */
const MAX_STARTED = 50_000;

/** Our error codes (docs/errors.md): any other code a worker reports is counted as `other`. */
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** A module name fit for a label value; anything else is `other`. */
const MODULE_NAME = /^[\w@./:+-]{1,100}$/;

/** Longest `modules` label value; longer lists are `other`. */
const MAX_MODULES_LABEL = 200;

/** What a job's end needs of its start: when its last run started and each task's module (from the submitted document, not the worker's report). */
interface JobStart {
  startedAt: number;
  tasks: string[];
}

/** The {@link JobStart} of a stored job. */
function startOf(job: StoredJob): JobStart {
  const tasks = Array.isArray(job.job.tasks) ? (job.job.tasks as unknown[]) : [];
  return {
    startedAt: job.started_at !== undefined ? Date.parse(job.started_at) : Number.NaN,
    tasks: tasks.map((task) => moduleLabel((task as { module?: unknown } | null)?.module)),
  };
}

function moduleLabel(name: unknown): string {
  return typeof name === 'string' && MODULE_NAME.test(name) ? name : 'other';
}

/** The `modules` label: the distinct modules of a job's tasks in task order, joined with `,`. */
function modulesLabel(tasks: readonly string[]): string {
  const joined = [...new Set(tasks)].join(',');
  return !joined ? 'none' : joined.length > MAX_MODULES_LABEL ? 'other' : joined;
}

/** The labels of a failed job: the failed task's module and the error code its worker reported. */
function failureLabels(result: Record<string, unknown> | undefined, start: JobStart | undefined): { module: string; code: string } {
  if (!result) return { module: 'none', code: 'none' };
  const code = typeof result.code === 'string' ? (KNOWN_CODES.has(result.code) ? result.code : 'other') : 'none';
  const index = result.task_index;
  let module = 'none';
  if (typeof index === 'number' && start?.tasks[index] !== undefined) module = start.tasks[index]!;
  else if (result.module !== undefined) module = typeof result.module === 'string' && start?.tasks.includes(result.module) ? result.module : 'other';
  return { module, code };
}

/** A task of a worker's result record that ran: its index, status and time in seconds (all phases). */
function tasksRun(result: Record<string, unknown> | undefined): Array<{ index: number; status: string; seconds: number }> {
  const tasks = result?.tasks;
  if (!Array.isArray(tasks)) return [];
  const run: Array<{ index: number; status: string; seconds: number }> = [];
  for (const task of tasks as unknown[]) {
    const { index, status, durations } = (task ?? {}) as { index?: unknown; status?: unknown; durations?: unknown };
    if (typeof index !== 'number' || !Number.isInteger(index)) continue;
    if (status !== 'done' && status !== 'failed' && status !== 'cancelled') continue;
    if (typeof durations !== 'object' || durations === null) continue;
    const ms = Object.values(durations).reduce<number>((sum, d) => sum + (typeof d === 'number' && Number.isFinite(d) && d >= 0 ? d : 0), 0);
    run.push({ index, status, seconds: ms / 1000 });
  }
  return run;
}

/** Settings of {@link QueueMetricsRecorder}. */
export interface QueueMetricsRecorderOptions {
  /** A write (or a read of a job) failed; what it would have counted is lost, the queue goes on. */
  onError?: (error: unknown) => void;
}

/**
 * What one process did to the queue, as increments of the metrics kept in
 * the store ({@link STORED_METRICS}): `withQueueEvents` tells it of each
 * change it passes on (a job started, ended, requeued, ...). Recording never
 * delays or fails the change: increments are added up in memory and written
 * at most every {@link BATCH_MS} in one `record` call; a failed write is
 * reported to `onError` and dropped. A process that dies loses what it had
 * not written yet (at most a tenth of a second of work).
 *
 * Module labels come from the job's document as the server stored it (the
 * worker's report only says which task failed and how long each ran), and
 * each metric keeps at most {@link MAX_SERIES_PER_METRIC} label sets per
 * process: a report cannot blow up the number of series.
 */
export class QueueMetricsRecorder {
  readonly #store: QueueStore;
  readonly #metrics: QueueMetricsStore;
  readonly #onError: (error: unknown) => void;
  /** Increments not yet handed to a write. */
  #pending = new Map<string, number>();
  /** Settles when {@link #pending}'s write has (or failed). */
  #pendingWritten: Promise<void> | undefined;
  /** The write on its way (never rejects). */
  #writing: Promise<void> | undefined;
  #lastWrite = -Infinity;
  /** Reads of jobs this process did not lease (their end needs their document). */
  readonly #reads = new Set<Promise<void>>();
  readonly #started = new Map<string, JobStart>();
  /** Label sets recorded per metric (see {@link MAX_SERIES_PER_METRIC}). */
  readonly #series = new Map<string, Set<string>>();
  /**
   * Series keys made so far, by name and labels as given (see {@link #key}):
   * a busy direct worker records ten of them per job, and `seriesKey` sorts
   * and serialises each time.
   */
  readonly #keys = new Map<string, string>();

  /** `store` is read for the jobs whose start this process did not see; `metrics` is its metrics part. */
  constructor(store: QueueStore, metrics: QueueMetricsStore, options: QueueMetricsRecorderOptions = {}) {
    this.#store = store;
    this.#metrics = metrics;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** `count` jobs were queued (submitted, retried, or children of a job that waits). */
  submitted(count = 1): void {
    if (count > 0) this.#count(STORED_METRICS.submitted, {}, count);
  }

  /** Job `job` was leased by this process (its start is kept for its end). */
  started(job: StoredJob): void {
    if (this.#started.size >= MAX_STARTED) this.#started.delete(this.#started.keys().next().value!);
    this.#started.delete(job.job_id);
    this.#started.set(job.job_id, startOf(job));
  }

  /** A worker's report ended running job `jobId` at epoch ms `now`. */
  finished(jobId: string, outcome: JobOutcome, now: number): void {
    const start = this.#started.get(jobId);
    this.#started.delete(jobId);
    if (start) return this.#ended(outcome, start, now);
    // Leased through another process (another server on the same Redis): its record has the start.
    this.#later(async () => {
      const job = await this.#store.get(jobId);
      this.#ended(outcome, job ? startOf(job) : undefined, now);
    });
  }

  /** A job that was not running (queued, or waiting for its children) was cancelled. */
  cancelled(jobId: string): void {
    this.#started.delete(jobId);
    this.#count(STORED_METRICS.finished, { state: 'cancelled' });
  }

  /** Running job `jobId` was given back by its worker. */
  released(jobId: string): void {
    this.#started.delete(jobId);
    this.#count(STORED_METRICS.requeues, { reason: 'released' });
  }

  /** Running job `jobId` handed over `children` child jobs and waits for them (no longer running). */
  waited(jobId: string, children: number): void {
    this.#started.delete(jobId);
    this.submitted(children);
  }

  /** The lease sweep requeued `requeued` and ended `failed` (failed, or cancelled when a cancel was asked for). */
  expired(requeued: readonly string[], failed: readonly string[]): void {
    for (const id of [...requeued, ...failed]) this.#started.delete(id);
    if (requeued.length + failed.length) this.#count(STORED_METRICS.leaseExpiries, {}, requeued.length + failed.length);
    if (requeued.length) this.#count(STORED_METRICS.requeues, { reason: 'lease_expired' }, requeued.length);
    if (!failed.length) return;
    this.#later(async () => {
      for (const id of failed) {
        const state = (await this.#store.get(id))?.state === 'cancelled' ? 'cancelled' : 'failed';
        this.#count(STORED_METRICS.finished, { state });
        if (state === 'failed') this.#count(STORED_METRICS.failures, { module: 'none', code: 'none' });
      }
    });
  }

  /** Wait until what was recorded so far is written (or dropped); what comes in meanwhile may wait for the next write. */
  async flush(): Promise<void> {
    if (this.#reads.size) await Promise.all([...this.#reads]);
    await (this.#pendingWritten ?? this.#writing);
  }

  /** A job's end: its count, its failure, its duration and its tasks'. */
  #ended(outcome: JobOutcome, start: JobStart | undefined, now: number): void {
    const { state, result } = outcome;
    this.#count(STORED_METRICS.finished, { state });
    if (state === 'failed') this.#count(STORED_METRICS.failures, failureLabels(result, start));
    if (!start) return; // the record is gone: no module is known for sure
    const seconds = (now - start.startedAt) / 1000;
    if (Number.isFinite(seconds) && seconds >= 0) this.#observe(STORED_METRICS.jobDuration, { modules: modulesLabel(start.tasks), state }, seconds);
    for (const task of tasksRun(result)) {
      const module = start.tasks[task.index];
      if (module !== undefined) this.#observe(STORED_METRICS.taskDuration, { module, status: task.status }, task.seconds);
    }
  }

  /** `labels`, or with its open labels `other` once the metric has its share of label sets. */
  #labels(metric: StoredMetric, labels: Record<string, string>): Labels {
    if (!metric.open?.length) return labels;
    const key = this.#key('', labels);
    let seen = this.#series.get(metric.name);
    if (!seen) this.#series.set(metric.name, (seen = new Set()));
    if (seen.has(key)) return labels;
    if (seen.size < MAX_SERIES_PER_METRIC) {
      seen.add(key);
      return labels;
    }
    const capped = { ...labels };
    for (const name of metric.open) capped[name] = 'other';
    return capped;
  }

  #count(metric: StoredMetric, labels: Record<string, string>, by = 1): void {
    this.#add(this.#key(metric.name, this.#labels(metric, labels)), by);
  }

  /** `seriesKey(name, labels)`, remembered (bounded: label values are capped per metric, `le` by the buckets). */
  #key(name: string, labels: Labels, le?: string): string {
    let memo = name;
    for (const label in labels) memo += `\u0000${label}\u0000${labels[label]}`;
    if (le !== undefined) memo += `\u0001${le}`;
    let key = this.#keys.get(memo);
    if (key === undefined) {
      key = seriesKey(name, le === undefined ? labels : { ...labels, le });
      if (this.#keys.size >= MAX_KEYS) this.#keys.clear();
      this.#keys.set(memo, key);
    }
    return key;
  }

  /** One observation of a histogram: its bucket (not cumulative: the scrape adds them up), sum and count. */
  #observe(metric: StoredMetric, labels: Record<string, string>, value: number): void {
    const kept = this.#labels(metric, labels);
    const bound = metric.buckets?.find((upper) => value <= upper);
    this.#add(this.#key(`${metric.name}_bucket`, kept, bound === undefined ? '+Inf' : String(bound)), 1);
    this.#add(this.#key(`${metric.name}_sum`, kept), value);
    this.#add(this.#key(`${metric.name}_count`, kept), 1);
  }

  #add(key: string, value: number): void {
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + value);
    this.#pendingWritten ??= this.#writeSoon();
  }

  /** Write what is pending once the last write is done and {@link BATCH_MS} have passed since it began. */
  async #writeSoon(): Promise<void> {
    await this.#writing;
    const wait = BATCH_MS - (performance.now() - this.#lastWrite);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const batch = Object.fromEntries(this.#pending);
    this.#pending = new Map();
    this.#pendingWritten = undefined;
    this.#lastWrite = performance.now();
    const write = this.#metrics.record(batch).catch((error: unknown) => this.#onError(error));
    this.#writing = write;
    await write;
  }

  /** Run `work` (which reads the store) beside the queue; a failure is reported, never thrown. */
  #later(work: () => Promise<void>): void {
    const running: Promise<void> = work()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => this.#reads.delete(running));
    this.#reads.add(running);
  }
}
