import type { JobOutcome } from '@sisyphus/server/store';
import { toBullmqId } from './job-ids.js';
import type { StoreChannels } from './store-channels.js';
import type { StoreContext } from './store-context.js';

/**
 * BullMQ's side of a change our script has decided already: each move is
 * made only with the BullMQ lock the script reported (a job whose lock is
 * someone else's is theirs; one without a lock is the stalled check's), and
 * a move that fails changes nothing our record says. A BullMQ job that no
 * longer stands for a queued or running job of ours leaves BullMQ (nothing
 * fetches from BullMQ blindly to find it: leases take the jobs our ready
 * indexes name).
 */
export class BullmqMoves {
  constructor(
    private readonly ctx: StoreContext,
    private readonly channels: StoreChannels,
  ) {}

  /**
   * Give a job we hold (with `token`; '' = we do not) back to the head of
   * its priority, and wake a poll. (Our script put it back in its ready
   * index already.) Should it have ended meanwhile (cancelled or removed
   * while we held the lock, so its own removal from BullMQ was refused), it
   * leaves BullMQ instead.
   */
  async requeue(jobId: string, token: string): Promise<void> {
    if (token !== '') {
      const moved = await this.ctx.bull.moveToWait(toBullmqId(jobId), token).then(
        () => true,
        () => false,
      );
      if (moved) {
        const state = await this.ctx.redis.hget(this.ctx.keys.job(jobId), 'state').catch(() => 'queued');
        if (state !== 'queued' && state !== 'running') await this.discard(jobId);
      }
    }
    await this.channels.wake();
  }

  /** End a job we hold (with `token`; '' = we do not) in BullMQ as our record says. */
  async finish(jobId: string, token: string, outcome: JobOutcome): Promise<void> {
    // Only with the lock (a job locked by someone else is theirs). Without it (a requeued job its last holder
    // finished, waiting unlocked in BullMQ): out of BullMQ's queue (refused while someone holds a lock).
    if (token === '') return this.discard(jobId);
    const bullmqId = toBullmqId(jobId);
    try {
      if (outcome.state === 'completed') await this.ctx.bull.complete(bullmqId, token);
      else await this.ctx.bull.fail(bullmqId, token, outcome.reason ?? outcome.state);
    } catch {
      // The lock lapsed and BullMQ's stalled check gave the job back to wait: out of BullMQ's queue. (Finished
      // there already by a move that overtook this one: it stays as it is.)
      if (await this.ctx.bull.waiting(bullmqId).catch(() => false)) await this.discard(jobId);
    }
  }

  /**
   * Take a job we hold (with `token`; '' = we do not) out of BullMQ: it
   * waits for its children, holding no worker (job-flows.ts), and is added
   * again when it resumes. Completed first (BullMQ removes no locked job).
   */
  async retire(jobId: string, token: string): Promise<void> {
    await this.finish(jobId, token, { state: 'completed' });
    await this.discard(jobId);
  }

  /** Out of BullMQ, if it lets us (it refuses while the job is locked: whoever holds it meets our record). */
  async discard(jobId: string): Promise<void> {
    await this.ctx.bull.remove(toBullmqId(jobId)).catch(() => 0);
  }
}
