import type { Redis } from 'ioredis';
import {
  WEBHOOK_DELIVERIES_KEEP,
  type NewWebhookDelivery,
  type OfflineWorker,
  type StoredHeartbeat,
  type WebhookAttemptOutcome,
  type WebhookDelivery,
  type WebhookStore,
  type WebhookSummary,
} from '@sisyphus/server/store';
import { loadLua } from './lua-scripts.js';
import type { StoreKeys } from './store-keys.js';

/** The webhook scripts (`lua/webhooks/NAME.lua`) and how many of their arguments are keys. */
const WEBHOOK_SCRIPTS = { enqueue: 5, claim: 2, record: 5 } as const;
type WebhookScript = keyof typeof WEBHOOK_SCRIPTS;

/** The ioredis command of a webhook script. */
const commandOf = (name: WebhookScript): string => `sisyphus:webhooks-${name}`;

let sources: Map<WebhookScript, string> | undefined;

/** How long an offline mark outlives the window it can be claimed in (ms). */
const MARK_SLACK_MS = 60_000;

/**
 * The {@link WebhookStore} of a Redis store, under `${prefix}:sis:webhooks:`:
 * `cursors`, `counters` and `last` (hashes by hook), per hook `deliveries:HOOK`
 * (hash event id -> delivery JSON), `due:HOOK` (zset by `next_at`: pending and
 * sending), `newest:HOOK` and `done:HOOK` (zsets by delivery number: all, and
 * the finished ones, for listing and trimming), and `offline:WORKER:EXPIRY`
 * marks (`SET NX` with a TTL). Cursor moves, claims and records are Lua
 * scripts (`lua/webhooks/`), so servers on one Redis never send a delivery twice.
 */
export class RedisWebhooks implements WebhookStore {
  readonly #redis: Redis;
  readonly #keys: StoreKeys;
  readonly #base: string;

  constructor(redis: Redis, keys: StoreKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.#base = `${keys.root}webhooks:`;
    sources ??= new Map(Object.keys(WEBHOOK_SCRIPTS).map((name) => [name as WebhookScript, loadLua(`webhooks/${name}.lua`)]));
    for (const [name, lua] of sources) redis.defineCommand(commandOf(name), { numberOfKeys: WEBHOOK_SCRIPTS[name], lua });
  }

  #run(name: WebhookScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (keys.length !== WEBHOOK_SCRIPTS[name]) throw new Error(`script webhooks/${name} takes ${WEBHOOK_SCRIPTS[name]} keys, not ${keys.length}`);
    return (this.#redis as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>)[commandOf(name)]!(...keys, ...args);
  }

  #key(kind: string, hook?: string): string {
    return hook === undefined ? `${this.#base}${kind}` : `${this.#base}${kind}:${hook}`;
  }

  async cursor(hook: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.#key('cursors'), hook)) ?? undefined;
  }

  async enqueue(hook: string, expected: string | undefined, cursor: string, deliveries: readonly NewWebhookDelivery[], now: number): Promise<boolean> {
    const args: Array<string | number> = [hook, expected === undefined ? '0' : '1', expected ?? '', cursor, now];
    for (const d of deliveries) {
      const pending: WebhookDelivery = { ...d, hook, status: 'pending', attempts: 0, created_at: now, next_at: now };
      args.push(d.event_id, JSON.stringify(pending));
    }
    const keys = [this.#key('cursors'), this.#key('counters'), this.#key('deliveries', hook), this.#key('due', hook), this.#key('newest', hook)];
    return (await this.#run('enqueue', keys, args)) === 1;
  }

  async claim(hook: string, now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    const claimed = (await this.#run('claim', [this.#key('deliveries', hook), this.#key('due', hook)], [now, now + leaseMs, count])) as string[];
    return claimed.map((json) => JSON.parse(json) as WebhookDelivery);
  }

  async record(hook: string, eventId: string, attempt: number, outcome: WebhookAttemptOutcome): Promise<boolean> {
    const keys = [this.#key('deliveries', hook), this.#key('due', hook), this.#key('newest', hook), this.#key('done', hook), this.#key('last')];
    const args = [
      hook,
      eventId,
      attempt,
      outcome.status,
      outcome.at,
      outcome.next_at ?? outcome.at,
      outcome.status_code ?? '',
      outcome.error !== undefined ? '1' : '0',
      outcome.error ?? '',
      WEBHOOK_DELIVERIES_KEEP,
    ];
    return (await this.#run('record', keys, args)) === 1;
  }

  async deliveries(hook: string, limit: number): Promise<WebhookDelivery[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    const ids = await this.#redis.zrevrange(this.#key('newest', hook), 0, count - 1);
    if (ids.length === 0) return [];
    const records = await this.#redis.hmget(this.#key('deliveries', hook), ...ids);
    return records.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as WebhookDelivery);
  }

  async summary(hook: string): Promise<WebhookSummary> {
    const [pending, last] = await Promise.all([this.#redis.zcard(this.#key('due', hook)), this.#redis.hget(this.#key('last'), hook)]);
    return { pending, ...(last ? { last: JSON.parse(last) as WebhookDelivery } : {}) };
  }

  async claimOfflineWorkers(now: number, since: number): Promise<OfflineWorker[]> {
    const beats = await this.#redis.hgetall(this.#keys.heartbeats);
    const expired: OfflineWorker[] = [];
    for (const [worker_id, json] of Object.entries(beats)) {
      const beat = JSON.parse(json) as StoredHeartbeat;
      if (!(beat.expires_at <= now && beat.expires_at > since)) continue;
      const hostname = beat.status?.['hostname'];
      expired.push({ worker_id, last_seen: beat.last_seen, expires_at: beat.expires_at, ...(typeof hostname === 'string' ? { hostname } : {}) });
    }
    if (expired.length === 0) return [];
    // One mark per worker and expiry, claimed by whoever sets it first; it lasts as long as the expiry can be claimed.
    const pipeline = this.#redis.pipeline();
    for (const w of expired) pipeline.set(this.#key('offline', `${w.worker_id}:${w.expires_at}`), '1', 'PX', Math.max(1, w.expires_at - since + MARK_SLACK_MS), 'NX');
    const replies = (await pipeline.exec()) ?? [];
    return expired
      .filter((_, i) => {
        const [error, reply] = replies[i] ?? [new Error('no reply')];
        if (error) throw error;
        return reply === 'OK';
      })
      .sort((a, b) => a.expires_at - b.expires_at || (a.worker_id < b.worker_id ? -1 : a.worker_id > b.worker_id ? 1 : 0));
  }
}
