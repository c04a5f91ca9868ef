import type Database from 'better-sqlite3';
import { EVENT_LOG_KEEP, type EventRead, type NewQueueEvent, type QueueEvent, type QueueEventLog } from './queue-store.js';

/** Trim the log once per this many appended events (a range delete on the primary key), not on every append. */
const TRIM_EVERY = 500;

/** How often a log with listeners looks for events that another connection to the file appended. */
const WATCH_MS = 100;

/** An id as this log prints them: the log's own name, `:`, a decimal row id (leading zeros or signs are no id of ours). */
const ID_PATTERN = /^([0-9a-f]{12}):(0|[1-9][0-9]{0,15})$/;

interface EventRow {
  id: number;
  at: number;
  type: string;
  data: string;
}

/**
 * The {@link QueueEventLog} of a SQLite store: the `events` table, whose
 * `AUTOINCREMENT` row ids make the event ids (`LOGID:ROWID`, LOGID the
 * database's random log name; never reused, so they keep increasing across
 * restarts and trims). The log keeps the
 * newest {@link EVENT_LOG_KEEP} events and up to {@link TRIM_EVERY} more.
 *
 * Listeners hear appends of this instance at once (coalesced into one call
 * per turn of the event loop) and, while any listens, appends of other
 * connections to the file within about {@link WATCH_MS} ms (`PRAGMA data_version`).
 */
export class SqliteEventLog implements QueueEventLog {
  readonly #db: Database.Database;
  readonly #listeners = new Set<() => void>();
  #sinceTrim = 0;
  #notifyScheduled = false;
  #watch: NodeJS.Timeout | undefined;
  #dataVersion = 0;
  #lastSeen = 0;
  #closed = false;

  readonly #insert: Database.Statement;
  readonly #bounds: Database.Statement;
  readonly #after: Database.Statement;
  readonly #trim: Database.Statement;
  readonly #newest: Database.Statement;

  /**
   * A random name the log got when its database was made: ids carry it, so an id of another database (a
   * replaced file, an in-memory store of an earlier run) is not taken for one of this log (`reset`).
   */
  readonly #logId: string;

  /** The log over `db`, whose schema has the `events` and `event_log` tables. Trims what an earlier run left over. */
  constructor(db: Database.Database) {
    this.#db = db;
    this.#logId = (db.prepare('SELECT log_id FROM event_log').get() as { log_id: string }).log_id;
    this.#insert = db.prepare('INSERT INTO events (at, type, data) VALUES (?, ?, ?)');
    this.#bounds = db.prepare('SELECT (SELECT MIN(id) FROM events) AS oldest, (SELECT MAX(id) FROM events) AS newest');
    this.#after = db.prepare('SELECT id, at, type, data FROM events WHERE id > ? ORDER BY id LIMIT ?');
    this.#trim = db.prepare('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?');
    this.#newest = db.prepare('SELECT MAX(id) AS id FROM events');
    this.#trim.run(EVENT_LOG_KEEP);
  }

  async append(events: readonly NewQueueEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const ids = this.#db.transaction(() => {
      const out: number[] = [];
      for (const event of events) {
        out.push(Number(this.#insert.run(Math.trunc(event.at), event.type, JSON.stringify(event.data)).lastInsertRowid));
      }
      this.#sinceTrim += events.length;
      if (this.#sinceTrim >= TRIM_EVERY) {
        this.#sinceTrim = 0;
        this.#trim.run(EVENT_LOG_KEEP);
      }
      return out;
    })();
    this.#lastSeen = Math.max(this.#lastSeen, ids[ids.length - 1]!);
    this.#notifySoon();
    return ids.map((n) => this.#id(n));
  }

  /** The id of row `n`. */
  #id(n: number): string {
    return `${this.#logId}:${n}`;
  }

  async read(after: string | undefined, limit: number): Promise<EventRead> {
    const count = Math.max(0, Math.floor(limit) || 0);
    return this.#db.transaction((): EventRead => {
      const bounds = this.#bounds.get() as { oldest: number | null; newest: number | null };
      const newest = bounds.newest ?? 0;
      const oldest = bounds.oldest ?? newest + 1;
      let from = oldest - 1;
      let reset = false;
      if (after !== undefined) {
        const match = ID_PATTERN.exec(after);
        const n = match && match[1] === this.#logId ? Number(match[2]) : NaN;
        // Before the oldest kept (minus one: then nothing was missed), after the newest (another log), or no id at all.
        if (Number.isSafeInteger(n) && n >= oldest - 1 && n <= newest) from = n;
        else reset = true;
      }
      const rows = count === 0 ? [] : (this.#after.all(from, count) as EventRow[]);
      return { events: rows.map((row) => toEvent(row, this.#id(row.id))), reset };
    })();
  }

  async last(): Promise<string | undefined> {
    const row = this.#newest.get() as { id: number | null };
    return row.id === null ? undefined : this.#id(row.id);
  }

  onAppend(listener: () => void): () => void {
    // A function may listen twice: wrap it so that each subscription is its own.
    const entry = () => listener();
    this.#listeners.add(entry);
    this.#startWatch();
    return () => {
      this.#listeners.delete(entry);
      if (this.#listeners.size === 0) this.#stopWatch();
    };
  }

  /** Stop listening (the store closes the database). */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#stopWatch();
  }

  #notifySoon(): void {
    if (this.#notifyScheduled || this.#listeners.size === 0) return;
    this.#notifyScheduled = true;
    setImmediate(() => {
      this.#notifyScheduled = false;
      if (this.#closed) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener();
        } catch {
          // A listener's failure is its own; the others still hear of the append.
        }
      }
    });
  }

  /** While anyone listens: notice appends by other connections to the same file. */
  #startWatch(): void {
    if (this.#watch || this.#closed) return;
    this.#dataVersion = this.#db.pragma('data_version', { simple: true }) as number;
    this.#lastSeen = Math.max(this.#lastSeen, (this.#newest.get() as { id: number | null }).id ?? 0);
    this.#watch = setInterval(() => {
      if (!this.#db.open) return;
      // data_version changes when another connection commits; this connection's own writes leave it alone.
      const version = this.#db.pragma('data_version', { simple: true }) as number;
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
      const newest = (this.#newest.get() as { id: number | null }).id ?? 0;
      if (newest > this.#lastSeen) {
        this.#lastSeen = newest;
        this.#notifySoon();
      }
    }, WATCH_MS);
    this.#watch.unref();
  }

  #stopWatch(): void {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = undefined;
  }
}

function toEvent(row: EventRow, id: string): QueueEvent {
  return { id, type: row.type, at: row.at, data: JSON.parse(row.data) as Record<string, unknown> };
}
