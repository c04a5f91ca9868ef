import type { WatchFileRecord, WatchOutputRecord } from '../store/watch-store.js';

/** Why a file is not submitted (the keys of a scan's `skipped` counts). */
export type SkipReason =
  /** Sisyphus' own working file or folder (`.sisyphus-*`, an attempt's folder, a claim). */
  | 'own-file'
  | 'excluded'
  | 'not-included'
  /** Its size or time changed within `stable_seconds` (a copy in progress). */
  | 'unstable'
  /** Modified less than `min_age_seconds` ago. */
  | 'too-new'
  /** The version its last job was submitted for (whatever that job's outcome). */
  | 'unchanged'
  /** Only its modification time changed: same size and fingerprint as the version submitted. */
  | 'touched'
  /** Its own job wrote this version (e.g. replaced its source). */
  | 'written'
  /** Its job is queued or running. */
  | 'in-progress'
  /** A job wrote it (and `outputs_are_work` is off). */
  | 'output'
  /** A job that has not ended names it as a file it writes. */
  | 'output-pending'
  /** Its jobs failed `max_failures` times in a row: the rule submits nothing more for it until it is forgotten. */
  | 'attention'
  /** The job could not be made: the template cannot be read or rendered. */
  | 'template'
  /** The server refused the job the template made for it (a failure of this version). */
  | 'refused'
  /** The file could not be read (gone, no permission). */
  | 'unreadable';

/** What a scan does with one file. */
export interface FileDecision {
  path: string;
  action: 'submit' | 'skip';
  /** Set when skipped. */
  skip?: SkipReason;
  /** One line for people: why. */
  reason: string;
  /** The job concerned: submitted now, or the one the reason names. */
  job_id?: string;
}

/** What {@link decideFile} looks at. */
export interface DecisionInput {
  path: string;
  size: number;
  mtimeMs: number;
  /** The rule's record of the file, its job's end applied when it has ended. */
  record?: WatchFileRecord;
  /** The state of the record's job when it has not ended (`queued`, `running`...). */
  recordJobState?: string;
  /** An output record of the path, its job's end applied when it has ended. */
  output?: WatchOutputRecord;
  outputsAreWork: boolean;
  /** The file's current fingerprint (taken only when needed: same size, other time). */
  fingerprint: () => Promise<string>;
}

/** What {@link decideFile} answers: the decision, and the records to write when only a time changed (a touch). */
export interface DecisionOutcome {
  decision: Omit<FileDecision, 'path'>;
  record?: WatchFileRecord;
  output?: WatchOutputRecord;
}

/** Why an unchanged version is not submitted again, from its record. */
function unchangedReason(record: WatchFileRecord): Omit<FileDecision, 'path' | 'action'> {
  const job = record.job_id;
  if (record.attention) return { skip: 'attention', reason: `needs attention after ${record.failures} failed job${record.failures === 1 ? '' : 's'} in a row${job ? ` (last: job ${job})` : ''}; forget the file to try again`, ...(job ? { job_id: job } : {}) };
  if (record.written) return { skip: 'written', reason: `written by its own job ${job}`, job_id: job! };
  if (!job) return { skip: 'unchanged', reason: `unchanged since its job could not be submitted (${record.outcome})` };
  return { skip: 'unchanged', reason: `unchanged since job ${job} (${record.outcome})`, job_id: job };
}

/**
 * The decision for a stable, included file: submitted once per content
 * version (size, modification time, fingerprint), never again while that
 * version stays, whatever its job's outcome; a new modification time with
 * the same size and fingerprint is a touch (no job); files that jobs wrote
 * are not work unless `outputsAreWork`; a file needing attention gets
 * nothing more. Pure apart from the fingerprint it may take.
 */
export async function decideFile(input: DecisionInput): Promise<DecisionOutcome> {
  const { record, output } = input;
  const skip = (fields: Omit<FileDecision, 'path' | 'action'>): DecisionOutcome['decision'] => ({ action: 'skip', ...fields });
  if (record) {
    if (record.outcome === 'submitting' || record.outcome === 'pending') {
      return { decision: skip({ skip: 'in-progress', reason: `job ${record.job_id} for this file is ${input.recordJobState ?? 'queued'}`, job_id: record.job_id! }) };
    }
    if (record.size === input.size && record.mtime_ms === input.mtimeMs) return { decision: skip(unchangedReason(record)) };
    if (record.size === input.size && (await input.fingerprint()) === record.fingerprint) {
      const touched = { ...record, mtime_ms: input.mtimeMs };
      const why = unchangedReason(record);
      return {
        decision: skip(why.skip === 'unchanged' ? { ...why, skip: 'touched', reason: `content unchanged (only its time changed) since job ${record.job_id} (${record.outcome})` } : why),
        record: touched,
      };
    }
  }
  if (output && !input.outputsAreWork) {
    if (output.size === undefined) return { decision: skip({ skip: 'output-pending', reason: `job ${output.job_id} will write it`, job_id: output.job_id }) };
    if (output.size === input.size && output.mtime_ms === input.mtimeMs) return { decision: skip({ skip: 'output', reason: `an output of job ${output.job_id}`, job_id: output.job_id }) };
    if (output.size === input.size && (await input.fingerprint()) === output.fingerprint) {
      return { decision: skip({ skip: 'output', reason: `an output of job ${output.job_id} (only its time changed since)`, job_id: output.job_id }), output: { ...output, mtime_ms: input.mtimeMs } };
    }
  }
  if (record?.attention) return { decision: skip(unchangedReason(record)) };
  const reason = !record ? 'new file' : record.job_id ? `changed since job ${record.job_id} (${record.outcome})` : 'changed';
  return { decision: { action: 'submit', reason } };
}
