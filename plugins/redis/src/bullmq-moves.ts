import type { JobOutcome } from '@sisyphus/server/store';
import type { BullmqInternals } from './bullmq-internals.js';
import { toBullmqId } from './job-ids.js';
import type { StoreChannels } from './store-channels.js';

/**
 * BullMQ's side of a change our script has decided already: each move is
 * made only with the BullMQ lock the script reported (a job whose lock is
 * someone else's is theirs; one without a lock is the stalled check's), and
 * a move that fails changes nothing our record says.
 */
export class BullmqMoves {
  constructor(
    private readonly bull: BullmqInternals,
    private readonly channels: StoreChannels,
  ) {}

  /** Give a job we hold (with `token`; '' = we do not) back to the head of its priority, and wake a poll. */
  async requeue(jobId: string, token: string): Promise<void> {
    if (token !== '') await this.bull.moveToWait(toBullmqId(jobId), token).catch(() => undefined);
    await this.channels.wake();
  }

  /**
   * End a job we hold in BullMQ as our record says. With `fetchNext`, BullMQ
   * hands out its next job in the same call (locked with the same token):
   * its BullMQ id is returned, to be leased.
   */
  async finish(jobId: string, token: string, outcome: JobOutcome, fetchNext = false): Promise<string | undefined> {
    // Only with the lock (BullMQ would hand a next job out unlocked, and a job locked by someone else is theirs).
    // Without it (a requeued job its last holder finished, waiting unlocked in BullMQ): out of BullMQ's queue
    // (refused while locked: whoever fetches it then meets our record and drops it).
    if (token === '') {
      await this.discard(jobId);
      return undefined;
    }
    const bullmqId = toBullmqId(jobId);
    try {
      return outcome.state === 'completed'
        ? await this.bull.complete(bullmqId, token, fetchNext)
        : await this.bull.fail(bullmqId, token, outcome.reason ?? outcome.state, fetchNext);
    } catch {
      return undefined; // lock lost meanwhile: as above
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

  /** A job BullMQ handed out (locked with `token`) whose record is gone or finished (`state`): out of BullMQ too. */
  async drop(bullmqId: string, token: string, state: string): Promise<void> {
    // A move that fails leaves it locked by us; once the lock lapses the stalled check gives it back, and this runs again.
    await this.bull.fail(bullmqId, token, `job is ${state === '' ? 'gone' : state}`, false).catch(() => undefined);
    await this.bull.remove(bullmqId).catch(() => 0);
  }

  /** Out of BullMQ, if it lets us (it refuses while the job is locked: whoever holds it meets our record and drops it). */
  async discard(jobId: string): Promise<void> {
    await this.bull.remove(toBullmqId(jobId)).catch(() => 0);
  }
}
