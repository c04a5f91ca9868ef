import { PRIORITY_SCORE_UNIT } from './bullmq-internals.js';
import { toBullmqId } from './job-ids.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** The version of the ready indexes this code keeps (StoreKeys.readyVersion). */
const READY_VERSION = '1';
/** Jobs one backfill call looks at. */
const BACKFILL_BATCH = 1000;

/**
 * Make sure the prefix has the ready indexes of capability routing
 * (lua/fragments/ready-index.lua): on a prefix written before they existed
 * (by an older version), every queued job joins the index of jobs without
 * requirements now, in batches, once, and every live job whose BullMQ id is
 * not its job id gets it in its record (ready-backfill.lua). The scripts
 * keep the indexes from then on; the backfill is idempotent, so instances
 * that open together do no harm. Every instance on a prefix runs this
 * version or a later one: an older one would lease from BullMQ's head.
 */
export async function ensureReadyIndexes(ctx: StoreContext): Promise<void> {
  const { redis, keys, bull } = ctx;
  if ((await redis.get(keys.readyVersion)) === READY_VERSION) return;
  for (const state of ['queued', 'running', 'waiting-children'] as const) {
    for (let rank = 0; ; rank += BACKFILL_BATCH) {
      const ids = await redis.zrange(keys.state(state), rank, rank + BACKFILL_BATCH - 1);
      if (ids.length === 0) break;
      await runScript(
        redis,
        'ready-backfill',
        [bull.keys.prioritized, keys.outbox],
        [keys.root, PRIORITY_SCORE_UNIT, bull.keys.jobPrefix, Date.now(), ...ids.flatMap((id) => [id, toBullmqId(id)])],
      );
    }
  }
  await redis.set(keys.readyVersion, READY_VERSION);
}
