import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { ConfigError, ErrorCodes } from '@sisyphus/core';
import { missingPackageOf } from '@sisyphus/core/config';
import { normaliseAttributes, type Attributes } from './attributes.js';
import { decodeCursor, encodeCursor, pageSize } from './list-paging.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SqliteFlows } from './sqlite-flows.js';
import { SqliteWebhooks } from './sqlite-webhooks.js';
import { SqliteWatchStore } from './sqlite-watch.js';
import { SqliteQueueMetrics } from './sqlite-queue-metrics.js';
// The parts are typed by their contracts: their SQLite classes' types name better-sqlite3's, which users of the package's declarations do not install.
import type { WebhookStore } from './webhook-store.js';
import type { WatchStore } from './watch-store.js';
import type { QueueMetricsStore } from './queue-metrics.js';
import { SqliteRequirements } from './sqlite-requirements.js';
import { preparedStatements } from './sqlite-statements.js';
import { iso, toJob, type JobRow } from './sqlite-job-row.js';
import type { QueueEventLog } from './queue-store.js';
import { NEWEST_KEY, foldTitle, migrate } from './sqlite-schema.js';
import { StoreError, jobExists, jobNotFound } from './store-error.js';
import { compareWorkers } from './worker-order.js';
import { workerRecord } from './worker-presence.js';
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
  JobState,
  LeaseOptions,
  NewJob,
  PollResult,
  PriorityResult,
  PurgeRule,
  QueueStore,
  StoredJob,
  WaitForChildren,
  WorkerRecord,
} from './queue-store.js';

interface WorkerRow {
  worker_id: string;
  status: string | null;
  last_seen: number | null;
  expires_at: number | null;
  attributes: string | null;
}

/** Cursor fields of queue order (priority, seq) and of newest-first order (sort key, job id). */
const QUEUE_CURSOR = { p: 'number', s: 'number' } as const;
const NEWEST_CURSOR = { k: 'string', id: 'string' } as const;

/** The epoch ms range whose ISO text has a four-digit year (0000-01-01 to 9999-12-31). */
const ISO_MIN = -62_167_219_200_000;
const ISO_MAX = 253_402_300_799_999;

/** SQL terms (ANDed) and their parameters. */
interface FilterSql {
  terms: string[];
  params: unknown[];
}

const NO_FILTER: FilterSql = { terms: [], params: [] };

/**
 * The terms of a {@link JobFilter} besides its state. Times compare as ISO
 * text, as stored (`toISOString()`: fixed width, so text order is time order).
 * The title is a plain substring of the folded title (`instr`, no wildcards),
 * checked on the listing indexes, which carry the folded title.
 */
function filterSql(filter: JobFilter): FilterSql {
  const terms: string[] = [];
  const params: unknown[] = [];
  if (filter.title !== undefined && filter.title !== '') {
    terms.push('instr(title_folded, ?) > 0');
    params.push(foldTitle(filter.title));
  }
  if (filter.workerId !== undefined) {
    terms.push('worker_id = ?');
    params.push(filter.workerId);
  }
  // Outside years 0 to 9999 ISO text is signed and six digits wide, and text order is not time order.
  if (filter.since !== undefined && filter.since > ISO_MIN) {
    terms.push(`${NEWEST_KEY} >= ?`);
    params.push(iso(Math.min(filter.since, ISO_MAX)));
  }
  if (filter.until !== undefined && filter.until <= ISO_MAX) {
    terms.push(`${NEWEST_KEY} < ?`);
    params.push(iso(Math.max(filter.until, ISO_MIN)));
  }
  return { terms, params };
}

/**
 * better-sqlite3, loaded when a SQLite store is opened. It is an optional peer of this package: a
 * native module that installs using only Redis (a worker on the redis transport, a Redis-backed
 * server) would compile for nothing.
 */
function loadDriver(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch (error) {
    if (missingPackageOf(error) !== 'better-sqlite3') throw error;
    throw new ConfigError(
      'the embedded SQLite store needs the better-sqlite3 package, which is not installed: npm install better-sqlite3 (or keep the queue in Redis: --store redis://HOST:PORT)',
      { code: ErrorCodes.PLUGIN_NOT_FOUND, cause: error },
    );
  }
}

/**
 * The embedded {@link QueueStore}: one SQLite file (or `':memory:'`) in WAL
 * mode, opened with better-sqlite3. Every state change is one transaction
 * (`BEGIN IMMEDIATE` where it reads before it writes), so several server
 * processes may share a file and `lease()` never hands a job out twice.
 * The event log is a table of the same file ({@link SqliteEventLog}); fan-out
 * (waiting parents, children ending, finally jobs) runs inside the same
 * transactions ({@link SqliteFlows}).
 * The schema migrates in place when an older file is opened (`sqlite-schema.ts`).
 */
export class SqliteStore implements QueueStore {
  private readonly db: Database.Database;

  /** The event log: the `events` table of the same file. */
  readonly events: QueueEventLog;
  readonly #eventLog: SqliteEventLog;
  /** Fan-out: waits, children ending, finally jobs (inside this store's transactions). */
  readonly #flows: SqliteFlows;
  /** Webhook cursors and deliveries, offline workers: tables of the same file ({@link SqliteWebhooks}). */
  readonly webhooks: WebhookStore;
  /** Watch folder rules, file states, outputs and scanner leases: tables of the same file ({@link SqliteWatchStore}). */
  readonly watch: WatchStore;
  /** The metrics' totals: a table of the same file ({@link SqliteQueueMetrics}). */
  readonly metrics: QueueMetricsStore;
  readonly #requirements: SqliteRequirements;

  /**
   * Open (creating and migrating when needed) the store at `path`; `':memory:'` gives a private
   * in-memory store. Throws `SIS_PLUGIN_NOT_FOUND` when better-sqlite3 is not installed.
   */
  static open(path: string): SqliteStore {
    const Driver = loadDriver();
    return new SqliteStore(new Driver(path));
  }

  private constructor(db: Database.Database) {
    this.db = db;
    this.stmt = preparedStatements(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
    this.#eventLog = new SqliteEventLog(db);
    this.events = this.#eventLog;
    this.webhooks = new SqliteWebhooks(db);
    this.watch = new SqliteWatchStore(db);
    this.metrics = new SqliteQueueMetrics(db);
    this.#requirements = new SqliteRequirements({ stmt: (sql) => this.stmt(sql) });
    this.#flows = new SqliteFlows({
      stmt: (sql) => this.stmt(sql),
      row: (jobId) => this.row(jobId),
      insertChild: (job, parentId) => void this.#insert(job, null, parentId),
    });
  }

  // ---- statements (prepared lazily, once) ----

  private readonly stmt: (sql: string) => Database.Statement;

  private row(jobId: string): JobRow | undefined {
    return this.stmt('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as JobRow | undefined;
  }

  private immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- jobs ----

  async submit(job: NewJob): Promise<StoredJob> {
    return this.immediate(() => this.#insert(job, null));
  }

  /** Queue `job` (inside a transaction); `SIS_JOB_EXISTS` when its id is taken. */
  #insert(job: NewJob, retryOf: string | null, parentId: string | null = null): StoredJob {
    const { seq } = this.stmt(`SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM jobs`).get() as { seq: number };
    try {
      this.stmt(
        `INSERT INTO jobs (job_id, job_title, title_folded, job, state, priority, seq, submit_seq, added, attempts, retry_of, parent_id, requires_id, requires)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
      ).run(
        job.job_id, job.job_title, foldTitle(job.job_title), JSON.stringify(job.job), job.priority, seq, seq, job.added, retryOf, parentId,
        job.requires ? this.#requirements.idOf(job.requires) : null,
        job.requires ? JSON.stringify(job.requires) : null,
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw jobExists(job.job_id);
      throw error;
    }
    return toJob(this.row(job.job_id)!);
  }

  async lease(workerId: string, leaseMs: number, now: number, options: LeaseOptions = {}): Promise<StoredJob | undefined> {
    return this.immediate(() => this.#leaseNext(workerId, leaseMs, now, options));
  }

  async poll(workerId: string, leaseMs: number, now: number, options: LeaseOptions = {}): Promise<PollResult> {
    return this.immediate(() => this.#pollNow(workerId, leaseMs, now, options));
  }

  async finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number, options: LeaseOptions = {}): Promise<FinishAndPollResult> {
    return this.immediate(() => {
      const result = this.#finishNow(jobId, workerId, outcome, now);
      return result === 'ok' ? { result, ...this.#pollNow(workerId, leaseMs, now, options) } : { result };
    });
  }

  /** {@link poll} inside a transaction. */
  #pollNow(workerId: string, leaseMs: number, now: number, options: LeaseOptions): PollResult {
    if (this.attributes('queue', '').disabled) return { blocked: 'queue' };
    if (workerId !== '' && this.attributes('worker', workerId).disabled) return { blocked: 'worker' };
    const job = this.#leaseNext(workerId, leaseMs, now, options);
    return job ? { job } : {};
  }

  /** {@link lease} inside a transaction: the next job among those the worker can run (see `SqliteRequirements`). */
  #leaseNext(workerId: string, leaseMs: number, now: number, options: LeaseOptions): StoredJob | undefined {
    const jobId = this.#requirements.next(options.capabilities);
    if (jobId === undefined) return undefined;
    const next = { job_id: jobId };
    // An empty worker id is an anonymous poll (original client): the job is held by no one in particular.
    this.stmt(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, worker_id = ?, lease_expires = ?,
         started_at = ?, finished_at = NULL, cancel_requested = 0
       WHERE job_id = ?`,
    ).run(workerId === '' ? null : workerId, now + leaseMs, iso(now), next.job_id);
    return toJob(this.row(next.job_id)!);
  }

  async renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
    // A requeued job not leased again is still its last holder's: its renewal takes it back (running again).
    const { changes } = this.stmt(
      `UPDATE jobs SET lease_expires = ?, worker_id = COALESCE(worker_id, ?), state = 'running'
       WHERE job_id = ? AND (
         (state = 'running' AND (worker_id IS NULL OR worker_id = ?))
         OR (state = 'queued' AND worker_id = ? AND ? <> ''))`,
    ).run(now + leaseMs, workerId === '' ? null : workerId, jobId, workerId, workerId, workerId);
    return changes > 0;
  }

  /**
   * Is `jobId` running and held by `workerId` (any holder when none is
   * named; an anonymous lease is anyone's)? A requeued job not leased again
   * is still its last holder's.
   */
  #holds(jobId: string, workerId: string | undefined): FinishResult {
    const row = this.row(jobId);
    if (!row) return 'not-found';
    if (row.state === 'queued' && workerId !== undefined && workerId !== '' && row.worker_id === workerId) return 'ok';
    if (row.state !== 'running') return 'lease-lost';
    if (workerId !== undefined && workerId !== '' && row.worker_id !== null && row.worker_id !== workerId) return 'lease-lost';
    return 'ok';
  }

  /** Given back by the worker: nobody's any more (no last holder whose report would still count). */
  async release(jobId: string, workerId: string | undefined, _now: number): Promise<FinishResult> {
    return this.immediate(() => {
      const held = this.#holds(jobId, workerId);
      if (held !== 'ok') return held;
      this.stmt(
        `UPDATE jobs SET state = 'queued', lease_expires = NULL, cancel_requested = 0, worker_id = NULL,
           seq = (SELECT MIN(seq) - 1 FROM jobs)
         WHERE job_id = ?`,
      ).run(jobId);
      return 'ok';
    });
  }

  async finish(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): Promise<FinishResult> {
    return this.immediate(() => this.#finishNow(jobId, workerId, outcome, now));
  }

  /** {@link finish} inside a transaction. */
  #finishNow(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): FinishResult {
    const held = this.#holds(jobId, workerId);
    if (held !== 'ok') return held;
    this.stmt(
      `UPDATE jobs SET state = ?, result = ?, reason = ?, finished_at = ?, lease_expires = NULL,
         worker_id = COALESCE(worker_id, ?)
       WHERE job_id = ?`,
    ).run(
      outcome.state,
      outcome.result === undefined ? null : JSON.stringify(outcome.result),
      outcome.reason ?? null,
      iso(now),
      workerId === undefined || workerId === '' ? null : workerId,
      jobId,
    );
    this.#flows.ended(jobId, now);
    return 'ok';
  }

  async expireLeases(now: number, maxAttempts: number): Promise<{ requeued: string[]; failed: string[] }> {
    return this.immediate(() => {
      // Newest first, so that each requeue (to the very head) leaves the oldest expired job in front.
      const expired = this.stmt(
        `SELECT job_id, attempts, cancel_requested FROM jobs
         WHERE state = 'running' AND lease_expires IS NOT NULL AND lease_expires < ?
         ORDER BY seq DESC`,
      ).all(now) as Array<{ job_id: string; attempts: number; cancel_requested: number }>;
      const requeued: string[] = [];
      const failed: string[] = [];
      const end = this.stmt(
        `UPDATE jobs SET state = ?, reason = ?, finished_at = ?, lease_expires = NULL WHERE job_id = ?`,
      );
      const requeue = this.stmt(
        `UPDATE jobs SET state = 'queued', lease_expires = NULL,
           seq = (SELECT MIN(seq) - 1 FROM jobs)
         WHERE job_id = ?`,
      );
      for (const job of expired) {
        // Read again: ending an earlier one may have asked this one (a child of the same parent) to cancel.
        job.cancel_requested = (this.stmt(`SELECT cancel_requested FROM jobs WHERE job_id = ?`).get(job.job_id) as { cancel_requested: number }).cancel_requested;
        if (job.cancel_requested) {
          // Cancel was asked for and the worker is gone: never run it again.
          end.run('cancelled', `cancel requested; lease expired after ${job.attempts} attempt(s)`, iso(now), job.job_id);
          this.#flows.ended(job.job_id, now);
          failed.push(job.job_id);
        } else if (job.attempts >= maxAttempts) {
          end.run('failed', `lease expired ${job.attempts} times (max attempts ${maxAttempts})`, iso(now), job.job_id);
          this.#flows.ended(job.job_id, now);
          failed.push(job.job_id);
        } else {
          requeue.run(job.job_id);
          requeued.push(job.job_id);
        }
      }
      return { requeued: requeued.reverse(), failed: failed.reverse() };
    });
  }

  async cancel(jobId: string, now: number): Promise<CancelResult> {
    return this.immediate(() => {
      const row = this.row(jobId);
      if (!row) return 'not-found';
      switch (row.state) {
        case 'queued':
          this.stmt(
            `UPDATE jobs SET state = 'cancelled', finished_at = ?, reason = 'cancelled while queued' WHERE job_id = ?`,
          ).run(iso(now), jobId);
          this.#flows.ended(jobId, now);
          return 'cancelled';
        case 'waiting-children':
          this.#flows.cancelWaiting(jobId, now);
          return 'cancelled';
        case 'running':
          this.stmt(`UPDATE jobs SET cancel_requested = 1 WHERE job_id = ?`).run(jobId);
          return 'requested';
        default:
          return 'finished';
      }
    });
  }

  async get(jobId: string): Promise<StoredJob | undefined> {
    const row = this.row(jobId);
    return row ? toJob(row) : undefined;
  }

  /** Up to `limit` + 1 queued rows (`columns`) after the cursor, in queue order, that also match `filter` (SQL terms). */
  #queuedRows(columns: string, limit: number, cursor: string | undefined, filter: FilterSql = NO_FILTER): JobRow[] {
    const after = cursor ? decodeCursor(cursor, 'q', QUEUE_CURSOR) : undefined;
    const also = filter.terms.map((t) => ` AND ${t}`).join('');
    if (!after) {
      return this.stmt(`SELECT ${columns} FROM jobs WHERE state = 'queued'${also} ORDER BY priority DESC, seq ASC LIMIT ?`).all(...filter.params, limit + 1) as JobRow[];
    }
    // The rest of the cursor's priority, then the lower ones: two index seeks (the index orders priority
    // DESC and seq ASC, which no single range condition can follow), however deep the page.
    const same = this.stmt(
      `SELECT ${columns} FROM jobs WHERE state = 'queued' AND priority = ? AND seq > ?${also} ORDER BY seq ASC LIMIT ?`,
    ).all(after.p, after.s, ...filter.params, limit + 1) as JobRow[];
    if (same.length > limit) return same;
    const lower = this.stmt(
      `SELECT ${columns} FROM jobs WHERE state = 'queued' AND priority < ?${also} ORDER BY priority DESC, seq ASC LIMIT ?`,
    ).all(after.p, ...filter.params, limit + 1 - same.length) as JobRow[];
    return [...same, ...lower];
  }

  async list(options: JobFilter & { limit: number; cursor?: string }): Promise<JobPage> {
    const limit = pageSize(options.limit);
    const { state } = options;
    const filter = filterSql(options);
    let rows: JobRow[];
    let nextOf: (row: JobRow) => string;
    if (state === 'queued') {
      rows = this.#queuedRows('*', limit, options.cursor, filter);
      nextOf = (row) => encodeCursor('q', { p: row.priority, s: row.seq });
    } else {
      const after = options.cursor ? decodeCursor(options.cursor, 'n', NEWEST_CURSOR) : undefined;
      const where: string[] = [];
      const params: unknown[] = [];
      // `finished`: everything but the queue and what runs, walked on the newest-first index (an IN of three states would sort).
      if (state === 'finished') where.push(`state NOT IN ('queued', 'running', 'waiting-children')`);
      else if (state !== undefined) {
        where.push('state = ?');
        params.push(state);
      }
      where.push(...filter.terms);
      params.push(...filter.params);
      if (after) {
        // Spelled out (not a row value) so that SQLite seeks the index to the cursor instead of walking every newer row.
        where.push(`${NEWEST_KEY} <= ? AND (${NEWEST_KEY} < ? OR job_id < ?)`);
        params.push(after.k, after.k, after.id);
      }
      const sql =
        `SELECT *, ${NEWEST_KEY} AS sort_key FROM jobs` +
        (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY ${NEWEST_KEY} DESC, job_id DESC LIMIT ?`;
      rows = this.stmt(sql).all(...params, limit + 1) as JobRow[];
      nextOf = (row) => encodeCursor('n', { k: row.sort_key!, id: row.job_id });
    }
    const page: JobPage = { jobs: rows.slice(0, limit).map(toJob) };
    if (rows.length > limit) page.next = nextOf(rows[limit - 1]!);
    return page;
  }

  async counts(finishedSince: number): Promise<JobCounts> {
    // One read transaction: the six numbers are of one moment.
    return this.db.transaction((): JobCounts => {
      const counts: JobCounts = { queued: 0, running: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 };
      const rows = this.stmt(
        `SELECT state, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running', 'waiting-children') GROUP BY state
         UNION ALL
         SELECT state, COUNT(*) AS n FROM jobs WHERE state IN ('completed', 'failed', 'cancelled') AND finished_at >= ? GROUP BY state`,
      ).all(iso(Math.min(Math.max(finishedSince, ISO_MIN), ISO_MAX))) as Array<{ state: JobState; n: number }>;
      for (const row of rows) counts[row.state === 'waiting-children' ? 'waiting' : row.state] = row.n;
      return counts;
    })();
  }

  async setPriority(jobId: string, priority: number): Promise<PriorityResult> {
    return this.immediate((): PriorityResult => {
      const row = this.stmt(`SELECT state, priority FROM jobs WHERE job_id = ?`).get(jobId) as { state: JobState; priority: number } | undefined;
      if (!row) return 'not-found';
      if (row.state !== 'queued') return 'not-queued';
      if (row.priority === priority) return 'ok'; // stays where it is (a requeued job keeps its place at the head)
      // Among the new priority's jobs by submission order: back to the sequence number it was submitted with.
      this.stmt(`UPDATE jobs SET priority = ?, seq = COALESCE(submit_seq, seq) WHERE job_id = ?`).run(priority, jobId);
      return 'ok';
    });
  }

  async retry(jobId: string, job: NewJob & { retry_of: string }): Promise<StoredJob> {
    return this.immediate(() => {
      const old = this.row(jobId);
      if (!old) throw jobNotFound(jobId);
      if (old.parent_id !== null) {
        throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is a child of job ${old.parent_id}: retry its parent`, { details: { parent_id: old.parent_id } });
      }
      if (old.state !== 'failed' && old.state !== 'cancelled') {
        throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is ${old.state}: only failed or cancelled jobs can be retried`);
      }
      // A retry that is gone (removed from the queue, purged from history) no longer stands in the way.
      if (old.retried_as !== null && this.row(old.retried_as)) {
        throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} was retried already as ${old.retried_as}; retry ${old.retried_as} instead`, {
          details: { retried_as: old.retried_as },
        });
      }
      const stored = this.#insert(job, jobId);
      this.stmt(`UPDATE jobs SET retried_as = ? WHERE job_id = ?`).run(job.job_id, jobId);
      return stored;
    });
  }

  async queuedDocuments(options: { limit: number; cursor?: string }): Promise<DocumentPage> {
    const limit = pageSize(options.limit);
    // The stored document is the job document (submission wrote job_id, job_title and added into it).
    const rows = this.#queuedRows('job, priority, seq', limit, options.cursor);
    const page: DocumentPage = { documents: rows.slice(0, limit).map((row) => row.job) };
    const last = rows[limit - 1];
    if (rows.length > limit && last) page.next = encodeCursor('q', { p: last.priority, s: last.seq });
    return page;
  }

  async queueLength(): Promise<number> {
    return (this.stmt(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'`).get() as { n: number }).n;
  }

  async purge(state: 'completed' | 'failed' | 'cancelled', rule: PurgeRule, batch: number): Promise<number> {
    // Oldest first: those finished before `before`, and those older than the newest `keep`.
    const ids = new Set<string>();
    if (rule.before !== undefined) {
      const rows = this.stmt(`SELECT job_id FROM jobs WHERE state = ? AND finished_at < ? ORDER BY finished_at, job_id LIMIT ?`).all(state, iso(rule.before), batch);
      for (const row of rows as Array<{ job_id: string }>) ids.add(row.job_id);
    }
    if (rule.keep !== undefined && ids.size < batch) {
      const excess = (this.stmt(`SELECT COUNT(*) AS n FROM jobs WHERE state = ?`).get(state) as { n: number }).n - rule.keep;
      if (excess > 0) {
        const rows = this.stmt(`SELECT job_id FROM jobs WHERE state = ? ORDER BY finished_at, job_id LIMIT ?`).all(state, Math.min(excess, batch));
        for (const row of rows as Array<{ job_id: string }>) if (ids.size < batch) ids.add(row.job_id);
      }
    }
    if (ids.size === 0) return 0;
    const remove = this.stmt(`DELETE FROM jobs WHERE job_id = ? AND state = ?`);
    return this.immediate(() =>
      [...ids].reduce((n, id) => {
        const { changes } = remove.run(id, state);
        // A parent's kept child results go with it.
        if (changes) this.#flows.forget(id);
        return n + changes;
      }, 0),
    );
  }

  async remove(jobId: string): Promise<boolean> {
    return this.immediate(() => {
      const row = this.stmt(`SELECT state, parent_id FROM jobs WHERE job_id = ?`).get(jobId) as Pick<JobRow, 'state' | 'parent_id'> | undefined;
      if (row?.state !== 'queued') return false;
      if (row.parent_id !== null) {
        throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is a child of job ${row.parent_id}: cancel its parent instead`, { details: { parent_id: row.parent_id } });
      }
      this.stmt(`DELETE FROM jobs WHERE job_id = ?`).run(jobId);
      this.#flows.forget(jobId);
      return true;
    });
  }

  async clear(): Promise<void> {
    // Children stay with their parents; a parent queued to resume goes with its kept child results.
    this.immediate(() => {
      this.stmt(
        `DELETE FROM job_children WHERE parent_id IN (SELECT job_id FROM jobs WHERE state = 'queued' AND parent_id IS NULL AND flow IS NOT NULL)`,
      ).run();
      this.stmt(`DELETE FROM jobs WHERE state = 'queued' AND parent_id IS NULL`).run();
    });
  }

  // ---- fan-out (flows) ----

  async waitForChildren(jobId: string, workerId: string | undefined, wait: WaitForChildren, now: number): Promise<FinishResult> {
    return this.immediate(() => {
      const held = this.#holds(jobId, workerId);
      if (held !== 'ok') return held;
      this.#flows.wait(this.row(jobId)!, wait, now);
      return 'ok';
    });
  }

  async childResults(parentId: string): Promise<ChildResult[]> {
    return this.db.transaction(() => this.#flows.childResults(parentId))();
  }

  async children(parentId: string): Promise<StoredJob[]> {
    return this.#flows.children(parentId);
  }

  // ---- attributes ----

  private attributes(scope: 'queue' | 'worker', id: string): Attributes {
    const row = this.stmt('SELECT attributes FROM attributes WHERE scope = ? AND id = ?').get(scope, id) as
      | { attributes: string }
      | undefined;
    return normaliseAttributes(row ? (JSON.parse(row.attributes) as Record<string, unknown>) : {});
  }

  private setAttributes(scope: 'queue' | 'worker', id: string, patch: Record<string, unknown>): Attributes {
    return this.immediate(() => {
      const merged = normaliseAttributes({ ...this.attributes(scope, id), ...patch });
      this.stmt(
        `INSERT INTO attributes (scope, id, attributes) VALUES (?, ?, ?)
         ON CONFLICT (scope, id) DO UPDATE SET attributes = excluded.attributes`,
      ).run(scope, id, JSON.stringify(merged));
      return merged;
    });
  }

  async queueAttributes(): Promise<Attributes> {
    return this.attributes('queue', '');
  }

  async setQueueAttributes(patch: Record<string, unknown>): Promise<Attributes> {
    return this.setAttributes('queue', '', patch);
  }

  // ---- workers ----

  private toWorker(row: WorkerRow, now: number): WorkerRecord {
    // Expiry is decided by workerRecord, as for every store.
    const beat =
      row.last_seen === null
        ? undefined
        : { status: row.status === null ? {} : (JSON.parse(row.status) as Record<string, unknown>), last_seen: row.last_seen, expires_at: row.expires_at ?? 0 };
    return workerRecord(row.worker_id, beat, row.attributes !== null ? (JSON.parse(row.attributes) as Record<string, unknown>) : {}, now);
  }

  async heartbeat(workerId: string, status: Record<string, unknown>, now: number, expiryMs: number): Promise<WorkerRecord> {
    this.stmt(
      `INSERT INTO workers (worker_id, status, last_seen, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (worker_id) DO UPDATE SET status = excluded.status, last_seen = excluded.last_seen,
         expires_at = excluded.expires_at`,
    ).run(workerId, JSON.stringify(status), now, now + expiryMs);
    return this.worker(workerId, now);
  }

  async worker(workerId: string, now: number): Promise<WorkerRecord> {
    const row = this.stmt(
      `SELECT ? AS worker_id, w.status, w.last_seen, w.expires_at,
         (SELECT attributes FROM attributes WHERE scope = 'worker' AND id = ?) AS attributes
       FROM (SELECT 1) LEFT JOIN workers w ON w.worker_id = ?`,
    ).get(workerId, workerId, workerId) as WorkerRow;
    return this.toWorker(row, now);
  }

  async workers(now: number): Promise<WorkerRecord[]> {
    const rows = this.stmt(
      `SELECT w.worker_id, w.status, w.last_seen, w.expires_at, a.attributes
         FROM workers w LEFT JOIN attributes a ON a.scope = 'worker' AND a.id = w.worker_id
        WHERE w.expires_at > ? OR a.id IS NOT NULL
       UNION ALL
       SELECT a.id, NULL, NULL, NULL, a.attributes
         FROM attributes a
        WHERE a.scope = 'worker' AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.worker_id = a.id)`,
    ).all(now) as WorkerRow[];
    return rows.map((row) => this.toWorker(row, now)).sort(compareWorkers);
  }

  async removeWorker(workerId: string): Promise<boolean> {
    return this.immediate(() => {
      const a = this.stmt(`DELETE FROM workers WHERE worker_id = ?`).run(workerId).changes;
      const b = this.stmt(`DELETE FROM attributes WHERE scope = 'worker' AND id = ?`).run(workerId).changes;
      return a + b > 0;
    });
  }

  async setWorkerAttributes(workerId: string, patch: Record<string, unknown>): Promise<WorkerRecord['attributes']> {
    return this.setAttributes('worker', workerId, patch);
  }

  // ---- module data ----

  async getData(module: string, name: string): Promise<Record<string, unknown> | undefined> {
    const row = this.stmt(`SELECT record FROM module_data WHERE module = ? AND name = ?`).get(module, name) as
      | { record: string }
      | undefined;
    return row ? (JSON.parse(row.record) as Record<string, unknown>) : undefined;
  }

  async putData(module: string, name: string, record: Record<string, unknown>): Promise<void> {
    this.stmt(
      `INSERT INTO module_data (module, name, record) VALUES (?, ?, ?)
       ON CONFLICT (module, name) DO UPDATE SET record = excluded.record`,
    ).run(module, name, JSON.stringify(record));
  }

  async deleteData(module: string, name: string): Promise<boolean> {
    return this.stmt(`DELETE FROM module_data WHERE module = ? AND name = ?`).run(module, name).changes > 0;
  }

  async listData(module: string): Promise<string[]> {
    return (this.stmt(`SELECT name FROM module_data WHERE module = ? ORDER BY name`).all(module) as Array<{ name: string }>).map(
      (r) => r.name,
    );
  }

  async close(): Promise<void> {
    this.#eventLog.close();
    if (this.db.open) {
      this.db.close();
    }
  }
}

/** Open the SQLite {@link QueueStore} at `path` (`':memory:'` for a private in-memory one). */
export function openSqliteStore(path: string): SqliteStore {
  return SqliteStore.open(path);
}
