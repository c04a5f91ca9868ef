import type { Redis } from 'ioredis';
import {
  decodeCursor,
  encodeCursor,
  pageSize,
  type WatchFileRecord,
  type WatchFilePage,
  type WatchOutputRecord,
  type WatchRuleRecord,
  type WatchScanStatus,
  type WatchStore,
} from '@sisyphus/server/store';
import { loadLua } from './lua-scripts.js';
import type { StoreKeys } from './store-keys.js';

/** The ioredis command of the lease script (`lua/watch/lease.lua`). */
const LEASE_COMMAND = 'sisyphus:watch-lease';

let leaseSource: string | undefined;

/** A file record as kept in its rule's hash: the record without `rule` (the key names it). */
type StoredFile = Omit<WatchFileRecord, 'rule'>;

/** Is this outcome one whose job has not ended (the record is found by its job)? */
const open = (record: { outcome: string }) => record.outcome === 'submitting' || record.outcome === 'pending';

/** Cursor of the attention listing: the last path handed out. */
const ATTENTION_CURSOR = { p: 'string' } as const;

/**
 * The {@link WatchStore} of a Redis store, under `${prefix}:sis:watch:`:
 * `rules` and `status` (hashes by rule name, JSON), per rule `files:RULE`
 * (hash path -> record JSON) and `attention:RULE` (zset of paths, score 0,
 * listed in byte order), `open-jobs` (hash job id -> `{rule, path}` of the
 * records whose job has not ended), `outputs` (hash path -> output JSON),
 * per job `pending-outputs:JOB` (set of the paths it has not settled) and
 * per rule `lease:RULE` (the scanner's id, with a TTL, changed by
 * `lua/watch/lease.lua` only).
 */
export class RedisWatchStore implements WatchStore {
  readonly #redis: Redis;
  readonly #base: string;

  constructor(redis: Redis, keys: StoreKeys) {
    this.#redis = redis;
    this.#base = `${keys.root}watch:`;
    leaseSource ??= loadLua('watch/lease.lua');
    redis.defineCommand(LEASE_COMMAND, { numberOfKeys: 1, lua: leaseSource });
  }

  #key(...parts: string[]): string {
    return `${this.#base}${parts.join(':')}`;
  }

  // ---- rules and scan status ----

  async rules(): Promise<WatchRuleRecord[]> {
    const all = await this.#redis.hgetall(this.#key('rules'));
    return Object.keys(all)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((name) => ({ name, ...(JSON.parse(all[name]!) as { rule: Record<string, unknown>; updated_at: number }) }));
  }

  async putRule(record: WatchRuleRecord): Promise<void> {
    await this.#redis.hset(this.#key('rules'), record.name, JSON.stringify({ rule: record.rule, updated_at: record.updated_at }));
  }

  async deleteRule(name: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#key('rules'), name)) > 0;
  }

  async scanStatuses(): Promise<Record<string, WatchScanStatus>> {
    const all = await this.#redis.hgetall(this.#key('status'));
    return Object.fromEntries(Object.entries(all).map(([name, json]) => [name, JSON.parse(json) as WatchScanStatus]));
  }

  async putScanStatus(rule: string, status: WatchScanStatus): Promise<void> {
    await this.#redis.hset(this.#key('status'), rule, JSON.stringify(status));
  }

  // ---- files ----

  async files(rule: string, paths: readonly string[]): Promise<Map<string, WatchFileRecord>> {
    const out = new Map<string, WatchFileRecord>();
    if (!paths.length) return out;
    const values = await this.#redis.hmget(this.#key('files', rule), ...paths);
    values.forEach((json, i) => {
      if (json !== null) out.set(paths[i]!, { rule, ...(JSON.parse(json) as StoredFile) });
    });
    return out;
  }

  async putFiles(records: readonly WatchFileRecord[]): Promise<void> {
    if (!records.length) return;
    const tx = this.#redis.multi();
    for (const { rule, ...stored } of records) {
      tx.hset(this.#key('files', rule), stored.path, JSON.stringify(stored));
      if (stored.attention) tx.zadd(this.#key('attention', rule), 0, stored.path);
      else tx.zrem(this.#key('attention', rule), stored.path);
      if (stored.job_id !== undefined) {
        if (open(stored)) tx.hset(this.#key('open-jobs'), stored.job_id, JSON.stringify({ rule, path: stored.path }));
        else tx.hdel(this.#key('open-jobs'), stored.job_id);
      }
    }
    await tx.exec();
  }

  async fileOfJob(jobId: string): Promise<WatchFileRecord | undefined> {
    const json = await this.#redis.hget(this.#key('open-jobs'), jobId);
    if (json === null) return undefined;
    const { rule, path } = JSON.parse(json) as { rule: string; path: string };
    const record = (await this.files(rule, [path])).get(path);
    // A record replaced or forgotten since: the entry is stale.
    if (!record || record.job_id !== jobId || !open(record)) {
      await this.#redis.hdel(this.#key('open-jobs'), jobId);
      return undefined;
    }
    return record;
  }

  async attention(rule: string, options: { limit: number; cursor?: string }): Promise<WatchFilePage> {
    const limit = pageSize(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, 'watch-attention', ATTENTION_CURSOR).p;
    const paths = await this.#redis.zrangebylex(this.#key('attention', rule), after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, limit + 1);
    const page = paths.slice(0, limit);
    const records = await this.files(rule, page);
    const files = page.map((path) => records.get(path)).filter((r): r is WatchFileRecord => r !== undefined);
    return paths.length > limit ? { files, next: encodeCursor('watch-attention', { p: page[page.length - 1]! }) } : { files };
  }

  async attentionCount(rule: string): Promise<number> {
    return this.#redis.zcard(this.#key('attention', rule));
  }

  async forgetFile(rule: string, path: string): Promise<boolean> {
    const [[, removed]] = (await this.#redis.multi().hdel(this.#key('files', rule), path).zrem(this.#key('attention', rule), path).exec()) as [[unknown, number], unknown];
    return removed > 0;
  }

  // ---- outputs ----

  async outputs(paths: readonly string[]): Promise<Map<string, WatchOutputRecord>> {
    const out = new Map<string, WatchOutputRecord>();
    if (!paths.length) return out;
    const values = await this.#redis.hmget(this.#key('outputs'), ...paths);
    values.forEach((json, i) => {
      if (json !== null) out.set(paths[i]!, JSON.parse(json) as WatchOutputRecord);
    });
    return out;
  }

  async putOutputs(records: readonly WatchOutputRecord[]): Promise<void> {
    if (!records.length) return;
    const tx = this.#redis.multi();
    for (const record of records) {
      tx.hset(this.#key('outputs'), record.path, JSON.stringify(record));
      if (record.size === undefined) tx.sadd(this.#key('pending-outputs', record.job_id), record.path);
      else tx.srem(this.#key('pending-outputs', record.job_id), record.path);
    }
    await tx.exec();
  }

  async pendingOutputsOf(jobId: string): Promise<WatchOutputRecord[]> {
    const paths = (await this.#redis.smembers(this.#key('pending-outputs', jobId))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const records = await this.outputs(paths);
    return paths.map((path) => records.get(path)).filter((r): r is WatchOutputRecord => r !== undefined && r.job_id === jobId && r.size === undefined);
  }

  async deleteOutputs(paths: readonly string[]): Promise<void> {
    if (!paths.length) return;
    const records = await this.outputs(paths);
    const tx = this.#redis.multi();
    for (const path of paths) {
      tx.hdel(this.#key('outputs'), path);
      const record = records.get(path);
      if (record) tx.srem(this.#key('pending-outputs', record.job_id), path);
    }
    await tx.exec();
  }

  // ---- scanner lease (Redis' own clock: the key's TTL) ----

  async lease(rule: string, owner: string, ttlMs: number): Promise<boolean> {
    const run = (this.#redis as unknown as Record<string, (...args: Array<string | number>) => Promise<number>>)[LEASE_COMMAND]!;
    return (await run.call(this.#redis, this.#key('lease', rule), owner, Math.max(1, Math.ceil(ttlMs)))) === 1;
  }

  async releaseLease(rule: string, owner: string): Promise<void> {
    const run = (this.#redis as unknown as Record<string, (...args: Array<string | number>) => Promise<number>>)[LEASE_COMMAND]!;
    await run.call(this.#redis, this.#key('lease', rule), owner, 0);
  }

  async leaseHolder(rule: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#key('lease', rule))) ?? undefined;
  }
}
