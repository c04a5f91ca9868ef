import { stat } from 'node:fs/promises';
import { normalize, isAbsolute } from 'node:path';
import { isInside } from '@sisyphus/core';
import type { QueueStore, StoredJob } from '../store/queue-store.js';
import type { WatchFileRecord, WatchOutcome, WatchOutputRecord, WatchStore } from '../store/watch-store.js';
import { fileFingerprint } from './file-fingerprint.js';

/** Job states in which a job may still write files. */
const LIVE_STATES = new Set(['queued', 'running', 'waiting-children']);

/** Is the record's job still to end (as far as the record knows)? */
export const isOpen = (record: { outcome: WatchOutcome }) => record.outcome === 'submitting' || record.outcome === 'pending';

/** The size and time of `path` now; undefined when it is gone or no regular file. */
async function statNow(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/** A file record with its job's end applied, and the job's state while it runs. */
export interface SettledFile {
  /** Undefined: the record was of a submit that never went through (the version counts as new). */
  record?: WatchFileRecord;
  /** The job's state when it has not ended. */
  jobState?: string;
  /** Without `record`: the failures in a row of the file so far, for its next submission. */
  failures?: number;
}

/** What {@link JobSettlement} needs to know of the rules. */
export interface SettlementRules {
  /** Every watched folder (absolute, normalised): files of a job's result outside them are of no interest. */
  folders(): readonly string[];
  /** The rule's `max_failures` (a rule that is gone: the default). */
  maxFailures(rule: string): number;
}

/**
 * What happens to the watcher's records when a job ends (learnt from the
 * event log, or later, when a record whose job has not ended is looked at):
 *
 * - the file's record takes the job's outcome; a failed job adds one to the
 *   file's failures (a completed one resets them) and at the rule's
 *   `max_failures` the file needs attention;
 * - a version of the file that appeared while its job ran counts as written
 *   by that job (a transcode that replaced its source), not as new work;
 * - each file the job was to write (a path of its document, recorded at
 *   submission) that exists now is recorded with its version as the job's
 *   output; one that does not exist (or a job removed before it ran) is
 *   dropped; files a job's result lists (`result.tasks[].outputs`, when
 *   workers report them) are recorded the same way.
 *
 * With `dry`, nothing is written: what a dry run shows.
 */
export class JobSettlement {
  constructor(
    private readonly queue: QueueStore,
    private readonly watch: WatchStore,
    private readonly rules: SettlementRules,
    private readonly now: () => number = Date.now,
  ) {}

  /** `record` with its job's end applied (written to the store unless `dry`). */
  async settleFile(record: WatchFileRecord, dry = false): Promise<SettledFile> {
    if (!isOpen(record)) return { record };
    const job = record.job_id !== undefined ? await this.queue.get(record.job_id) : undefined;
    if (!job) {
      // Never submitted (the server stopped between recording the id and submitting), or gone from the store.
      // (The record stays until the version is submitted again: it keeps the file's failures.)
      if (record.outcome === 'submitting') return { failures: record.failures };
      const removed: WatchFileRecord = { ...record, outcome: 'removed', updated_at: this.now() };
      if (!dry) await this.watch.putFiles([removed]);
      return { record: removed };
    }
    if (LIVE_STATES.has(job.state)) {
      if (record.outcome === 'submitting') {
        const pending: WatchFileRecord = { ...record, outcome: 'pending', updated_at: this.now() };
        if (!dry) await this.watch.putFiles([pending]);
        return { record: pending, jobState: job.state };
      }
      return { record, jobState: job.state };
    }
    const outcome = job.state as 'completed' | 'failed' | 'cancelled';
    const failures = outcome === 'failed' ? record.failures + 1 : outcome === 'completed' ? 0 : record.failures;
    let next: WatchFileRecord = { ...record, outcome, failures, attention: failures >= this.rules.maxFailures(record.rule), updated_at: this.now() };
    const current = await statNow(record.path);
    if (current && (current.size !== record.size || current.mtimeMs !== record.mtime_ms)) {
      const fingerprint = await fileFingerprint(record.path, current.size).catch(() => undefined);
      if (fingerprint !== undefined && fingerprint !== record.fingerprint) next = { ...next, size: current.size, mtime_ms: current.mtimeMs, fingerprint, written: true };
      else if (fingerprint !== undefined) next = { ...next, mtime_ms: current.mtimeMs };
    }
    if (!dry) await this.watch.putFiles([next]);
    return { record: next };
  }

  /**
   * The output records of job `jobId` that wait for its end, settled if it
   * has ended (written unless `dry`), by path; a path whose record was
   * dropped maps to undefined. `job`: the job when the caller has it.
   */
  async settleOutputs(jobId: string, dry = false, job?: StoredJob | null): Promise<Map<string, WatchOutputRecord | undefined>> {
    const pending = await this.watch.pendingOutputsOf(jobId);
    const found = job === undefined ? await this.queue.get(jobId) : (job ?? undefined);
    const out = new Map<string, WatchOutputRecord | undefined>(pending.map((p) => [p.path, p]));
    if (found && LIVE_STATES.has(found.state)) return out;
    const wrote = found !== undefined; // a job removed before it ended wrote nothing
    const put: WatchOutputRecord[] = [];
    const drop: string[] = [];
    const reported = found ? reportedOutputs(found, this.rules.folders()) : [];
    for (const path of new Set([...pending.map((p) => p.path), ...reported])) {
      const current = wrote ? await statNow(path) : undefined;
      const fingerprint = current ? await fileFingerprint(path, current.size).catch(() => undefined) : undefined;
      if (current && fingerprint !== undefined) {
        const record: WatchOutputRecord = { path, job_id: jobId, size: current.size, mtime_ms: current.mtimeMs, fingerprint, at: this.now() };
        put.push(record);
        out.set(path, record);
      } else if (out.has(path)) {
        drop.push(path);
        out.set(path, undefined);
      }
    }
    if (!dry) {
      await this.watch.putOutputs(put);
      await this.watch.deleteOutputs(drop);
    }
    return out;
  }
}

/**
 * The files a job's result says its tasks wrote (`result.tasks[].outputs`,
 * absolute paths) inside `folders`. Workers whose engine does not report
 * them give none: the paths recorded at submission then stand alone.
 */
export function reportedOutputs(job: StoredJob, folders: readonly string[]): string[] {
  const tasks = (job.result as { tasks?: unknown } | undefined)?.tasks;
  if (!Array.isArray(tasks)) return [];
  const out: string[] = [];
  for (const task of tasks) {
    const outputs = (task as { outputs?: unknown } | null)?.outputs;
    if (!Array.isArray(outputs)) continue;
    for (const value of outputs) {
      if (typeof value !== 'string' || !isAbsolute(value)) continue;
      const path = normalize(value);
      if (folders.some((folder) => isInside(path, folder))) out.push(path);
    }
  }
  return out;
}
