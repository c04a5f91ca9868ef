import type Database from 'better-sqlite3';

/** Schema version written to `PRAGMA user_version`; bump it and add a step to {@link MIGRATIONS}. */
export const SCHEMA_VERSION = 5;

/**
 * Sort key of the newest-first listings and of the time-range filter
 * (`finished_at` of finished jobs, else `added`); indexed by that exact expression.
 */
export const NEWEST_KEY = 'COALESCE(finished_at, added)';

/** SQL function that folds a title for the title filter (registered on every connection that migrates). */
const FOLD_FUNCTION = 'sisyphus_fold_title';

/**
 * A title as the title filter compares it: JavaScript's lower case, which
 * folds every script (SQLite's own `lower()` and `LIKE` fold ASCII only).
 */
export function foldTitle(title: string): string {
  return title.toLowerCase();
}

/**
 * Migration steps: `MIGRATIONS[n]` takes the schema from version n to n + 1.
 * Never edit a released step: databases of every earlier version migrate through them.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    job_id           TEXT PRIMARY KEY,
    job_title        TEXT NOT NULL,
    job              TEXT NOT NULL,
    state            TEXT NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 0,
    seq              INTEGER NOT NULL,
    added            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    worker_id        TEXT,
    lease_expires    INTEGER,
    started_at       TEXT,
    finished_at      TEXT,
    result           TEXT,
    reason           TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX jobs_queue_order ON jobs (state, priority DESC, seq);
  CREATE INDEX jobs_newest ON jobs (COALESCE(finished_at, added) DESC, job_id DESC);
  CREATE INDEX jobs_state_newest ON jobs (state, COALESCE(finished_at, added) DESC, job_id DESC);
  CREATE INDEX jobs_lease ON jobs (state, lease_expires);
  CREATE TABLE attributes (
    scope      TEXT NOT NULL,
    id         TEXT NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (scope, id)
  );
  CREATE TABLE workers (
    worker_id  TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE module_data (
    module TEXT NOT NULL,
    name   TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (module, name)
  );
  `,
  // 2: submit and requeue find the next sequence number from an index, whatever the history's size;
  // retention finds the oldest finished jobs of a state by finish time.
  `
  CREATE INDEX jobs_seq ON jobs (seq);
  CREATE INDEX jobs_state_finished ON jobs (state, finished_at);
  `,
  // 3: retry links, history filters, the event log, and each job's place in submission order (a
  // requeue moves seq to the head; a priority change puts the job back by submit_seq; for jobs
  // requeued before this version, where they were then is the best that is known).
  // The newest-first indexes carry the other filters' columns (folded title, worker, state), so
  // that a filter is checked on the index and only matching jobs' rows are read: a title that
  // matches rarely walks 100,000 index entries, not 100,000 rows with their documents.
  `
  ALTER TABLE jobs ADD COLUMN retry_of TEXT;
  ALTER TABLE jobs ADD COLUMN retried_as TEXT;
  ALTER TABLE jobs ADD COLUMN title_folded TEXT NOT NULL DEFAULT '';
  ALTER TABLE jobs ADD COLUMN submit_seq INTEGER;
  UPDATE jobs SET title_folded = ${FOLD_FUNCTION}(job_title), submit_seq = seq;
  DROP INDEX jobs_newest;
  DROP INDEX jobs_state_newest;
  CREATE INDEX jobs_newest ON jobs (COALESCE(finished_at, added) DESC, job_id DESC, title_folded);
  CREATE INDEX jobs_state_newest ON jobs (state, COALESCE(finished_at, added) DESC, job_id DESC, title_folded, worker_id);
  CREATE INDEX jobs_worker_newest ON jobs (worker_id, COALESCE(finished_at, added) DESC, job_id DESC, state, title_folded);
  CREATE TABLE events (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at   INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
  );
  CREATE TABLE event_log (log_id TEXT NOT NULL);
  INSERT INTO event_log VALUES (lower(hex(randomblob(6))));
  `,
  // 4: fan-out (flows). A child names its parent (`parent_id`, indexed in queue order for
  // `children()`). A job that waited keeps its JobFlow: what is fixed for a round as JSON (`flow`:
  // task_index, children, state; written once per wait), and what a child's end reads or changes in
  // columns of their own (`flow_round`, `flow_pending`, `flow_finally_id`), so that a child ending
  // never reads or rewrites a JSON that grows with the number of children. The finally job to queue
  // when the job ends failed or cancelled waits in `flow_finally` (a NewJob as JSON, until queued).
  // `job_children` holds each round's children in the order given and how each ended, kept with
  // the parent (its rows go when the parent's record goes), so results outlive the children's records.
  `
  ALTER TABLE jobs ADD COLUMN parent_id TEXT;
  ALTER TABLE jobs ADD COLUMN flow TEXT;
  ALTER TABLE jobs ADD COLUMN flow_round INTEGER;
  ALTER TABLE jobs ADD COLUMN flow_pending INTEGER;
  ALTER TABLE jobs ADD COLUMN flow_finally TEXT;
  ALTER TABLE jobs ADD COLUMN flow_finally_id TEXT;
  CREATE INDEX jobs_parent ON jobs (parent_id, submit_seq) WHERE parent_id IS NOT NULL;
  CREATE TABLE job_children (
    parent_id TEXT NOT NULL,
    round     INTEGER NOT NULL,
    idx       INTEGER NOT NULL,
    child_id  TEXT NOT NULL,
    job_title TEXT NOT NULL,
    state     TEXT,
    result    TEXT,
    reason    TEXT,
    PRIMARY KEY (parent_id, round, idx)
  );
  CREATE INDEX job_children_child ON job_children (child_id);
  `,
  // 5: capability routing. Each distinct JobRequirements is a row of `requirement_sets` (its
  // explicit flag and sorted `kind:value` list as JSON text is the key); a job names its set
  // (`requires_id`, NULL: anyone may run it) and keeps its JobRequirements as JSON (`requires`,
  // read with the row). The queue is also indexed per set, in queue order, so that a lease looks
  // at the head of each set a worker can run (a few index lookups) and never walks past the
  // jobs of sets it cannot run, however many there are.
  `
  CREATE TABLE requirement_sets (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    explicit INTEGER NOT NULL
  );
  ALTER TABLE jobs ADD COLUMN requires_id INTEGER;
  ALTER TABLE jobs ADD COLUMN requires TEXT;
  CREATE INDEX jobs_queue_by_requires ON jobs (requires_id, priority DESC, seq) WHERE state = 'queued';
  `,
];

/**
 * Bring the database to {@link SCHEMA_VERSION} in one immediate transaction
 * (a second process opening the file at the same time waits, then finds it
 * migrated). Refuses a schema newer than this code knows.
 */
export function migrate(db: Database.Database): void {
  db.function(FOLD_FUNCTION, { deterministic: true }, (title: unknown) => foldTitle(String(title)));
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`queue store schema version ${version} is newer than this server supports (${SCHEMA_VERSION})`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  run.immediate();
}
