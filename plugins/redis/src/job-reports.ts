import type { FinishAndPollResult, FinishResult, JobOutcome } from '@sisyphus/server/store';
import type { BullmqMoves } from './bullmq-moves.js';
import { fromBullmqId, toBullmqId } from './job-ids.js';
import type { JobLeases } from './job-leases.js';
import { effectsOf, type JobOutbox } from './job-outbox.js';
import { hashOf, isoTime, toStoredJob } from './job-record.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** The reply of the finish script: result, the lease's lock token, what blocks a poll, the flow's effects (job-outbox.ts). */
type FinishReply = [FinishResult, string, string?, string[]?, string[]?];
/** The reply of finish-lease-head: FINISH's first three, what it found at the head of BullMQ's active list (see the script), the flow's effects. */
type FinishLeaseHeadReply = [FinishResult, string, string?, number?, (string[] | string)?, string?, string[]?, string[]?];

/**
 * A job's end as its worker or the server reports it (our finish script
 * decides, then BullMQ's move follows), and the worker's report that asks
 * for its next job at once: BullMQ's own worker loop, where finishing a job
 * fetches the next one in the same call, in one round trip when the
 * holder reports through the instance that leased the job to it.
 */
export class JobReports {
  constructor(
    private readonly ctx: StoreContext,
    private readonly leases: JobLeases,
    private readonly moves: BullmqMoves,
    private readonly outbox: JobOutbox,
  ) {}

  async finish(jobId: string, workerId: string | undefined, outcome: JobOutcome, now: number): Promise<FinishResult> {
    const [result, token, , queued, discarded] = await this.finishScript(jobId, workerId ?? '', outcome, now, false);
    if (result === 'ok') {
      this.leases.forget(jobId);
      await this.moves.finish(jobId, token, outcome);
      if (queued?.length || discarded?.length) await this.outbox.settle(effectsOf(queued, discarded));
    }
    return result;
  }

  async finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number): Promise<FinishAndPollResult> {
    const held = this.leases.held(jobId);
    if (held && workerId !== '' && held.workerId === workerId && outcome.state === 'completed') {
      this.leases.forget(jobId);
      const done = await this.finishAndPollAtOnce(jobId, workerId, outcome, now, leaseMs, held.token);
      if (done) return done;
    }
    const [result, token, blocked, queued, discarded] = await this.finishScript(jobId, workerId, outcome, now, true);
    if (result !== 'ok') return { result };
    this.leases.forget(jobId);
    // The flow's effects first: a parent this finish resumed may be the job this worker gets next.
    if (queued?.length || discarded?.length) await this.outbox.settle(effectsOf(queued, discarded));
    if (blocked === 'queue' || blocked === 'worker') {
      await this.moves.finish(jobId, token, outcome);
      return { result, blocked };
    }
    // BullMQ's own worker loop: finishing a job fetches the next one in the same call.
    const nextId = await this.moves.finish(jobId, token, outcome, true);
    const job = (nextId && (await this.leases.leaseFetched(nextId, token, workerId, leaseMs, now))) || (await this.leases.lease(workerId, leaseMs, now));
    return job ? { result, job } : { result };
  }

  /**
   * {@link finishAndPoll} in one round trip: BullMQ's move to completed
   * (fetching the next job with the same token) and finish-lease-head (our
   * finish, and our lease of the job the move fetched) leave in one write.
   * The move is safe to send before our script has decided: a worker whose
   * lease was lost lost the BullMQ lock with it (expire.lua takes the lock, a
   * new lease has a new token), so its move fails and changes nothing, and
   * then no job holds its token for the script to lease. Undefined when
   * BullMQ's internals are not as expected: the caller takes the ordinary path.
   */
  private async finishAndPollAtOnce(
    jobId: string,
    workerId: string,
    outcome: JobOutcome,
    now: number,
    leaseMs: number,
    token: string,
  ): Promise<FinishAndPollResult | undefined> {
    const { redis, keys: k, bull } = this.ctx;
    const nowIso = isoTime(now); // finished_at of this job, started_at of the next
    const resultJson = outcome.result === undefined ? undefined : JSON.stringify(outcome.result);
    const sent = await bull.fastComplete(toBullmqId(jobId), token, () =>
      runScript(
        redis,
        'finish-lease-head',
        [...this.finishKeys(jobId, workerId, outcome), bull.keys.active, k.leaseGrace],
        [
          ...this.finishArgs(jobId, workerId, outcome, now, true, resultJson, nowIso),
          bull.keys.jobPrefix,
          k.jobPrefix,
          now + leaseMs,
          nowIso,
          token,
          toBullmqId(jobId),
          bull.lockMs,
          bull.keys.lockSuffix,
        ],
      ) as Promise<FinishLeaseHeadReply>,
    );
    if (!sent) return undefined;
    const { completed: completedInBullmq, fetchedId: nextId } = sent;
    if (sent.error) {
      // Our finish is not known to have happened: give a fetched job back and let the worker retry its report.
      // (If Redis is gone, the fetched job's lock runs out and BullMQ's stalled check gives it back.)
      if (nextId) await this.moves.requeue(fromBullmqId(nextId), token).catch(() => undefined);
      throw sent.error;
    }
    const [result, leaseToken, gate, code = 3, headPayload, headId, queued, discarded] = sent.reply!;
    if (queued?.length || discarded?.length) await this.outbox.settle(effectsOf(queued, discarded));
    // The remembered token was stale (the lease was renewed under another instance's token) or the lock was lost: the lease's own token.
    if (result === 'ok' && !completedInBullmq && leaseToken !== token) await this.moves.finish(jobId, leaseToken, outcome);
    const blocked = gate === 'queue' || gate === 'worker' ? gate : undefined;
    const nothing = (): FinishAndPollResult => (blocked && result === 'ok' ? { result, blocked } : { result });
    // The flow queued jobs after the move fetched (a parent this child resumed, a finally job): the next job is
    // leased as a poll now would lease it (the script left the fetched one alone).
    const flowQueued = result === 'ok' && (queued?.length ?? 0) > 0;
    if (!nextId) {
      // Nothing fetched: the queue was empty. (When the move itself failed, look the ordinary way.)
      if (result !== 'ok' || blocked || (completedInBullmq && !flowQueued)) return nothing();
      const job = await this.leases.lease(workerId, leaseMs, now);
      return job ? { result, job } : { result };
    }
    const nextJobId = fromBullmqId(nextId);
    if (result !== 'ok' || blocked || flowQueued) {
      await this.moves.requeue(nextJobId, token); // not to be handed out now: back to the head of the queue
      if (!flowQueued || blocked) return nothing();
      const job = await this.leases.lease(workerId, leaseMs, now);
      return job ? { result, job } : { result };
    }
    // What the script found at the head counts only if it is the job the move fetched.
    const headCode = headId === nextId ? code : code === 1 && headId ? -1 : 3;
    if (headCode === -1) {
      await this.leases.release(fromBullmqId(headId!), workerId); // cannot happen (see finish-lease-head.lua); never keep a job nobody runs
    } else if (headCode === 1) {
      this.leases.hold(nextJobId, token, workerId);
      await this.leases.lockFor(nextId, token, leaseMs);
      return { result, job: toStoredJob(nextJobId, hashOf(headPayload as string[]))! };
    }
    if (headCode === 0 || headCode === 2) {
      // Finished or gone: out of BullMQ too. Running under a live lease: the script gave the lock back to its holder.
      if (headCode === 0) await this.moves.drop(nextId, token, headPayload as string);
      const job = await this.leases.lease(workerId, leaseMs, now);
      return job ? { result, job } : { result };
    }
    // Another client's job came to the head in between (or the id is escaped): lease ours by its id.
    const job = (await this.leases.leaseFetched(nextId, token, workerId, leaseMs, now)) || (await this.leases.lease(workerId, leaseMs, now));
    return job ? { result, job } : { result };
  }

  /** Our side of a finish (the finish script); with `polling`, also the gate of the poll that follows. */
  private async finishScript(jobId: string, workerId: string, outcome: JobOutcome, now: number, polling: boolean): Promise<FinishReply> {
    const resultJson = outcome.result === undefined ? undefined : JSON.stringify(outcome.result);
    return (await runScript(
      this.ctx.redis,
      'finish',
      this.finishKeys(jobId, workerId, outcome),
      this.finishArgs(jobId, workerId, outcome, now, polling, resultJson),
    )) as FinishReply;
  }

  /** KEYS of the finish script (finish-lease-head adds its own after them). */
  private finishKeys(jobId: string, workerId: string, outcome: JobOutcome): string[] {
    const k = this.ctx.keys;
    return [
      k.job(jobId), k.leases, k.state('running'), k.state(outcome.state), k.all,
      k.queueAttributes, k.workerAttributes(workerId), k.state('queued'), k.history(outcome.state), k.live,
    ];
  }

  /** ARGV of the finish script (finish-lease-head adds its own after them). */
  private finishArgs(
    jobId: string,
    workerId: string,
    outcome: JobOutcome,
    now: number,
    polling: boolean,
    resultJson: string | undefined,
    nowIso = isoTime(now),
  ): Array<string | number> {
    return [
      jobId,
      workerId,
      outcome.state,
      nowIso,
      now,
      resultJson === undefined ? '0' : '1',
      resultJson ?? '',
      outcome.reason === undefined ? '0' : '1',
      outcome.reason ?? '',
      polling ? '1' : '0',
      this.ctx.keys.root,
    ];
  }
}
