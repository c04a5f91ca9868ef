import { ErrorCodes } from '@sisyphus/core';
import { jobExists, jobNotFound, StoreError, type CancelResult, type NewJob, type PriorityResult, type StoredJob } from '@sisyphus/server/store';
import { PRIORITY_SCORE_UNIT } from './bullmq-internals.js';
import type { BullmqMoves } from './bullmq-moves.js';
import { toBullmqId } from './job-ids.js';
import { effectsOf, type JobOutbox } from './job-outbox.js';
import { hashOf, isoTime, newRecordFields, timeScore, toStoredJob } from './job-record.js';
import { runScript } from './lua-scripts.js';
import { toBullmqPriority } from './priority-mapping.js';
import type { StoreChannels } from './store-channels.js';
import type { StoreContext } from './store-context.js';

/** What BullMQ's own job holds: enough to tell it apart in a BullMQ dashboard (the document and result live in our record only). */
const bullmqData = (job: StoredJob) => ({ job_id: job.job_id, job_title: job.job_title });

/** The reply of retry.lua. */
type RetryReply = ['ok'] | ['not-found'] | ['exists'] | ['state', string] | ['retried', string] | ['child', string];
/** The reply of cancel.lua: the result, then the flow's effects (job-outbox.ts). */
type CancelReply = [CancelResult, string[], string[]];

/** Jobs entering the queue and leaving it before they run: submit, retry, priority changes, cancel, remove. */
export class QueuedJobs {
  constructor(
    private readonly ctx: StoreContext,
    private readonly moves: BullmqMoves,
    private readonly channels: StoreChannels,
    private readonly outbox: JobOutbox,
  ) {}

  async submit(job: NewJob): Promise<StoredJob> {
    const { redis, keys: k } = this.ctx;
    const fields = newRecordFields(job);
    const created = await runScript(redis, 'submit', [k.job(job.job_id), k.state('queued'), k.all, k.live, k.outbox], [job.job_id, timeScore(job.added), Date.now(), ...fields]);
    if (created !== 1) throw jobExists(job.job_id);
    // The record is exactly what was just written: no need to read it back.
    const stored = toStoredJob(job.job_id, hashOf(fields))!;
    await this.enqueue(stored, () => runScript(redis, 'remove', this.removeKeys(job.job_id), [job.job_id, k.root]));
    return stored;
  }

  /** See {@link QueueStore.retry}: retry.lua links and queues our record, then BullMQ queues the job as a submit does. */
  async retry(jobId: string, job: NewJob & { retry_of: string }): Promise<StoredJob> {
    const { redis, keys: k } = this.ctx;
    const fields = newRecordFields({ ...job, retry_of: jobId });
    const [result, detail] = (await runScript(
      redis,
      'retry',
      [k.job(jobId), k.job(job.job_id), k.state('queued'), k.all, k.live, k.outbox],
      [jobId, job.job_id, timeScore(job.added), k.jobPrefix, Date.now(), ...fields],
    )) as RetryReply;
    if (result === 'not-found') throw jobNotFound(jobId);
    if (result === 'exists') throw jobExists(job.job_id);
    if (result === 'retried') {
      throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} was retried already as ${detail}; retry ${detail} instead`, { details: { retried_as: detail } });
    }
    if (result === 'state') throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is ${detail}: only failed or cancelled jobs can be retried`);
    if (result === 'child') {
      throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is a child of job ${detail}: retry its parent instead`, { details: { parent_id: detail } });
    }
    const stored = toStoredJob(job.job_id, hashOf(fields))!;
    await this.enqueue(stored, async () => {
      await runScript(redis, 'remove', this.removeKeys(job.job_id), [job.job_id, k.root]);
      await redis.hdel(k.job(jobId), 'retried_as');
    });
    return stored;
  }

  /**
   * BullMQ's side of a job our record just queued: add it (undoing our
   * record with `undo` when that fails), then make it ready to lease in the
   * place BullMQ gave it (enqueued.lua) and wake a waiting poll.
   */
  private async enqueue(stored: StoredJob, undo: () => Promise<unknown>): Promise<void> {
    const { redis, keys: k, bull } = this.ctx;
    const bullmqId = toBullmqId(stored.job_id);
    const priority = toBullmqPriority(stored.priority);
    try {
      await bull.add(bullmqId, bullmqData(stored), priority);
    } catch (error) {
      await undo();
      throw error;
    }
    // Both in one round trip, in this order (a poll woken by the message finds the job ready). Should the script
    // fail, the job stays in the outbox, whose sweep makes it ready (job-outbox.ts); a missed wake-up only delays
    // the job to the next look.
    await Promise.all([
      runScript(redis, 'enqueued', [k.job(stored.job_id), bull.keys.prioritized, k.outbox], [stored.job_id, bullmqId, PRIORITY_SCORE_UNIT, 'order', priority, k.root]).catch(() => 0),
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
      [priority, toBullmqPriority(priority), bullmqId, PRIORITY_SCORE_UNIT, k.root, jobId],
    )) as PriorityResult;
  }

  async cancel(jobId: string, now: number): Promise<CancelResult> {
    const k = this.ctx.keys;
    const [result, queued, discarded] = (await runScript(
      this.ctx.redis,
      'cancel',
      [k.job(jobId), k.state('queued'), k.state('cancelled'), k.all, k.history('cancelled'), k.live],
      [jobId, isoTime(now), now, k.root],
    )) as CancelReply;
    // Our record keeps the cancelled job; BullMQ forgets it (refused while a requeue's move holds its lock: that move drops it).
    if (result === 'cancelled') await this.moves.discard(jobId);
    // A flow: the queued children cancelled with it leave BullMQ too; a finally job is added (running children heard it from the script).
    if (queued.length > 0 || discarded.length > 0) await this.outbox.settle(effectsOf(queued, discarded));
    // A running one: its worker hears it at once when it listens (direct Redis workers), else at its next heartbeat.
    if (result === 'requested') await this.channels.cancelRequested(jobId).catch(() => 0);
    return result;
  }

  /** Remove a queued job; a `SIS_JOB_STATE` StoreError for a child of a flow (its parent is cancelled instead). */
  async remove(jobId: string): Promise<boolean> {
    const removed = await this.removeQueued(jobId);
    if (removed === 'child') throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is a child of a flow: cancel its parent instead`);
    return removed;
  }

  /** Remove every queued job that is not a child (children stay with their parents). */
  async clear(): Promise<void> {
    const ids = await this.ctx.redis.zrange(this.ctx.keys.state('queued'), 0, -1);
    await Promise.all(ids.map((id) => this.removeQueued(id)));
  }

  /** remove.lua, then BullMQ's side: true when removed, 'child' when refused. */
  private async removeQueued(jobId: string): Promise<boolean | 'child'> {
    const removed = await runScript(this.ctx.redis, 'remove', this.removeKeys(jobId), [jobId, this.ctx.keys.root]);
    if (removed === 'child') return 'child';
    if (removed !== 1) return false;
    await this.moves.discard(jobId);
    return true;
  }

  /** KEYS of remove.lua for job `jobId`. */
  private removeKeys(jobId: string): string[] {
    const k = this.ctx.keys;
    return [k.job(jobId), k.state('queued'), k.all, k.live, k.children(jobId), k.dependencies(jobId), k.processed(jobId), k.finally(jobId)];
  }
}
