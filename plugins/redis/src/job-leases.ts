import { randomUUID } from 'node:crypto';
import type { FinishResult, PollResult, StoredJob } from '@sisyphus/server/store';
import type { BullmqMoves } from './bullmq-moves.js';
import { fromBullmqId, toBullmqId } from './job-ids.js';
import { effectsOf, type JobOutbox } from './job-outbox.js';
import { hashOf, isoTime, toStoredJob } from './job-record.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** How many lock tokens of leased jobs an instance remembers (see {@link JobLeases.held}); a forgotten one is read from Redis. */
const MAX_HELD_TOKENS = 10_000;

/**
 * Leases: taking a job BullMQ hands out (our LEASE script decides), renewing,
 * giving back and expiring them. A lease and the BullMQ lock of its job go
 * together: the lock is taken for the lease plus `lockGraceMs`, renewed with
 * it, and handed to the mover when a lease ends.
 */
export class JobLeases {
  /**
   * Lock token and holder of the jobs this instance leased and has not seen
   * end, so the holder's report can move the BullMQ job in the same round
   * trip as our finish script (see job-reports.ts). Only the holder's: the
   * token moves the BullMQ job whoever sends it, so a report from anyone
   * else must not use it. Bounded: the oldest entries go first.
   */
  readonly #held = new Map<string, { token: string; workerId: string }>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly moves: BullmqMoves,
    private readonly outbox: JobOutbox,
  ) {}

  /** The lock token job `jobId` was leased with here, if this instance leased it and has not seen it end. */
  held(jobId: string): { token: string; workerId: string } | undefined {
    return this.#held.get(jobId);
  }

  /** Remember that job `jobId` was leased to `workerId` with lock token `token`. */
  hold(jobId: string, token: string, workerId: string): void {
    this.#held.set(jobId, { token, workerId });
    if (this.#held.size > MAX_HELD_TOKENS) this.#held.delete(this.#held.keys().next().value!);
  }

  /** Forget the token of job `jobId` (its lease ended). */
  forget(jobId: string): void {
    this.#held.delete(jobId);
  }

  /** A lease for `workerId` unless the queue or the worker is disabled. */
  async poll(workerId: string, leaseMs: number, now: number): Promise<PollResult> {
    const k = this.ctx.keys;
    const blocked = (await runScript(this.ctx.redis, 'gate', [k.queueAttributes, k.workerAttributes(workerId)], [workerId === '' ? '0' : '1'])) as string;
    if (blocked === 'queue' || blocked === 'worker') return { blocked };
    const job = await this.lease(workerId, leaseMs, now);
    return job ? { job } : {};
  }

  /** The next job BullMQ hands out that our record lets `workerId` lease, or undefined when none is left. */
  async lease(workerId: string, leaseMs: number, now: number): Promise<StoredJob | undefined> {
    for (;;) {
      const token = randomUUID();
      const bullmqId = await this.ctx.bull.fetchNext(token);
      if (!bullmqId) return undefined;
      const leased = await this.leaseFetched(bullmqId, token, workerId, leaseMs, now);
      if (leased) return leased;
    }
  }

  /**
   * Record the lease of a job BullMQ just handed out (locked with `token`).
   * Undefined when it was removed or cancelled meanwhile (it is then dropped
   * from BullMQ too), or when it runs under a live lease (BullMQ gave it back
   * after its lock lapsed; the lock goes back to its holder): the caller
   * takes the next one.
   */
  async leaseFetched(bullmqId: string, token: string, workerId: string, leaseMs: number, now: number): Promise<StoredJob | undefined> {
    const { redis, keys: k, bull } = this.ctx;
    const jobId = fromBullmqId(bullmqId);
    const [leased, payload] = (await runScript(
      redis,
      'lease',
      [k.job(jobId), k.leases, k.state('queued'), k.state('running'), bull.lockKey(toBullmqId(jobId)), k.leaseGrace],
      [jobId, workerId, now + leaseMs, isoTime(now), token, now, bull.lockMs],
    )) as [number, string[] | string];
    if (leased === 2) return undefined; // someone's live lease: left to its holder
    if (leased === 1) {
      this.hold(jobId, token, workerId);
      await this.lockFor(bullmqId, token, leaseMs);
      return toStoredJob(jobId, hashOf(payload as string[]));
    }
    await this.moves.drop(bullmqId, token, payload as string);
    return undefined;
  }

  /** Make the BullMQ lock of a job just leased last for a lease of `leaseMs` plus the grace. */
  async lockFor(bullmqId: string, token: string, leaseMs: number): Promise<void> {
    // BullMQ locked it for lockMs already; only a longer lease needs more.
    const ms = leaseMs + this.ctx.lockGraceMs;
    if (ms > this.ctx.bull.lockMs) await this.ctx.bull.extendLock(bullmqId, token, ms);
  }

  /**
   * Until epoch ms `until`, a running job whose lease ran out stays its
   * holder's when BullMQ's stalled check gives it back (as under a live
   * lease): the sweep's grace period after an outage, shared by every
   * instance on the prefix.
   */
  async setLeaseGrace(until: number): Promise<void> {
    const ms = Math.max(1, Math.ceil(until - Date.now()));
    await this.ctx.redis.set(this.ctx.keys.leaseGrace, String(until), 'PX', ms);
  }

  async renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
    const { redis, keys: k, bull, lockGraceMs } = this.ctx;
    const bullmqId = toBullmqId(jobId);
    const token = (await runScript(redis, 'renew', [k.job(jobId), k.leases, bull.lockKey(bullmqId), k.state('queued'), k.state('running')], [
      jobId,
      workerId,
      now + leaseMs,
      leaseMs + lockGraceMs,
    ])) as string | null;
    if (token === null) return false;
    // Its last holder took it back ('~requeued'): it stays in BullMQ's queue; the next poll that fetches it meets
    // a live lease and keeps it, locked, for its holder (see lease-record.lua), and a requeue finds it where it is.
    if (token === '~requeued') return true;
    // The lease is ours whatever BullMQ says; a lock BullMQ lost already is left to its stalled check.
    if (token !== '') await bull.extendLock(bullmqId, token, leaseMs + lockGraceMs);
    return true;
  }

  async release(jobId: string, workerId: string | undefined): Promise<FinishResult> {
    const { redis, keys: k, bull, lockGraceMs } = this.ctx;
    const [result, token] = (await runScript(
      redis,
      'release',
      [k.job(jobId), k.leases, k.state('running'), k.state('queued'), bull.lockKey(toBullmqId(jobId))],
      [jobId, workerId ?? '', randomUUID(), lockGraceMs],
    )) as [FinishResult, string];
    if (result === 'ok') {
      this.forget(jobId);
      await this.moves.requeue(jobId, token);
    }
    return result;
  }

  async expireLeases(now: number, maxAttempts: number): Promise<{ requeued: string[]; failed: string[] }> {
    const { redis, keys: k, bull, lockGraceMs } = this.ctx;
    const expired = await redis.zrangebyscore(k.leases, '-inf', `(${now}`);
    const requeued: string[] = [];
    const failed: string[] = [];
    for (const jobId of expired) {
      const [outcome, moveToken, reason, queued, discarded] = (await runScript(
        redis,
        'expire',
        [
          k.job(jobId), k.leases, k.state('running'), k.state('queued'), k.state('failed'), k.state('cancelled'), k.all,
          bull.lockKey(toBullmqId(jobId)), k.leaseGrace, k.history('failed'), k.history('cancelled'), k.live,
        ],
        [jobId, now, maxAttempts, isoTime(now), randomUUID(), lockGraceMs, k.root],
      )) as ['requeued' | 'failed' | 'cancelled' | 'skip', string, string, string[]?, string[]?];
      if (outcome !== 'skip') this.forget(jobId);
      // The script moved the BullMQ lock from the holder to this sweep (moveToken): the moves use it.
      if (outcome === 'requeued') {
        await this.moves.requeue(jobId, moveToken);
        requeued.push(jobId);
      } else if (outcome !== 'skip') {
        await this.moves.finish(jobId, moveToken, { state: outcome, reason });
        if (queued?.length || discarded?.length) await this.outbox.settle(effectsOf(queued, discarded));
        failed.push(jobId);
      }
    }
    // Jobs a script queued whose BullMQ add a crash prevented (see job-outbox.ts): this sweep adds them.
    await this.outbox.sweep(now);
    return { requeued, failed };
  }
}
