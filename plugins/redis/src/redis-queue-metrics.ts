import type { PriorityDepth, QueueMetricsStore } from '@sisyphus/server/store';
import { PRIORITY_SCORE_UNIT } from './bullmq-internals.js';
import { loadLua } from './lua-scripts.js';
import { MAX_PRIORITY } from './priority-mapping.js';
import type { StoreContext } from './store-context.js';

/** The ioredis command of `lua/metrics/queue-depth.lua`. */
const DEPTH_COMMAND = 'sisyphus:metrics-queue-depth';
/** The ioredis command of `lua/metrics/record.lua`. */
const RECORD_COMMAND = 'sisyphus:metrics-record';

let depthSource: string | undefined;
let recordSource: string | undefined;

/** Our priority of a BullMQ priority (see priority-mapping.ts: BullMQ's is `2^20 - ours`). */
const fromBullmqPriority = (bullmq: number): number => MAX_PRIORITY + 1 - bullmq;

/**
 * The {@link QueueMetricsStore} of a Redis store: every total in one hash,
 * `${prefix}:sis:metrics` (field: the series key, value: the total), added
 * to with `HINCRBYFLOAT` in one script per `record` (`lua/metrics/record.lua`:
 * so servers and direct workers on one prefix add up, and a reader sees a
 * record whole, in one command rather than a `MULTI` of one per series). The
 * depth per priority walks BullMQ's prioritized set one priority at a time
 * in a script (`lua/metrics/queue-depth.lua`).
 */
export class RedisQueueMetrics implements QueueMetricsStore {
  readonly #ctx: StoreContext;
  readonly #key: string;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#key = `${ctx.keys.root}metrics`;
    depthSource ??= loadLua('metrics/queue-depth.lua');
    ctx.redis.defineCommand(DEPTH_COMMAND, { numberOfKeys: 1, lua: depthSource });
    recordSource ??= loadLua('metrics/record.lua');
    ctx.redis.defineCommand(RECORD_COMMAND, { numberOfKeys: 1, lua: recordSource });
  }

  async record(increments: Readonly<Record<string, number>>): Promise<void> {
    const args: Array<string | number> = [];
    for (const field in increments) {
      const value = increments[field]!;
      if (Number.isFinite(value) && value !== 0) args.push(field, value);
    }
    if (!args.length) return;
    const redis = this.#ctx.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
    await redis[RECORD_COMMAND]!(this.#key, ...args);
  }

  async read(): Promise<Record<string, number>> {
    const totals: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [field, value] of Object.entries(await this.#ctx.redis.hgetall(this.#key))) totals[field] = Number(value);
    return totals;
  }

  async queuedByPriority(limit: number): Promise<PriorityDepth[]> {
    const count = Math.max(0, Math.trunc(limit));
    if (!count) return [];
    const redis = this.#ctx.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
    const flat = (await redis[DEPTH_COMMAND]!(this.#ctx.bull.keys.prioritized, PRIORITY_SCORE_UNIT, count)) as number[];
    const depth: PriorityDepth[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) depth.push({ priority: fromBullmqPriority(Number(flat[i])), count: Number(flat[i + 1]) });
    return depth;
  }
}
