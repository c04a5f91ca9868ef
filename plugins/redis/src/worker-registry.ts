import type { Redis } from 'ioredis';
import { compareWorkers, workerRecord, type StoredHeartbeat, type WorkerRecord } from '@sisyphus/server/store';
import { attributesOf, updateAttributes } from './attribute-hash.js';
import type { StoreKeys } from './store-keys.js';

/**
 * The workers a store knows: each one's last heartbeat (status and expiry,
 * one hash for all) and its attributes (a hash each, plus the set of workers
 * that have some, so a worker with attributes stays listed after its
 * heartbeats stop).
 */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {}

  private toWorker(workerId: string, heartbeat: string | null | undefined, attributes: Record<string, string>, now: number): WorkerRecord {
    return workerRecord(workerId, heartbeat ? (JSON.parse(heartbeat) as StoredHeartbeat) : undefined, attributesOf(attributes), now);
  }

  async heartbeat(workerId: string, status: Record<string, unknown>, now: number, expiryMs: number): Promise<WorkerRecord> {
    const beat: StoredHeartbeat = { status, last_seen: now, expires_at: now + expiryMs };
    // One round trip: the beat just written needs no reading back, only the attributes.
    const replies = (await this.redis.pipeline().hset(this.keys.heartbeats, workerId, JSON.stringify(beat)).hgetall(this.keys.workerAttributes(workerId)).exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    return workerRecord(workerId, beat, attributesOf((replies[1]?.[1] ?? {}) as Record<string, string>), now);
  }

  async worker(workerId: string, now: number): Promise<WorkerRecord> {
    const [beat, attributes] = await Promise.all([
      this.redis.hget(this.keys.heartbeats, workerId),
      this.redis.hgetall(this.keys.workerAttributes(workerId)),
    ]);
    return this.toWorker(workerId, beat, attributes, now);
  }

  /** Workers with a live heartbeat or with attributes, in the contract's order. */
  async workers(now: number): Promise<WorkerRecord[]> {
    const [beats, withAttributes] = await Promise.all([
      this.redis.hgetall(this.keys.heartbeats),
      this.redis.smembers(this.keys.workersWithAttributes),
    ]);
    const ids = new Set(withAttributes);
    for (const [id, json] of Object.entries(beats)) if ((JSON.parse(json) as StoredHeartbeat).expires_at > now) ids.add(id);
    const listed = [...ids];
    const pipeline = this.redis.pipeline();
    for (const id of listed) pipeline.hgetall(this.keys.workerAttributes(id));
    const replies = listed.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    return listed
      .map((id, i) => {
        const [error, attributes] = replies[i] ?? [null, {}];
        if (error) throw error;
        return this.toWorker(id, beats[id], attributes as Record<string, string>, now);
      })
      .sort(compareWorkers);
  }

  async removeWorker(workerId: string): Promise<boolean> {
    const replies =
      (await this.redis
        .multi()
        .hdel(this.keys.heartbeats, workerId)
        .del(this.keys.workerAttributes(workerId))
        .srem(this.keys.workersWithAttributes, workerId)
        .exec()) ?? [];
    return replies.some(([, n]) => (n as number) > 0);
  }

  async setWorkerAttributes(workerId: string, patch: Record<string, unknown>): Promise<WorkerRecord['attributes']> {
    return updateAttributes(this.redis, this.keys.workerAttributes(workerId), patch, (tx) => tx.sadd(this.keys.workersWithAttributes, workerId));
  }
}
