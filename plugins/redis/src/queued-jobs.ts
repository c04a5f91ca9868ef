import { jobExists, type CancelResult, type NewJob, type StoredJob } from '@sisyphus/server/store';
import type { BullmqMoves } from './bullmq-moves.js';
import { toBullmqId } from './job-ids.js';
import { hashOf, isoTime, newRecordFields, timeScore, toStoredJob } from './job-record.js';
import { runScript } from './lua-scripts.js';
import { toBullmqPriority } from './priority-mapping.js';
import type { StoreChannels } from './store-channels.js';
import type { StoreContext } from './store-context.js';

/** What BullMQ's own job holds: enough to tell it apart in a BullMQ dashboard (the document and result live in our record only). */
const bullmqData = (job: StoredJob) => ({ job_id: job.job_id, job_title: job.job_title });

/** Jobs entering the queue and leaving it before they run: submit, cancel, remove. */
export class QueuedJobs {
  constructor(
    private readonly ctx: StoreContext,
    private readonly moves: BullmqMoves,
    private readonly channels: StoreChannels,
  ) {}

  async submit(job: NewJob): Promise<StoredJob> {
    const { redis, keys: k, bull } = this.ctx;
    const fields = newRecordFields(job);
    const created = await runScript(redis, 'submit', [k.job(job.job_id), k.state('queued'), k.all], [job.job_id, timeScore(job.added), ...fields]);
    if (created !== 1) throw jobExists(job.job_id);
    // The record is exactly what was just written: no need to read it back.
    const stored = toStoredJob(job.job_id, hashOf(fields))!;
    try {
      await bull.add(toBullmqId(job.job_id), bullmqData(stored), toBullmqPriority(job.priority));
    } catch (error) {
      await runScript(redis, 'remove', [k.job(job.job_id), k.state('queued'), k.all], [job.job_id]);
      throw error;
    }
    await this.channels.wake().catch(() => undefined); // the job is queued; a missed wake-up only delays it to the next look
    return stored;
  }

  async cancel(jobId: string, now: number): Promise<CancelResult> {
    const k = this.ctx.keys;
    const result = (await runScript(this.ctx.redis, 'cancel', [k.job(jobId), k.state('queued'), k.state('cancelled'), k.all], [jobId, isoTime(now), now])) as CancelResult;
    // Our record keeps the cancelled job; BullMQ forgets it (refused while a lease() holds it, which then drops it).
    if (result === 'cancelled') await this.moves.discard(jobId);
    // A running one: its worker hears it at once when it listens (direct Redis workers), else at its next heartbeat.
    if (result === 'requested') await this.channels.cancelRequested(jobId).catch(() => 0);
    return result;
  }

  async remove(jobId: string): Promise<boolean> {
    const k = this.ctx.keys;
    const removed = await runScript(this.ctx.redis, 'remove', [k.job(jobId), k.state('queued'), k.all], [jobId]);
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
