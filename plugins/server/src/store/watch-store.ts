/**
 * What the watch folders keep in the store (an optional part of the store
 * contract: {@link QueueStore.watch}): the rules managed through the API,
 * each rule's last scan, the state of every file a rule has seen, the files
 * jobs write (so that they are not taken for new work), and the lease that
 * lets one server at a time scan a rule. SQLite (`sqlite-watch.ts`) and
 * Redis (`@sisyphus/redis`, `redis-watch.ts`) implement it; the suite in
 * `testing/watch-store-suite.ts` runs against both.
 *
 * A file's version is its size, modification time (ms) and content
 * fingerprint (see `watch/file-fingerprint.ts`).
 */

/** How the job of a file's version ended, as far as the watcher knows. */
export type WatchOutcome =
  /** The job id was chosen and recorded; the submit may not have gone through (a crash between the two). */
  | 'submitting'
  /** The job is in the queue (or running); its end was not seen yet. */
  | 'pending'
  | 'completed'
  | 'failed'
  | 'cancelled'
  /** The job was removed before it ended (`DELETE /jobs/{id}`, the queue cleared) or is gone from the store. */
  | 'removed';

/** The outcomes after which a job no longer runs. */
export const WATCH_FINAL_OUTCOMES: readonly WatchOutcome[] = ['completed', 'failed', 'cancelled', 'removed'];

/** What a rule knows of one file: the version it last submitted (or that its job wrote), and how that went. */
export interface WatchFileRecord {
  /** The rule's name. */
  rule: string;
  /** Absolute path as the rule found it (under the real path of its folder). */
  path: string;
  size: number;
  /** Modification time, epoch ms (may have a fraction). */
  mtime_ms: number;
  /** Content fingerprint of this version (`watch/file-fingerprint.ts`). */
  fingerprint: string;
  /** The job submitted for this version (or, with {@link written}, the job that wrote it). */
  job_id?: string;
  outcome: WatchOutcome;
  /**
   * This version was written by the file's own job (`job_id`), e.g. a
   * transcode that replaced its source: it is not new work.
   */
  written?: boolean;
  /** Why no job could be made for this version (the server refused the rendered job): it counts as a failure, with `outcome` failed and no `job_id`. */
  error?: string;
  /** Failed jobs of this file in a row (across its versions); a completed job resets it. */
  failures: number;
  /** `failures` reached the rule's `max_failures`: the rule submits nothing more for the file until it is forgotten. */
  attention: boolean;
  /** Epoch ms of the last change of this record. */
  updated_at: number;
}

/**
 * A file a job will write or wrote into a watched folder (any job: the
 * rule's own, or one submitted otherwise). Without a version the job has
 * not ended yet ("will be written by"); with one, that version is the job's
 * output and not new work.
 */
export interface WatchOutputRecord {
  /** Absolute path. */
  path: string;
  job_id: string;
  size?: number;
  mtime_ms?: number;
  fingerprint?: string;
  /** Epoch ms it was recorded. */
  at: number;
}

/** A rule created through the API, as kept (the JSON the API accepted, with its name). */
export interface WatchRuleRecord {
  name: string;
  /** The rule's fields (`WatchRuleConfig`), as checked when it was put. */
  rule: Record<string, unknown>;
  /** Epoch ms it was last put. */
  updated_at: number;
}

/** What the last scan of a rule found (shown by `GET /watch/rules`). */
export interface WatchScanStatus {
  /** Epoch ms the scan started and ended. */
  started_at: number;
  finished_at: number;
  /** Files that matched the rule. */
  files: number;
  /** Jobs submitted by the scan. */
  submitted: number;
  /** Files skipped, by reason (see `watch/file-decision.ts`). */
  skipped: Record<string, number>;
  /** Why the scan (or part of it) failed: a folder missing, a template that does not render... */
  errors?: string[];
  /** The server instance that scanned. */
  scanner?: string;
}

/** One page of {@link WatchStore.attention}. */
export interface WatchFilePage {
  files: WatchFileRecord[];
  /** Pass as `cursor` for the next page; absent on the last. */
  next?: string;
}

/**
 * The watch folders' part of a store. Paths are compared as exact strings
 * (byte order where listed). Batch reads take at most {@link WATCH_BATCH}
 * paths per call.
 */
export interface WatchStore {
  /** The rules put through the API, by name (byte order). */
  rules(): Promise<WatchRuleRecord[]>;
  /** Create or replace a rule. */
  putRule(record: WatchRuleRecord): Promise<void>;
  /** Delete a rule (its files' records and status stay: a rule made again with that name does not submit them again); false when there was none. */
  deleteRule(name: string): Promise<boolean>;

  /** Every rule's last scan, by rule name. */
  scanStatuses(): Promise<Record<string, WatchScanStatus>>;
  putScanStatus(rule: string, status: WatchScanStatus): Promise<void>;

  /** The records of `paths` under `rule` that exist, by path. */
  files(rule: string, paths: readonly string[]): Promise<Map<string, WatchFileRecord>>;
  /** Create or replace records (each by rule and path). */
  putFiles(records: readonly WatchFileRecord[]): Promise<void>;
  /**
   * The record whose job is `jobId` and whose outcome is `submitting` or
   * `pending` (the job's end is not recorded yet); undefined when none.
   */
  fileOfJob(jobId: string): Promise<WatchFileRecord | undefined>;
  /** Files of `rule` that need attention, by path in byte order, `limit` per page. A `SIS_BAD_CURSOR` StoreError for a cursor it did not make. */
  attention(rule: string, options: { limit: number; cursor?: string }): Promise<WatchFilePage>;
  /** How many files of `rule` need attention. */
  attentionCount(rule: string): Promise<number>;
  /** Forget a file: the rule takes its current version as new. False when there was no record. */
  forgetFile(rule: string, path: string): Promise<boolean>;

  /** The output records of `paths` that exist, by path. */
  outputs(paths: readonly string[]): Promise<Map<string, WatchOutputRecord>>;
  /** Create or replace output records (each by path). */
  putOutputs(records: readonly WatchOutputRecord[]): Promise<void>;
  /** The output records of job `jobId` that have no version yet (the job's end not settled). */
  pendingOutputsOf(jobId: string): Promise<WatchOutputRecord[]>;
  /** Delete output records (a job that ended without writing them). */
  deleteOutputs(paths: readonly string[]): Promise<void>;

  /**
   * Take or renew the scanner lease of `rule` for `owner` until `now + ttlMs`
   * (a store with a clock of its own, Redis, may count `ttlMs` from its
   * own now). True when `owner` holds it afterwards; false while another
   * owner's lease has not run out.
   */
  lease(rule: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Give the lease up if `owner` holds it. */
  releaseLease(rule: string, owner: string): Promise<void>;
  /** Who holds the lease of `rule` now (undefined: nobody). */
  leaseHolder(rule: string, now: number): Promise<string | undefined>;
}

/** Most paths one batch read ({@link WatchStore.files}, {@link WatchStore.outputs}) takes. */
export const WATCH_BATCH = 500;
