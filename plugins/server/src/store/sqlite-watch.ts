import { preparedStatements } from './sqlite-statements.js';
import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor, pageSize } from './list-paging.js';
import type {
  WatchFileRecord,
  WatchFilePage,
  WatchOutcome,
  WatchOutputRecord,
  WatchRuleRecord,
  WatchScanStatus,
  WatchStore,
} from './watch-store.js';

/**
 * The watch tables, made when missing (`IF NOT EXISTS`: an optional part of
 * the file beside the versioned schema of `sqlite-schema.ts`, which it does
 * not change). `watch_rules`: rules put through the API (JSON);
 * `watch_status`: each rule's last scan (JSON); `watch_files`: per rule and
 * path the version last submitted and how its job went; `watch_outputs`:
 * files jobs write into watched folders; `watch_leases`: one scanner per rule.
 */
const TABLES = `
  CREATE TABLE IF NOT EXISTS watch_rules (
    name       TEXT PRIMARY KEY,
    rule       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS watch_status (
    name   TEXT PRIMARY KEY,
    status TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS watch_files (
    rule        TEXT NOT NULL,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ms    REAL NOT NULL,
    fingerprint TEXT NOT NULL,
    job_id      TEXT,
    outcome     TEXT NOT NULL,
    written     INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    failures    INTEGER NOT NULL DEFAULT 0,
    attention   INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (rule, path)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS watch_files_open_job ON watch_files (job_id) WHERE outcome IN ('submitting', 'pending');
  CREATE INDEX IF NOT EXISTS watch_files_attention ON watch_files (rule, path) WHERE attention = 1;
  CREATE TABLE IF NOT EXISTS watch_outputs (
    path        TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL,
    size        INTEGER,
    mtime_ms    REAL,
    fingerprint TEXT,
    at          INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS watch_outputs_pending ON watch_outputs (job_id) WHERE size IS NULL;
  CREATE TABLE IF NOT EXISTS watch_leases (
    rule       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
`;

interface FileRow {
  rule: string;
  path: string;
  size: number;
  mtime_ms: number;
  fingerprint: string;
  job_id: string | null;
  outcome: WatchOutcome;
  written: number;
  error: string | null;
  failures: number;
  attention: number;
  updated_at: number;
}

interface OutputRow {
  path: string;
  job_id: string;
  size: number | null;
  mtime_ms: number | null;
  fingerprint: string | null;
  at: number;
}

const toFile = (row: FileRow): WatchFileRecord => ({
  rule: row.rule,
  path: row.path,
  size: row.size,
  mtime_ms: row.mtime_ms,
  fingerprint: row.fingerprint,
  ...(row.job_id !== null ? { job_id: row.job_id } : {}),
  outcome: row.outcome,
  ...(row.written ? { written: true } : {}),
  ...(row.error !== null ? { error: row.error } : {}),
  failures: row.failures,
  attention: row.attention === 1,
  updated_at: row.updated_at,
});

const toOutput = (row: OutputRow): WatchOutputRecord => ({
  path: row.path,
  job_id: row.job_id,
  ...(row.size !== null ? { size: row.size } : {}),
  ...(row.mtime_ms !== null ? { mtime_ms: row.mtime_ms } : {}),
  ...(row.fingerprint !== null ? { fingerprint: row.fingerprint } : {}),
  at: row.at,
});

/** Cursor of the attention listing: the last path handed out. */
const ATTENTION_CURSOR = { p: 'string' } as const;

/** SQLite's default limit of bound parameters is 32766; batches stay well below it. */
const IN_CHUNK = 400;

/** `items` in slices of at most `size`. */
function* chunks<T>(items: readonly T[], size: number): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** The {@link WatchStore} of a SQLite store: tables of the same file. */
export class SqliteWatchStore implements WatchStore {
  readonly #db: Database.Database;
  readonly #stmt: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = preparedStatements(db);
    db.exec(TABLES);
  }

  // ---- rules and scan status ----

  async rules(): Promise<WatchRuleRecord[]> {
    const rows = this.#stmt('SELECT name, rule, updated_at FROM watch_rules ORDER BY name').all() as Array<{ name: string; rule: string; updated_at: number }>;
    return rows.map((r) => ({ name: r.name, rule: JSON.parse(r.rule) as Record<string, unknown>, updated_at: r.updated_at }));
  }

  async putRule(record: WatchRuleRecord): Promise<void> {
    this.#stmt('INSERT INTO watch_rules (name, rule, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at').run(
      record.name,
      JSON.stringify(record.rule),
      record.updated_at,
    );
  }

  async deleteRule(name: string): Promise<boolean> {
    return this.#stmt('DELETE FROM watch_rules WHERE name = ?').run(name).changes > 0;
  }

  async scanStatuses(): Promise<Record<string, WatchScanStatus>> {
    const rows = this.#stmt('SELECT name, status FROM watch_status').all() as Array<{ name: string; status: string }>;
    return Object.fromEntries(rows.map((r) => [r.name, JSON.parse(r.status) as WatchScanStatus]));
  }

  async putScanStatus(rule: string, status: WatchScanStatus): Promise<void> {
    this.#stmt('INSERT INTO watch_status (name, status) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET status = excluded.status').run(rule, JSON.stringify(status));
  }

  // ---- files ----

  async files(rule: string, paths: readonly string[]): Promise<Map<string, WatchFileRecord>> {
    const out = new Map<string, WatchFileRecord>();
    for (const part of chunks(paths, IN_CHUNK)) {
      const rows = this.#stmt(`SELECT * FROM watch_files WHERE rule = ? AND path IN (${part.map(() => '?').join(',')})`).all(rule, ...part) as FileRow[];
      for (const row of rows) out.set(row.path, toFile(row));
    }
    return out;
  }

  async putFiles(records: readonly WatchFileRecord[]): Promise<void> {
    const insert = this.#stmt(
      `INSERT OR REPLACE INTO watch_files (rule, path, size, mtime_ms, fingerprint, job_id, outcome, written, error, failures, attention, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#db.transaction(() => {
      for (const r of records) {
        insert.run(r.rule, r.path, r.size, r.mtime_ms, r.fingerprint, r.job_id ?? null, r.outcome, r.written ? 1 : 0, r.error ?? null, r.failures, r.attention ? 1 : 0, r.updated_at);
      }
    })();
  }

  async fileOfJob(jobId: string): Promise<WatchFileRecord | undefined> {
    const row = this.#stmt(`SELECT * FROM watch_files WHERE job_id = ? AND outcome IN ('submitting', 'pending') LIMIT 1`).get(jobId) as FileRow | undefined;
    return row ? toFile(row) : undefined;
  }

  async attention(rule: string, options: { limit: number; cursor?: string }): Promise<WatchFilePage> {
    const limit = pageSize(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, 'watch-attention', ATTENTION_CURSOR).p;
    const rows = (
      after === undefined
        ? this.#stmt('SELECT * FROM watch_files WHERE rule = ? AND attention = 1 ORDER BY path LIMIT ?').all(rule, limit + 1)
        : this.#stmt('SELECT * FROM watch_files WHERE rule = ? AND attention = 1 AND path > ? ORDER BY path LIMIT ?').all(rule, after, limit + 1)
    ) as FileRow[];
    const files = rows.slice(0, limit).map(toFile);
    return rows.length > limit ? { files, next: encodeCursor('watch-attention', { p: files[files.length - 1]!.path }) } : { files };
  }

  async attentionCount(rule: string): Promise<number> {
    return (this.#stmt('SELECT COUNT(*) AS n FROM watch_files WHERE rule = ? AND attention = 1').get(rule) as { n: number }).n;
  }

  async forgetFile(rule: string, path: string): Promise<boolean> {
    return this.#stmt('DELETE FROM watch_files WHERE rule = ? AND path = ?').run(rule, path).changes > 0;
  }

  // ---- outputs ----

  async outputs(paths: readonly string[]): Promise<Map<string, WatchOutputRecord>> {
    const out = new Map<string, WatchOutputRecord>();
    for (const part of chunks(paths, IN_CHUNK)) {
      const rows = this.#stmt(`SELECT * FROM watch_outputs WHERE path IN (${part.map(() => '?').join(',')})`).all(...part) as OutputRow[];
      for (const row of rows) out.set(row.path, toOutput(row));
    }
    return out;
  }

  async putOutputs(records: readonly WatchOutputRecord[]): Promise<void> {
    const insert = this.#stmt('INSERT OR REPLACE INTO watch_outputs (path, job_id, size, mtime_ms, fingerprint, at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const r of records) insert.run(r.path, r.job_id, r.size ?? null, r.mtime_ms ?? null, r.fingerprint ?? null, r.at);
    })();
  }

  async pendingOutputsOf(jobId: string): Promise<WatchOutputRecord[]> {
    return (this.#stmt('SELECT * FROM watch_outputs WHERE job_id = ? AND size IS NULL ORDER BY path').all(jobId) as OutputRow[]).map(toOutput);
  }

  async deleteOutputs(paths: readonly string[]): Promise<void> {
    const remove = this.#stmt('DELETE FROM watch_outputs WHERE path = ?');
    this.#db.transaction(() => {
      for (const path of paths) remove.run(path);
    })();
  }

  // ---- scanner lease ----

  async lease(rule: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    // One statement: taken when free, expired or already ours (several servers may share the file).
    const changes = this.#stmt(
      `INSERT INTO watch_leases (rule, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (rule) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE watch_leases.owner = excluded.owner OR watch_leases.expires_at <= ?`,
    ).run(rule, owner, now + ttlMs, now).changes;
    return changes > 0;
  }

  async releaseLease(rule: string, owner: string): Promise<void> {
    this.#stmt('DELETE FROM watch_leases WHERE rule = ? AND owner = ?').run(rule, owner);
  }

  async leaseHolder(rule: string, now: number): Promise<string | undefined> {
    const row = this.#stmt('SELECT owner FROM watch_leases WHERE rule = ? AND expires_at > ?').get(rule, now) as { owner: string } | undefined;
    return row?.owner;
  }
}
