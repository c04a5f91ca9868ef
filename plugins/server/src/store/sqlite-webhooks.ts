import { preparedStatements } from './sqlite-statements.js';
import type Database from 'better-sqlite3';
import {
  WEBHOOK_DELIVERIES_KEEP,
  type NewWebhookDelivery,
  type OfflineWorker,
  type WebhookAttemptOutcome,
  type WebhookDelivery,
  type WebhookStore,
  type WebhookSummary,
} from './webhook-store.js';

/**
 * The webhook tables, made when missing (`IF NOT EXISTS`: an optional part of
 * the file beside the versioned schema of `sqlite-schema.ts`, which it does
 * not change). `webhook_hooks`: each hook's cursor in the event log, its
 * delivery counter and its last attempted delivery (JSON). `webhook_deliveries`:
 * the outbox, one row per hook and event. `worker_offline`: the heartbeat
 * expiry of each worker last announced offline.
 */
const TABLES = `
  CREATE TABLE IF NOT EXISTS webhook_hooks (
    hook   TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    seq    INTEGER NOT NULL DEFAULT 0,
    last   TEXT
  );
  CREATE TABLE IF NOT EXISTS webhook_deliveries (
    hook            TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    event_type      TEXT NOT NULL,
    event_at        INTEGER NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_at         INTEGER,
    last_attempt_at INTEGER,
    status_code     INTEGER,
    error           TEXT,
    finished_at     INTEGER,
    PRIMARY KEY (hook, event_id)
  );
  CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (hook, next_at) WHERE next_at IS NOT NULL;
  CREATE INDEX IF NOT EXISTS webhook_deliveries_newest ON webhook_deliveries (hook, seq);
  CREATE INDEX IF NOT EXISTS webhook_deliveries_done ON webhook_deliveries (hook, seq) WHERE finished_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS worker_offline (
    worker_id  TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
`;

interface DeliveryRow {
  hook: string;
  event_id: string;
  event_type: string;
  event_at: number;
  body: string;
  status: WebhookDelivery['status'];
  attempts: number;
  created_at: number;
  next_at: number | null;
  last_attempt_at: number | null;
  status_code: number | null;
  error: string | null;
  finished_at: number | null;
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    hook: row.hook,
    event_id: row.event_id,
    event_type: row.event_type,
    event_at: row.event_at,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    created_at: row.created_at,
    ...(row.next_at !== null ? { next_at: row.next_at } : {}),
    ...(row.last_attempt_at !== null ? { last_attempt_at: row.last_attempt_at } : {}),
    ...(row.status_code !== null ? { status_code: row.status_code } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.finished_at !== null ? { finished_at: row.finished_at } : {}),
  };
}

const COLUMNS = 'hook, event_id, event_type, event_at, body, status, attempts, created_at, next_at, last_attempt_at, status_code, error, finished_at';

/**
 * The {@link WebhookStore} of a SQLite store: tables of the same file, each
 * method one transaction (`BEGIN IMMEDIATE` where it reads before it
 * writes), so several servers sharing the file claim each delivery and each
 * offline worker once. Reads the store's `workers` table for heartbeat expiries.
 */
export class SqliteWebhooks implements WebhookStore {
  readonly #db: Database.Database;
  readonly #stmt: (sql: string) => Database.Statement;

  /** The webhook part of `db` (an open store's database); makes its tables when missing. */
  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = preparedStatements(db);
    db.exec(TABLES);
  }

  #immediate<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  async cursor(hook: string): Promise<string | undefined> {
    const row = this.#stmt('SELECT cursor FROM webhook_hooks WHERE hook = ?').get(hook) as { cursor: string } | undefined;
    return row?.cursor;
  }

  async enqueue(hook: string, expected: string | undefined, cursor: string, deliveries: readonly NewWebhookDelivery[], now: number): Promise<boolean> {
    return this.#immediate(() => {
      const row = this.#stmt('SELECT cursor, seq FROM webhook_hooks WHERE hook = ?').get(hook) as { cursor: string; seq: number } | undefined;
      if (row?.cursor !== expected) return false;
      let seq = row?.seq ?? 0;
      const insert = this.#stmt(
        `INSERT OR IGNORE INTO webhook_deliveries (hook, event_id, seq, event_type, event_at, body, status, attempts, created_at, next_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      );
      for (const d of deliveries) {
        if (insert.run(hook, d.event_id, seq + 1, d.event_type, Math.trunc(d.event_at), d.body, now, now).changes > 0) seq += 1;
      }
      this.#stmt(
        `INSERT INTO webhook_hooks (hook, cursor, seq) VALUES (?, ?, ?)
         ON CONFLICT (hook) DO UPDATE SET cursor = excluded.cursor, seq = excluded.seq`,
      ).run(hook, cursor, seq);
      return true;
    });
  }

  async claim(hook: string, now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    return this.#immediate(() => {
      const due = this.#stmt(
        `SELECT event_id FROM webhook_deliveries WHERE hook = ? AND next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, seq LIMIT ?`,
      ).all(hook, now, count) as Array<{ event_id: string }>;
      const update = this.#stmt(
        `UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1, next_at = ?, last_attempt_at = ?
         WHERE hook = ? AND event_id = ? RETURNING ${COLUMNS}`,
      );
      return due.map(({ event_id }) => toDelivery(update.get(now + leaseMs, now, hook, event_id) as DeliveryRow));
    });
  }

  async record(hook: string, eventId: string, attempt: number, outcome: WebhookAttemptOutcome): Promise<boolean> {
    return this.#immediate(() => {
      const done = outcome.status !== 'pending';
      const row = this.#stmt(
        `UPDATE webhook_deliveries SET status = ?, next_at = ?, status_code = ?, error = ?, finished_at = ?
         WHERE hook = ? AND event_id = ? AND status = 'sending' AND attempts = ? RETURNING ${COLUMNS}`,
      ).get(
        outcome.status,
        done ? null : (outcome.next_at ?? outcome.at),
        outcome.status_code ?? null,
        outcome.error ?? null,
        done ? outcome.at : null,
        hook,
        eventId,
        attempt,
      ) as DeliveryRow | undefined;
      if (!row) return false;
      this.#stmt('UPDATE webhook_hooks SET last = ? WHERE hook = ?').run(JSON.stringify(toDelivery(row)), hook);
      if (done) {
        // The finished deliveries older than the newest KEEP (a range on the partial index).
        this.#stmt(
          `DELETE FROM webhook_deliveries WHERE hook = ? AND finished_at IS NOT NULL AND seq <= (
             SELECT seq FROM webhook_deliveries WHERE hook = ? AND finished_at IS NOT NULL ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
        ).run(hook, hook, WEBHOOK_DELIVERIES_KEEP);
      }
      return true;
    });
  }

  async deliveries(hook: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = this.#stmt(`SELECT ${COLUMNS} FROM webhook_deliveries WHERE hook = ? ORDER BY seq DESC LIMIT ?`).all(hook, Math.max(0, Math.floor(limit))) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  async summary(hook: string): Promise<WebhookSummary> {
    const { pending } = this.#stmt('SELECT COUNT(*) AS pending FROM webhook_deliveries WHERE hook = ? AND next_at IS NOT NULL').get(hook) as { pending: number };
    const row = this.#stmt('SELECT last FROM webhook_hooks WHERE hook = ?').get(hook) as { last: string | null } | undefined;
    return { pending, ...(row?.last ? { last: JSON.parse(row.last) as WebhookDelivery } : {}) };
  }

  async claimOfflineWorkers(now: number, since: number): Promise<OfflineWorker[]> {
    return this.#immediate(() => {
      const rows = this.#stmt(
        `SELECT w.worker_id, w.last_seen, w.expires_at, w.status FROM workers w LEFT JOIN worker_offline o ON o.worker_id = w.worker_id
         WHERE w.expires_at <= ? AND w.expires_at > ? AND (o.expires_at IS NULL OR o.expires_at <> w.expires_at)
         ORDER BY w.expires_at, w.worker_id`,
      ).all(now, since) as Array<{ worker_id: string; last_seen: number; expires_at: number; status: string | null }>;
      const mark = this.#stmt(
        `INSERT INTO worker_offline (worker_id, expires_at) VALUES (?, ?) ON CONFLICT (worker_id) DO UPDATE SET expires_at = excluded.expires_at`,
      );
      for (const row of rows) mark.run(row.worker_id, row.expires_at);
      // Expiries before the window are never claimed again: their marks can go.
      this.#stmt('DELETE FROM worker_offline WHERE expires_at <= ?').run(since);
      return rows.map((row) => {
        const hostname = hostnameOf(row.status);
        return { worker_id: row.worker_id, last_seen: row.last_seen, expires_at: row.expires_at, ...(hostname !== undefined ? { hostname } : {}) };
      });
    });
  }
}

/** The `hostname` of a stored heartbeat (JSON), if it is a string. */
export function hostnameOf(status: string | null | undefined): string | undefined {
  if (!status) return undefined;
  try {
    const hostname = (JSON.parse(status) as { hostname?: unknown }).hostname;
    return typeof hostname === 'string' ? hostname : undefined;
  } catch {
    return undefined;
  }
}
