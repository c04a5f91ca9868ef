import type { JobFlow, JobRequirements, JobState, NewJob, StoredJob } from '@sisyphus/server/store';
import { toBullmqId } from './job-ids.js';
import { requirementSetId } from './requirement-sets.js';

/**
 * A job's live record is a Redis hash of plain fields, so that the Lua
 * scripts change state, attempts, holder and lease without decoding JSON
 * (Redis' cjson would round numbers and turn `[]` into `{}`). The submitted
 * document and the result are opaque JSON strings in it.
 *
 * Capability routing: a job with requirements has them as `requires`
 * (`JobRequirements` JSON) and the id of their set as `requires_set`
 * (requirement-sets.ts); a job whose BullMQ id is not its job id has it as
 * `bullmq_id`.
 *
 * Flows: a child has `parent_id`; a job that waited for children has its
 * {@link JobFlow} as `flow_task_index`, `flow_round`, `flow_state` (JSON,
 * absent when none), `flow_children` (JSON array of ids), `flow_pending`
 * and `flow_finally_id`, and, until its finally job is queued, that job's id
 * as `flow_finally` (its record fields wait in `StoreKeys.finally`).
 */
export type RecordHash = Record<string, string>;

/** Epoch ms of an ISO time, for sorted-set scores; 0 when it does not parse. */
export function timeScore(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : 0;
}

/** The ISO time of epoch ms `ms`. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/**
 * A title as the title filter compares it: lowercased here once (JavaScript's
 * full Unicode lowercasing, which Lua's `string.lower` lacks), kept in the
 * record as `title_lc` and in the listing indexes (fragments/listing-index.lua).
 */
export const titleKey = (title: string): string => title.toLowerCase();

/** The field/value pairs a new job's record starts with; `parentId` for a child of a flow. */
export function newRecordFields(job: NewJob, parentId?: string): string[] {
  const fields = [
    'job_title', job.job_title,
    'title_lc', titleKey(job.job_title),
    'job', JSON.stringify(job.job),
    'state', 'queued',
    'priority', String(job.priority),
    'added', job.added,
    'added_ms', String(timeScore(job.added)),
    'attempts', '0',
  ];
  if (job.retry_of !== undefined) fields.push('retry_of', job.retry_of);
  if (parentId !== undefined) fields.push('parent_id', parentId);
  if (job.requires !== undefined) fields.push('requires', JSON.stringify(job.requires), 'requires_set', requirementSetId(job.requires));
  // The scripts that take a job in BullMQ find its BullMQ id here when it is not the job id (job-ids.ts).
  const bullmqId = toBullmqId(job.job_id);
  if (bullmqId !== job.job_id) fields.push('bullmq_id', bullmqId);
  return fields;
}

/** A flat `HGETALL` reply (as Lua hands it back) as an object. */
export function hashOf(flat: readonly string[]): RecordHash {
  const hash: RecordHash = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return hash;
}

/** The {@link StoredJob} of a record hash; undefined for an empty (missing) hash. */
export function toStoredJob(jobId: string, hash: RecordHash): StoredJob | undefined {
  if (hash['state'] === undefined) return undefined;
  const job: StoredJob = {
    job_id: jobId,
    job_title: hash['job_title'] ?? '',
    job: JSON.parse(hash['job'] ?? '{}') as Record<string, unknown>,
    state: hash['state'] as JobState,
    priority: Number(hash['priority'] ?? 0),
    added: hash['added'] ?? '',
    attempts: Number(hash['attempts'] ?? 0),
  };
  if (hash['worker_id'] !== undefined) job.worker_id = hash['worker_id'];
  if (hash['lease_expires'] !== undefined) job.lease_expires = Number(hash['lease_expires']);
  if (hash['started_at'] !== undefined) job.started_at = hash['started_at'];
  if (hash['finished_at'] !== undefined) job.finished_at = hash['finished_at'];
  if (hash['result'] !== undefined) job.result = JSON.parse(hash['result']) as Record<string, unknown>;
  if (hash['reason'] !== undefined) job.reason = hash['reason'];
  if (hash['cancel_requested'] === '1') job.cancel_requested = true;
  if (hash['retry_of'] !== undefined) job.retry_of = hash['retry_of'];
  if (hash['retried_as'] !== undefined) job.retried_as = hash['retried_as'];
  if (hash['parent_id'] !== undefined) job.parent_id = hash['parent_id'];
  if (hash['flow_round'] !== undefined) job.flow = flowOf(hash);
  if (hash['requires'] !== undefined) job.requires = JSON.parse(hash['requires']) as JobRequirements;
  return job;
}

/** The {@link JobFlow} of a record that has one (`flow_round` set). */
function flowOf(hash: RecordHash): JobFlow {
  const flow: JobFlow = {
    task_index: Number(hash['flow_task_index'] ?? 0),
    round: Number(hash['flow_round']),
    children: JSON.parse(hash['flow_children'] ?? '[]') as string[],
    pending: Number(hash['flow_pending'] ?? 0),
  };
  if (hash['flow_state'] !== undefined) flow.state = JSON.parse(hash['flow_state']) as unknown;
  if (hash['flow_finally_id'] !== undefined) flow.finally_id = hash['flow_finally_id'];
  return flow;
}
