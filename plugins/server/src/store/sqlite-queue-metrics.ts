import type Database from 'better-sqlite3';
import type { PriorityDepth, QueueMetricsStore } from './queue-metrics.js';

/**
 * The metric totals' table, made when missing (`IF NOT EXISTS`), outside the schema's
 * versions (`sqlite-schema.ts`): an older server opening the file ignores
 * it, and nothing else refers to it.
 */
const CREATE = `CREATE TABLE IF NOT EXISTS metric_totals (key TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID`;

/**
 * {@link QueueMetricsStore} of the SQLite store: the totals in a table of
 * the same file (each `record` one transaction, so several server processes
 * on one file add up), the depth per priority from the queue's index.
 */
export class SqliteQueueMetrics implements QueueMetricsStore {
  readonly #db: Database.Database;
  readonly #add: Database.Statement;
  readonly #all: Database.Statement;
  readonly #depth: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(CREATE);
    this.#add = db.prepare(`INSERT INTO metric_totals (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`);
    this.#all = db.prepare(`SELECT key, value FROM metric_totals`);
    // Walks the queued part of the queue-order index (state, priority, seq), never the history.
    this.#depth = db.prepare(`SELECT priority, COUNT(*) AS count FROM jobs WHERE state = 'queued' GROUP BY priority ORDER BY priority DESC LIMIT ?`);
  }

  async record(increments: Readonly<Record<string, number>>): Promise<void> {
    const entries = Object.entries(increments).filter(([, value]) => Number.isFinite(value) && value !== 0);
    if (!entries.length) return;
    this.#db
      .transaction(() => {
        for (const [key, value] of entries) this.#add.run(key, value);
      })
      .immediate();
  }

  async read(): Promise<Record<string, number>> {
    const totals: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const row of this.#all.all() as Array<{ key: string; value: number }>) totals[row.key] = row.value;
    return totals;
  }

  async queuedByPriority(limit: number): Promise<PriorityDepth[]> {
    return this.#depth.all(Math.max(0, Math.trunc(limit))) as PriorityDepth[];
  }
}
