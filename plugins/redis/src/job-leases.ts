import { randomUUID } from 'node:crypto';
import type { FinishResult, LeaseOptions, PollResult, StoredJob } from '@sisyphus/server/store';
import { PRIORITY_SCORE_UNIT } from './bullmq-internals.js';
import type { BullmqMoves } from './bullmq-moves.js';
import { toBullmqId } from './job-ids.js';
import { effectsOf, type JobOutbox } from './job-outbox.js';
import { hashOf, isoTime, toStoredJob } from './job-record.js';
import { runScript } from './lua-scripts.js';
import { capabilityArgs, capabilityFingerprint } from './requirement-sets.js';
import type { StoreContext } from './store-context.js';

/** The reply of lease.lua: leased (record, job id), nothing to run, the gate closed, or "send the capabilities" (see {@link JobLeases.leaseArgs}). */
type LeaseReply = [1, string[], string] | [0] | [2, 'queue' | 'worker'] | [3];

/** How many lock tokens of leased jobs an instance remembers (see {@link JobLeases.held}); a forgotten one is read from Redis. */
const MAX_HELD_TOKENS = 10_000;

/** How many capability fingerprints an instance remembers having sent the list of (see {@link JobLeases.leaseArgs}). */
const MAX_LISTED = 1000;

/**
 * Leases: taking the best job a worker can run (lease.lua: the heads of the
 * ready indexes of the requirement sets it can run, the job taken in BullMQ
 * and leased in our record in one step), renewing, giving back and
 * expiring them. A lease and the BullMQ lock of its job go together: the
 * lock is taken for the lease plus `lockGraceMs`, renewed with it, and
 * handed to the mover when a lease ends.
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
  /** Fingerprints whose capability list this instance sent to a lease script (later leases send the fingerprint alone). */
  readonly #listed = new Set<string>();

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
  async poll(workerId: string, leaseMs: number, now: number, options?: LeaseOptions): Promise<PollResult> {
    const reply = await this.leaseScript(workerId, leaseMs, now, options, workerId === '' ? '0' : '1');
    if (reply[0] === 2) return { blocked: reply[1] };
    return reply[0] === 1 ? { job: this.leased(reply[1], reply[2], workerId) } : {};
  }

  /**
   * The best job `workerId` can run (see {@link QueueStore.lease}), leased;
   * undefined when there is none. `list`: send the capability list at once
   * (a lease script by fingerprint just asked for it).
   */
  async lease(workerId: string, leaseMs: number, now: number, options?: LeaseOptions, list = false): Promise<StoredJob | undefined> {
    const reply = await this.leaseScript(workerId, leaseMs, now, options, '', list);
    return reply[0] === 1 ? this.leased(reply[1], reply[2], workerId) : undefined;
  }

  /**
   * What the lease scripts (lease.lua, finish-lease.lua) take about the
   * lease to make, locked with `token` in BullMQ for the lease plus the
   * grace (and no less than BullMQ's own lock), and the worker's
   * capabilities: the list the first time this instance leases for its
   * fingerprint (or with `list`), the fingerprint alone after that (the
   * script kept what the list allows; when it meets a set it has no answer
   * for, it answers 3 and the caller calls again with `list`).
   */
  leaseArgs(leaseMs: number, now: number, token: string, options: LeaseOptions | undefined, list = false): Array<string | number> {
    const { bull, lockGraceMs } = this.ctx;
    const lockMs = Math.max(bull.lockMs, leaseMs + lockGraceMs);
    return [now + leaseMs, isoTime(now), token, lockMs, bull.keys.jobPrefix, bull.keys.lockSuffix, ...capabilityArgs(options, list || this.#listing(options))];
  }

  /** Whether the lease of a worker with `options`' capabilities must send their list: the first time here for its fingerprint. */
  #listing(options: LeaseOptions | undefined): boolean {
    if (options?.capabilities === undefined) return false;
    const fingerprint = capabilityFingerprint(options.capabilities);
    if (this.#listed.has(fingerprint)) return false;
    if (this.#listed.size >= MAX_LISTED) this.#listed.delete(this.#listed.values().next().value!);
    this.#listed.add(fingerprint);
    return true;
  }

  /** The job of a lease script's reply `[1, record, job id]`, its token remembered for `workerId` (see {@link held}). */
  leased(record: string[], jobId: string, workerId: string): StoredJob {
    const hash = hashOf(record);
    this.hold(jobId, hash['lock_token']!, workerId);
    return toStoredJob(jobId, hash)!;
  }

  private async leaseScript(workerId: string, leaseMs: number, now: number, options: LeaseOptions | undefined, gate: '' | '0' | '1', list = false): Promise<LeaseReply> {
    const { redis, keys: k, bull } = this.ctx;
    const reply = (await runScript(
      redis,
      'lease',
      [k.leases, k.state('queued'), k.state('running'), k.outbox, k.queueAttributes, k.workerAttributes(workerId), bull.keys.prioritized, bull.keys.wait, bull.keys.active, bull.keys.events],
      [workerId, now, k.root, gate, ...this.leaseArgs(leaseMs, now, randomUUID(), options, list)],
    )) as LeaseReply;
    // A set the script had no answer for: the same again with the list (it leased nothing).
    return reply[0] === 3 && !list ? this.leaseScript(workerId, leaseMs, now, options, gate, true) : reply;
  }

  /**
   * Until epoch ms `until`, no lease expires (expire.lua skips them): the
   * sweep's grace period after an outage, shared by every instance on the
   * prefix.
   */
  async setLeaseGrace(until: number): Promise<void> {
    const ms = Math.max(1, Math.ceil(until - Date.now()));
    await this.ctx.redis.set(this.ctx.keys.leaseGrace, String(until), 'PX', ms);
  }

  async renew(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
    const { redis, keys: k, bull, lockGraceMs } = this.ctx;
    const bullmqId = toBullmqId(jobId);
    const token = (await runScript(
      redis,
      'renew',
      [k.job(jobId), k.leases, bull.lockKey(bullmqId), k.state('queued'), k.state('running'), bull.keys.prioritized, bull.keys.wait, bull.keys.active, bull.keys.events],
      [jobId, workerId, now + leaseMs, leaseMs + lockGraceMs, k.root, bullmqId, bull.keys.jobPrefix, bull.keys.lockSuffix, randomUUID(), now],
    )) as string | null;
    if (token === null) return false;
    // Its last holder took it back ('~requeued'): the script took it in BullMQ under a lock of its own.
    if (token === '~requeued') return true;
    // The lease is ours whatever BullMQ says (the script locked the job again if the lock had lapsed).
    if (token !== '') await bull.extendLock(bullmqId, token, leaseMs + lockGraceMs);
    return true;
  }

  async release(jobId: string, workerId: string | undefined): Promise<FinishResult> {
    const { redis, keys: k, bull, lockGraceMs } = this.ctx;
    const [result, token] = (await runScript(
      redis,
      'release',
      [k.job(jobId), k.leases, k.state('running'), k.state('queued'), bull.lockKey(toBullmqId(jobId)), bull.jobKey(toBullmqId(jobId))],
      [jobId, workerId ?? '', randomUUID(), lockGraceMs, k.root, PRIORITY_SCORE_UNIT],
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
          bull.lockKey(toBullmqId(jobId)), k.leaseGrace, k.history('failed'), k.history('cancelled'), k.live, bull.jobKey(toBullmqId(jobId)),
        ],
        [jobId, now, maxAttempts, isoTime(now), randomUUID(), lockGraceMs, k.root, PRIORITY_SCORE_UNIT],
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
