import type { JobState } from '@sisyphus/server/store';
import { titleKey } from './job-record.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** The version of the listing indexes this code writes (StoreKeys.indexVersion). */
const INDEX_VERSION = '1';
/** Jobs one backfill call indexes. */
const BACKFILL_BATCH = 1000;
const STATES: readonly JobState[] = ['queued', 'running', 'waiting-children', 'completed', 'failed', 'cancelled'];

/**
 * Make sure the prefix has the listing indexes (fragments/listing-index.lua)
 * of every job: on a prefix written before they existed (by an older
 * version) every job is indexed now, in batches, once, and its record gets
 * the lowercased title it lacks (`title_lc`, see job-record.ts: lowercased
 * here, as Lua lowercases ASCII only). The scripts keep the indexes from
 * then on; the backfill is idempotent, so instances that open together do
 * no harm.
 */
export async function ensureListingIndexes(ctx: StoreContext): Promise<void> {
  const { redis, keys } = ctx;
  if ((await redis.get(keys.indexVersion)) === INDEX_VERSION) return;
  for (const state of STATES) {
    const index = state === 'queued' || state === 'running' || state === 'waiting-children' ? keys.live : keys.history(state);
    for (let rank = 0; ; rank += BACKFILL_BATCH) {
      const ids = await redis.zrange(keys.state(state), rank, rank + BACKFILL_BATCH - 1);
      if (ids.length === 0) break;
      const read = redis.pipeline();
      for (const id of ids) read.hmget(keys.job(id), 'title_lc', 'job_title');
      const args: string[] = [keys.jobPrefix, state];
      ((await read.exec()) ?? []).forEach(([error, fields], i) => {
        if (error) throw error;
        const [lowercased, title] = fields as [string | null, string | null];
        args.push(ids[i]!, lowercased === null && title !== null ? titleKey(title) : '');
      });
      await runScript(redis, 'index-backfill', [keys.state(state), index], args);
    }
  }
  await redis.set(keys.indexVersion, INDEX_VERSION);
}
