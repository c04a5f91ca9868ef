import { randomUUID } from 'node:crypto';
import type { FinishAndPollResult, FinishResult, JobOutcome, LeaseOptions } from '@sisyphus/server/store';
import type { FastCompletion } from './bullmq-internals.js';
import type { BullmqMoves } from './bullmq-moves.js';
import { toBullmqId } from './job-ids.js';
import type { JobLeases } from './job-leases.js';
import { effectsOf, type JobOutbox } from './job-outbox.js';
import { isoTime } from './job-record.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** The reply of the finish script: result, the lease's lock token, what blocks a poll, the flow's effects (job-outbox.ts). */
type FinishReply = [FinishResult, string, string?, string[]?, string[]?];
/** The reply of finish-lease.lua: FINISH's first three, then 1 with the next job's record and id when it leased one (3: the lease needs the capability list, else 0), the flow's effects. */
type FinishLeaseReply = [FinishResult, string, string?, number?, (string[] | string)?, string?, string[]?, string[]?];

/**
 * A job's end as its worker or the server reports it (our finish script
 * decides, then BullMQ's move follows), and the worker's report that asks
 * for its next job at once: finish-lease.lua ends the job and leases the
 * best job the worker can run in one script (capability routing, as a poll
 * right after would lease it), and, when the holder reports through the
 * instance that leased the job to it, BullMQ's move of the finished job
 * goes in the same write: one round trip.
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

  async finishAndPoll(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number, options?: LeaseOptions): Promise<FinishAndPollResult> {
    const held = this.leases.held(jobId);
    const fast = held !== undefined && workerId !== '' && held.workerId === workerId && outcome.state === 'completed';
    if (fast) this.leases.forget(jobId);
    const sent = fast ? await this.finishAndPollAtOnce(jobId, workerId, outcome, now, leaseMs, held.token, options) : undefined;
    if (sent?.error) throw sent.error; // our finish is not known to have happened: the worker retries its report
    // The ordinary way: our script decides (the finish and the next lease), then BullMQ's move of the finished job follows.
    const reply = sent?.reply ?? (await this.finishLeaseScript(jobId, workerId, outcome, now, leaseMs, options));
    const [result, token, gate, code, record, nextId, queued, discarded] = reply;
    if (result !== 'ok') return { result };
    this.leases.forget(jobId);
    // BullMQ's side of the finished job: unless the move sent along completed it (with the token this instance remembered).
    if (!sent?.completed) await this.moves.finish(jobId, token, outcome);
    // The flow's effects first: a parent this finish resumed may be the job this worker gets next (the script left the lease to us then).
    if (queued?.length || discarded?.length) await this.outbox.settle(effectsOf(queued, discarded));
    if (gate === 'queue' || gate === 'worker') return { result, blocked: gate };
    if (code === 1) return { result, job: this.leases.leased(record as string[], nextId!, workerId) };
    // 3: the lease by capability fingerprint met a set it had no answer for (see JobLeases.leaseArgs): again with the list.
    if (!queued?.length && code !== 3) return { result };
    const job = await this.leases.lease(workerId, leaseMs, now, options, code === 3);
    return job ? { result, job } : { result };
  }

  /**
   * {@link finishAndPoll} in one round trip: BullMQ's move to completed (with
   * the lock token this instance leased the job with) and finish-lease.lua
   * leave in one write. The move is safe to send before our script has
   * decided: a worker whose lease was lost lost the BullMQ lock with it
   * (expire.lua takes the lock, a new lease has a new token), so its move
   * fails and changes nothing. Undefined when BullMQ's internals are not as
   * expected: the caller takes the ordinary way.
   */
  private async finishAndPollAtOnce(
    jobId: string,
    workerId: string,
    outcome: JobOutcome,
    now: number,
    leaseMs: number,
    token: string,
    options: LeaseOptions | undefined,
  ): Promise<FastCompletion<FinishLeaseReply> | undefined> {
    return this.ctx.bull.fastComplete(toBullmqId(jobId), token, () => this.finishLeaseScript(jobId, workerId, outcome, now, leaseMs, options));
  }

  /** finish-lease.lua: the finish, the gate of the poll that follows and the lease of the worker's next job. */
  private finishLeaseScript(jobId: string, workerId: string, outcome: JobOutcome, now: number, leaseMs: number, options: LeaseOptions | undefined): Promise<FinishLeaseReply> {
    const { redis, keys: k, bull } = this.ctx;
    const resultJson = outcome.result === undefined ? undefined : JSON.stringify(outcome.result);
    return runScript(
      redis,
      'finish-lease',
      [...this.finishKeys(jobId, workerId, outcome), k.outbox, bull.keys.prioritized, bull.keys.wait, bull.keys.active, bull.keys.events],
      [...this.finishArgs(jobId, workerId, outcome, now, true, resultJson), ...this.leases.leaseArgs(leaseMs, now, randomUUID(), options)],
    ) as Promise<FinishLeaseReply>;
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

  /** KEYS of the finish script (finish-lease.lua adds its own after them). */
  private finishKeys(jobId: string, workerId: string, outcome: JobOutcome): string[] {
    const k = this.ctx.keys;
    return [
      k.job(jobId), k.leases, k.state('running'), k.state(outcome.state), k.all,
      k.queueAttributes, k.workerAttributes(workerId), k.state('queued'), k.history(outcome.state), k.live,
    ];
  }

  /** ARGV of the finish script (finish-lease.lua adds its own after them). */
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
