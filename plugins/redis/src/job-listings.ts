import { decodeCursor, encodeCursor, pageSize } from '@sisyphus/server/store';
import type { DocumentPage, JobCounts, JobFilter, JobPage, JobState, PurgeRule, StoredJob } from '@sisyphus/server/store';
import { byteCompare } from './byte-order.js';
import { FilteredListings, type Entry } from './filtered-listings.js';
import { listFilter } from './job-filter.js';
import { fromBullmqId, toBullmqId } from './job-ids.js';
import { toStoredJob, type RecordHash } from './job-record.js';
import { runScript } from './lua-scripts.js';
import type { StoreContext } from './store-context.js';

/** Cursor fields of both orders: the sorted-set score and member (job id; BullMQ job id for the queue) of a page's last job. */
const CURSOR = { s: 'number', id: 'string' } as const;

/**
 * What the store lists: the queue in BullMQ's hand-out order, the history
 * newest first (all jobs or one state), single records, and the purge of
 * old finished jobs. Pages are cut by cursor (score and member of the last
 * job shown), so jobs that come and go between pages shift nothing.
 */
export class JobListings {
  private readonly filtered: FilteredListings;

  constructor(private readonly ctx: StoreContext) {
    this.filtered = new FilteredListings(ctx, (ids) => this.recordsAt(ids));
  }

  /** The record of job `jobId`, if any. */
  async get(jobId: string): Promise<StoredJob | undefined> {
    return toStoredJob(jobId, await this.ctx.redis.hgetall(this.ctx.keys.job(jobId)));
  }

  /** The records of `jobIds` that exist, in that order (one round trip). */
  async records(jobIds: readonly string[]): Promise<StoredJob[]> {
    return (await this.recordsAt(jobIds)).filter((job): job is StoredJob => job !== undefined);
  }

  /** The record of each of `jobIds` (undefined where there is none), in that order (one round trip). */
  private async recordsAt(jobIds: readonly string[]): Promise<Array<StoredJob | undefined>> {
    if (jobIds.length === 0) return [];
    const pipeline = this.ctx.redis.pipeline();
    for (const id of jobIds) pipeline.hgetall(this.ctx.keys.job(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, hash], i) => {
      if (error) throw error;
      return toStoredJob(jobIds[i]!, hash as RecordHash);
    });
  }

  async list(options: JobFilter & { limit: number; cursor?: string }): Promise<JobPage> {
    const limit = pageSize(options.limit);
    const filter = listFilter(options);
    if (options.state === 'queued') return filter ? this.filtered.queued(filter, limit, options.cursor) : this.listQueued(limit, options.cursor);
    // The history of every final state: their indexes merged (see FilteredListings), with or without a filter.
    if (options.state === 'finished') return this.filtered.newest('finished', filter ?? {}, limit, options.cursor);
    return filter ? this.filtered.newest(options.state, filter, limit, options.cursor) : this.listNewest(limit, options.state, options.cursor);
  }

  /** How many jobs are queued, running and waiting for children, and finished in each final state at or after `finishedSince`: one round trip of counts on the indexes. */
  async counts(finishedSince: number): Promise<JobCounts> {
    const k = this.ctx.keys;
    const replies =
      (await this.ctx.redis
        .pipeline()
        .zcard(k.state('queued'))
        .zcard(k.state('running'))
        .zcard(k.state('waiting-children'))
        .zcount(k.state('completed'), finishedSince, '+inf')
        .zcount(k.state('failed'), finishedSince, '+inf')
        .zcount(k.state('cancelled'), finishedSince, '+inf')
        .exec()) ?? [];
    const [queued, running, waiting, completed, failed, cancelled] = replies.map(([error, n]) => {
      if (error) throw error;
      return n as number;
    });
    return {
      queued: queued ?? 0,
      running: running ?? 0,
      waiting: waiting ?? 0,
      completed: completed ?? 0,
      failed: failed ?? 0,
      cancelled: cancelled ?? 0,
    };
  }

  /** Queue order straight from BullMQ's prioritized set (score ascending, then member). */
  private async listQueued(limit: number, cursorText: string | undefined): Promise<JobPage> {
    const entries = await this.queuedEntries(limit, cursorText);
    return this.page(entries, limit, 'q', (id) => fromBullmqId(id), (job) => job.state === 'queued');
  }

  /** Where the queue listing after the cursor starts in BullMQ's prioritized set (a rank). */
  private async queuedStart(cursorText: string | undefined): Promise<number> {
    if (cursorText === undefined) return 0;
    const { redis } = this.ctx;
    const key = this.ctx.bull.keys.prioritized;
    const c = decodeCursor(cursorText, 'q', CURSOR);
    const [before, ties] = await Promise.all([redis.zcount(key, '-inf', `(${c.s}`), redis.zrangebyscore(key, c.s, c.s)]);
    return before + ties.filter((id) => byteCompare(id, c.id) <= 0).length;
  }

  /** Up to `limit` + 1 entries of BullMQ's prioritized set (score ascending, then member) after the cursor. */
  private async queuedEntries(limit: number, cursorText: string | undefined): Promise<Entry[]> {
    const start = await this.queuedStart(cursorText);
    return entries(await this.ctx.redis.zrange(this.ctx.bull.keys.prioritized, start, start + limit, 'WITHSCORES'));
  }

  async queuedDocuments(options: { limit: number; cursor?: string }): Promise<DocumentPage> {
    const limit = pageSize(options.limit);
    const entries = await this.queuedEntries(limit, options.cursor);
    const shown = entries.slice(0, limit);
    const pipeline = this.ctx.redis.pipeline();
    for (const e of shown) pipeline.hmget(this.ctx.keys.job(fromBullmqId(e.id)), 'state', 'job');
    const replies = shown.length ? ((await pipeline.exec()) ?? []) : [];
    const documents: string[] = [];
    for (const [error, fields] of replies) {
      if (error) throw error;
      const [state, doc] = fields as [string | null, string | null];
      // The stored document is the job document (submission wrote job_id, job_title and added into it).
      if (state === 'queued' && doc !== null) documents.push(doc);
    }
    const next = nextCursor(entries, limit, 'q');
    return next ? { documents, next } : { documents };
  }

  async queueLength(): Promise<number> {
    return this.ctx.redis.zcard(this.ctx.keys.state('queued'));
  }

  /** Newest first: score (finished_at, else added) descending, then job id descending. */
  private async listNewest(limit: number, state: JobState | undefined, cursorText: string | undefined): Promise<JobPage> {
    const { redis, keys } = this.ctx;
    const key = state === undefined ? keys.all : keys.state(state);
    let start = 0;
    if (cursorText !== undefined) {
      const c = decodeCursor(cursorText, 'n', CURSOR);
      const [after, ties] = await Promise.all([redis.zcount(key, `(${c.s}`, '+inf'), redis.zrangebyscore(key, c.s, c.s)]);
      start = after + ties.filter((id) => byteCompare(id, c.id) >= 0).length;
    }
    const found = entries(await redis.zrevrange(key, start, start + limit, 'WITHSCORES'));
    return this.page(found, limit, 'n', (id) => id, (job) => state === undefined || job.state === state);
  }

  /** A page of up to `limit` of `entries` (fetched with one extra to know whether more follow). */
  private async page(entries: Entry[], limit: number, mode: 'q' | 'n', jobIdOf: (member: string) => string, keep: (job: StoredJob) => boolean): Promise<JobPage> {
    const shown = entries.slice(0, limit);
    const jobs = (await this.records(shown.map((e) => jobIdOf(e.id)))).filter(keep);
    const next = nextCursor(entries, limit, mode);
    return next ? { jobs, next } : { jobs };
  }

  async purge(state: 'completed' | 'failed' | 'cancelled', rule: PurgeRule, batch: number): Promise<number> {
    const { redis, keys, bull } = this.ctx;
    const key = keys.state(state);
    const ids = new Set<string>();
    if (rule.before !== undefined) for (const id of await redis.zrangebyscore(key, '-inf', `(${rule.before}`, 'LIMIT', 0, batch)) ids.add(id);
    if (rule.keep !== undefined && ids.size < batch) {
      const excess = (await redis.zcard(key)) - rule.keep;
      if (excess > 0) for (const id of await redis.zrange(key, 0, Math.min(excess, batch - ids.size) - 1)) ids.add(id);
    }
    let removed = 0;
    for (const id of ids) {
      const flowKeys = [keys.children(id), keys.dependencies(id), keys.processed(id), keys.finally(id)];
      if ((await runScript(redis, 'purge', [keys.job(id), key, keys.all, keys.history(state), ...flowKeys], [id, state])) !== 1) continue;
      removed += 1;
      await bull.remove(toBullmqId(id)).catch(() => 0); // BullMQ's copy of a finished job, kept for inspection
    }
    return removed;
  }
}

/** The cursor after the first `limit` of `entries` (fetched with one extra), when more follow. */
function nextCursor(entries: Entry[], limit: number, mode: 'q' | 'n'): string | undefined {
  const last = entries[limit - 1];
  return entries.length > limit && last ? encodeCursor(mode, { s: last.score, id: last.id }) : undefined;
}

/** A flat `WITHSCORES` reply as entries. */
function entries(flat: readonly string[]): Entry[] {
  const found: Entry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) found.push({ id: flat[i]!, score: Number(flat[i + 1]) });
  return found;
}
