import type Database from 'better-sqlite3';
import { canRun, type JobRequirements } from './queue-store.js';

/** A requirement set as `requirement_sets` keeps it (schema v5). */
interface SetRow {
  id: number;
  key: string;
  explicit: number;
}

// INDEXED BY: left to itself, SQLite answers the NULL case from the queue-order index, walking past every other job.
const FROM_INDEX = `SELECT job_id, priority, seq FROM jobs INDEXED BY jobs_queue_by_requires WHERE state = 'queued'`;
/** The first queued job without requirements (one index lookup). */
export const HEAD_WITHOUT_REQUIREMENTS = `${FROM_INDEX} AND requires_id IS NULL ORDER BY priority DESC, seq ASC LIMIT 1`;
/** The first queued job of one requirement set (one index lookup). */
export const HEAD_OF_SET = `${FROM_INDEX} AND requires_id = ? ORDER BY priority DESC, seq ASC LIMIT 1`;

/** The key of a set: explicit flag and the sorted list, as JSON text (equal sets, equal keys). */
const keyOf = (requires: JobRequirements): string => JSON.stringify([requires.explicit ? 1 : 0, ...[...new Set(requires.all)].sort()]);

/** How many workers' kinds (distinct capability lists) {@link SqliteRequirements} keeps answers for. */
const MAX_FINGERPRINTS = 1000;

/**
 * Capability routing on SQLite: the requirement sets of the queue and the
 * lease's choice among them. A lease looks at the head of each set the
 * worker can run (one lookup each on `jobs_queue_by_requires`) and takes the
 * best of those heads by priority then queue order: jobs of sets it cannot
 * run are never walked past, however many are queued.
 *
 * Whether a worker can run a set never changes (a set's id names its
 * requirements), so the answer is worked out once per set and kind of
 * worker (its capability list) and kept: a set a worker cannot run costs
 * its later leases a map lookup, however many such sets there are. Sets are
 * never deleted; other processes on the same file may add sets, read at the
 * start of each lease.
 */
export class SqliteRequirements {
  readonly #byId = new Map<number, JobRequirements>();
  readonly #idByKey = new Map<string, number>();
  /** Every set with an id up to this was read from the table (sets added here may be above it: read again, harmless). */
  #readUpTo = 0;
  /** Per capability fingerprint: set id -> can run. */
  readonly #answers = new Map<string, Map<number, boolean>>();

  constructor(private readonly t: { stmt(sql: string): Database.Statement }) {}

  /** The id of `requires`' set, added when new (inside the caller's transaction). */
  idOf(requires: JobRequirements): number {
    const key = keyOf(requires);
    let id = this.#idByKey.get(key);
    if (id !== undefined) return id;
    this.t.stmt(`INSERT OR IGNORE INTO requirement_sets (key, explicit) VALUES (?, ?)`).run(key, requires.explicit ? 1 : 0);
    id = (this.t.stmt(`SELECT id FROM requirement_sets WHERE key = ?`).get(key) as { id: number }).id;
    this.#remember({ id, key, explicit: requires.explicit ? 1 : 0 });
    return id;
  }

  /** The job to lease next for a worker with `capabilities` (undefined: advertises none), or undefined. */
  next(capabilities: readonly string[] | undefined): string | undefined {
    this.#refresh();
    const answers = this.#answersFor(capabilities);
    let have: ReadonlySet<string> | undefined;
    const eligible: number[] = [];
    for (const [id, requires] of this.#byId) {
      let can = answers.get(id);
      if (can === undefined) {
        // The worker's list made a set once per lease at most.
        have ??= capabilities && new Set(capabilities);
        can = canRun(requires, have);
        answers.set(id, can);
      }
      if (can) eligible.push(id);
    }
    if (eligible.length === this.#byId.size) {
      // Every set is one this worker can run: the queue's own order, one lookup.
      return (this.t.stmt(`SELECT job_id FROM jobs WHERE state = 'queued' ORDER BY priority DESC, seq ASC LIMIT 1`).get() as { job_id: string } | undefined)?.job_id;
    }
    let best: { job_id: string; priority: number; seq: number } | undefined;
    const consider = (head: { job_id: string; priority: number; seq: number } | undefined) => {
      if (head && (!best || head.priority > best.priority || (head.priority === best.priority && head.seq < best.seq))) best = head;
    };
    consider(this.t.stmt(HEAD_WITHOUT_REQUIREMENTS).get() as typeof best);
    const head = this.t.stmt(HEAD_OF_SET);
    for (const id of eligible) consider(head.get(id) as typeof best);
    return best?.job_id;
  }

  /** The kept answers for workers with exactly `capabilities` (the least recently used kind is forgotten first). */
  #answersFor(capabilities: readonly string[] | undefined): Map<number, boolean> {
    const fingerprint = capabilities ? `1${capabilities.join('\n')}` : '0';
    let answers = this.#answers.get(fingerprint);
    if (answers) this.#answers.delete(fingerprint);
    else answers = new Map();
    this.#answers.set(fingerprint, answers);
    if (this.#answers.size > MAX_FINGERPRINTS) this.#answers.delete(this.#answers.keys().next().value!);
    return answers;
  }

  /** Read sets added since the last read (by this or another process). */
  #refresh(): void {
    const rows = this.t.stmt(`SELECT id, key, explicit FROM requirement_sets WHERE id > ? ORDER BY id`).all(this.#readUpTo) as SetRow[];
    for (const row of rows) this.#remember(row);
    if (rows.length) this.#readUpTo = rows.at(-1)!.id;
  }

  #remember(row: SetRow): void {
    const [, ...all] = JSON.parse(row.key) as [number, ...string[]];
    this.#byId.set(row.id, { all, explicit: row.explicit === 1 });
    this.#idByKey.set(row.key, row.id);
  }
}
