import type { BullmqStoreOptions } from './bullmq-store-options.js';
import { PRIORITY_SCORE_UNIT } from './bullmq-internals.js';
import type { BullmqMoves } from './bullmq-moves.js';
import { toBullmqId } from './job-ids.js';
import { pipeScript } from './lua-scripts.js';
import { toBullmqPriority } from './priority-mapping.js';
import type { StoreChannels } from './store-channels.js';
import type { StoreContext } from './store-context.js';

/**
 * What a script's flow rules (lua/fragments/job-ended.lua) leave BullMQ to
 * do: `queued`, the ids the script queued in our records and put in the
 * outbox (children, a finally job, a resumed parent), and `discarded`, the
 * queued children it cancelled.
 */
export interface FlowEffects {
  queued: readonly string[];
  discarded: readonly string[];
}

/** The effects in a script's reply (two arrays; absent in a reply that did nothing). */
export function effectsOf(queued: unknown, discarded: unknown): FlowEffects {
  return { queued: Array.isArray(queued) ? (queued as string[]) : [], discarded: Array.isArray(discarded) ? (discarded as string[]) : [] };
}

/** How old (ms, on the callers' clock) an outbox entry must be before the sweep adds it: the script's own caller adds it within moments. */
export const OUTBOX_SWEEP_AGE_MS = 10_000;
/** Outbox entries one sweep adds at most. */
const SWEEP_BATCH = 500;

/** A job of the outbox as its record says, to add to BullMQ. */
interface Outgoing {
  jobId: string;
  bullmqId: string;
  title: string;
  priority: number;
}

/**
 * BullMQ's side of jobs a Lua script queued: a script cannot call BullMQ's
 * add, so it queues our record and puts the id in the outbox
 * (`StoreKeys.outbox`) in the same step; the store then adds the BullMQ job
 * and takes the id out ({@link settle}). A crash in between leaves the id
 * in the outbox, and the lease sweep adds it later ({@link sweep}): no job is
 * stranded queued in our record but missing from BullMQ. Adding twice is
 * harmless (BullMQ keeps a job id once; enqueued.lua makes only a job
 * still queued ready to lease). A resumed parent (its record has a flow)
 * goes to the head of its priority, as a requeued job; a new job (child,
 * finally job, a submitted or retried job) takes its place in the
 * submission order. Submitted and retried jobs are in the outbox too until
 * their caller's add made them ready (submit.lua, retry.lua), and so is a
 * job a lease found queued in our record but not in BullMQ (lease-next.lua).
 */
export class JobOutbox {
  constructor(
    private readonly ctx: StoreContext,
    private readonly moves: BullmqMoves,
    private readonly channels: StoreChannels,
    private readonly log?: BullmqStoreOptions['log'],
  ) {}

  /**
   * Follow a script's `effects` in BullMQ: remove the discarded jobs, add
   * the queued ones (those still queued in our record). Never throws: what
   * could not be added stays in the outbox for the sweep.
   */
  async settle(effects: FlowEffects): Promise<void> {
    if (effects.discarded.length > 0) await Promise.all(effects.discarded.map((id) => this.moves.discard(id)));
    if (effects.queued.length > 0) await this.add(effects.queued);
  }

  /** Add the outbox entries older than {@link OUTBOX_SWEEP_AGE_MS} at `now` (what a crash left); how many it looked at. */
  async sweep(now: number): Promise<number> {
    const ids = await this.ctx.redis.zrangebyscore(this.ctx.keys.outbox, '-inf', now - OUTBOX_SWEEP_AGE_MS, 'LIMIT', 0, SWEEP_BATCH);
    if (ids.length > 0) await this.add(await this.inQueueOrder(ids));
    return ids.length;
  }

  /**
   * `jobIds` (in outbox order: by the time a script queued them, then by id)
   * with the children of one parent in the order it queued them (its
   * children list), as the script's own caller adds them.
   */
  private async inQueueOrder(jobIds: readonly string[]): Promise<string[]> {
    const { redis, keys: k } = this.ctx;
    const parents = await redis.pipeline(jobIds.map((id) => ['hget', k.job(id), 'parent_id'])).exec();
    const parentOf = new Map<string, string>();
    (parents ?? []).forEach(([, parent], i) => {
      if (typeof parent === 'string') parentOf.set(jobIds[i]!, parent);
    });
    const position = new Map<string, number>();
    for (const parent of new Set(parentOf.values())) {
      (await redis.lrange(k.children(parent), 0, -1)).forEach((id, i) => position.set(id, i));
    }
    // Each parent's children, sorted, take the places its children had in the outbox order.
    const sorted = new Map<string, string[]>();
    for (const id of jobIds) {
      const parent = parentOf.get(id);
      if (parent !== undefined) sorted.set(parent, [...(sorted.get(parent) ?? []), id]);
    }
    for (const ids of sorted.values()) ids.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    return jobIds.map((id) => {
      const parent = parentOf.get(id);
      return parent === undefined ? id : sorted.get(parent)!.shift()!;
    });
  }

  private async add(jobIds: readonly string[]): Promise<void> {
    const { redis, keys: k, bull } = this.ctx;
    try {
      const read = redis.pipeline();
      for (const id of jobIds) read.hmget(k.job(id), 'state', 'job_title', 'priority', 'flow_round');
      const fresh: Outgoing[] = [];
      const resumed: Outgoing[] = [];
      const ended: string[] = [];
      ((await read.exec()) ?? []).forEach(([error, fields], i) => {
        if (error) throw error;
        const [state, title, priority, round] = fields as Array<string | null>;
        const jobId = jobIds[i]!;
        if (state !== 'queued') return void ended.push(jobId); // ended or gone meanwhile: nothing to add
        (round === null ? fresh : resumed).push({ jobId, bullmqId: toBullmqId(jobId), title: title ?? '', priority: Number(priority ?? 0) });
      });
      const data = (job: Outgoing) => ({ job_id: job.jobId, job_title: job.title });
      await bull.addBulk(fresh.map((job) => ({ bullmqId: job.bullmqId, data: data(job), priority: toBullmqPriority(job.priority) })));
      for (const job of resumed) {
        // Its BullMQ job was taken out when it began to wait; a leftover (a crash then) would make the add a no-op.
        // (Refused while locked: such a leftover is still active in BullMQ; the lease takes it where it is.)
        await bull.remove(job.bullmqId).catch(() => 0);
        await bull.add(job.bullmqId, data(job), toBullmqPriority(job.priority));
      }
      // Ready to lease (enqueued.lua): new jobs where BullMQ put them, resumed parents at the head of their priority.
      const after = redis.pipeline();
      const ready = (job: Outgoing, place: 'order' | 'head') =>
        pipeScript(after, 'enqueued', [k.job(job.jobId), bull.keys.prioritized, k.outbox], [job.jobId, job.bullmqId, PRIORITY_SCORE_UNIT, place, toBullmqPriority(job.priority), k.root]);
      for (const job of fresh) ready(job, 'order');
      for (const job of resumed) ready(job, 'head');
      // (Each script takes its job out of the outbox; one that fails leaves it there for the next sweep.)
      if (ended.length > 0) after.zrem(k.outbox, ...ended);
      for (const [error] of (await after.exec()) ?? []) if (error) throw error;
      if (fresh.length + resumed.length > 0) await this.channels.wake(fresh.length + resumed.length > 1).catch(() => undefined);
    } catch (error) {
      this.log?.('warn', `could not add ${jobIds.length} queued job(s) to BullMQ (the lease sweep adds them later): ${(error as Error).message}`);
    }
  }
}
