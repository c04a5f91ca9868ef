import { ErrorCodes } from '@sisyphus/core';
import { jobExists, jobNotFound, StoreError, type CancelResult, type NewJob, type PriorityResult, type StoredJob } from '@sisyphus/server/store';
import { PRIORITY_SCORE_UNIT } from './bullmq-internals.js';
import type { BullmqMoves } from './bullmq-moves.js';
import { toBullmqId } from './job-ids.js';
import { hashOf, isoTime, newRecordFields, timeScore, toStoredJob } from './job-record.js';
import { runScript } from './lua-scripts.js';
import { toBullmqPriority } from './priority-mapping.js';
import type { StoreChannels } from './store-channels.js';
import type { StoreContext } from './store-context.js';

/** What BullMQ's own job holds: enough to tell it apart in a BullMQ dashboard (the document and result live in our record only). */
const bullmqData = (job: StoredJob) => ({ job_id: job.job_id, job_title: job.job_title });

/** The reply of retry.lua. */
type RetryReply = ['ok'] | ['not-found'] | ['exists'] | ['state', string] | ['retried', string];

/** Jobs entering the queue and leaving it before they run: submit, retry, priority changes, cancel, remove. */
export class QueuedJobs {
  constructor(
    private readonly ctx: StoreContext,
    private readonly moves: BullmqMoves,
    private readonly channels: StoreChannels,
  ) {}

  async submit(job: NewJob): Promise<StoredJob> {
    const { redis, keys: k } = this.ctx;
    const fields = newRecordFields(job);
    const created = await runScript(redis, 'submit', [k.job(job.job_id), k.state('queued'), k.all, k.live], [job.job_id, timeScore(job.added), ...fields]);
    if (created !== 1) throw jobExists(job.job_id);
    // The record is exactly what was just written: no need to read it back.
    const stored = toStoredJob(job.job_id, hashOf(fields))!;
    await this.enqueue(stored, () => runScript(redis, 'remove', [k.job(job.job_id), k.state('queued'), k.all, k.live], [job.job_id]));
    return stored;
  }

  /** See {@link QueueStore.retry}: retry.lua links and queues our record, then BullMQ queues the job as a submit does. */
  async retry(jobId: string, job: NewJob & { retry_of: string }): Promise<StoredJob> {
    const { redis, keys: k } = this.ctx;
    const fields = newRecordFields({ ...job, retry_of: jobId });
    const [result, detail] = (await runScript(
      redis,
      'retry',
      [k.job(jobId), k.job(job.job_id), k.state('queued'), k.all, k.live],
      [jobId, job.job_id, timeScore(job.added), k.jobPrefix, ...fields],
    )) as RetryReply;
    if (result === 'not-found') throw jobNotFound(jobId);
    if (result === 'exists') throw jobExists(job.job_id);
    if (result === 'retried') {
      throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} was retried already as ${detail}; retry ${detail} instead`, { details: { retried_as: detail } });
    }
    if (result === 'state') throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is ${detail}: only failed or cancelled jobs can be retried`);
    const stored = toStoredJob(job.job_id, hashOf(fields))!;
    await this.enqueue(stored, async () => {
      await runScript(redis, 'remove', [k.job(job.job_id), k.state('queued'), k.all, k.live], [job.job_id]);
      await redis.hdel(k.job(jobId), 'retried_as');
    });
    return stored;
  }

  /**
   * BullMQ's side of a job our record just queued: add it (undoing our
   * record with `undo` when that fails), keep its place in the submission
   * order (remember-order.lua) and wake a waiting poll.
   */
  private async enqueue(stored: StoredJob, undo: () => Promise<unknown>): Promise<void> {
    const { redis, keys: k, bull } = this.ctx;
    const bullmqId = toBullmqId(stored.job_id);
    try {
      await bull.add(bullmqId, bullmqData(stored), toBullmqPriority(stored.priority));
    } catch (error) {
      await undo();
      throw error;
    }
    // Both in one round trip; neither matters much (a missed wake-up only delays the job to the next look;
    // a job without its order kept takes the head of a new priority if requeued first).
    await Promise.all([
      runScript(redis, 'remember-order', [k.job(stored.job_id), bull.keys.prioritized], [bullmqId, PRIORITY_SCORE_UNIT]).catch(() => 0),
      this.channels.wake().catch(() => undefined),
    ]);
  }

  async setPriority(jobId: string, priority: number): Promise<PriorityResult> {
    const { redis, keys: k, bull } = this.ctx;
    const bullmqId = toBullmqId(jobId);
    return (await runScript(
      redis,
      'set-priority',
      [k.job(jobId), bull.keys.prioritized, bull.jobKey(bullmqId)],
      [priority, toBullmqPriority(priority), bullmqId, PRIORITY_SCORE_UNIT],
    )) as PriorityResult;
  }

  async cancel(jobId: string, now: number): Promise<CancelResult> {
    const k = this.ctx.keys;
    const result = (await runScript(this.ctx.redis, 'cancel', [k.job(jobId), k.state('queued'), k.state('cancelled'), k.all, k.history('cancelled'), k.live], [jobId, isoTime(now), now])) as CancelResult;
    // Our record keeps the cancelled job; BullMQ forgets it (refused while a lease() holds it, which then drops it).
    if (result === 'cancelled') await this.moves.discard(jobId);
    // A running one: its worker hears it at once when it listens (direct Redis workers), else at its next heartbeat.
    if (result === 'requested') await this.channels.cancelRequested(jobId).catch(() => 0);
    return result;
  }

  async remove(jobId: string): Promise<boolean> {
    const k = this.ctx.keys;
    const removed = await runScript(this.ctx.redis, 'remove', [k.job(jobId), k.state('queued'), k.all, k.live], [jobId]);
    if (removed !== 1) return false;
    await this.moves.discard(jobId);
    return true;
  }

  /** Remove every queued job. */
  async clear(): Promise<void> {
    const ids = await this.ctx.redis.zrange(this.ctx.keys.state('queued'), 0, -1);
    await Promise.all(ids.map((id) => this.remove(id)));
  }
}
