import { normaliseAttributes } from './attributes.js';
import type { WorkerRecord } from './queue-store.js';

/** A worker's last heartbeat as a store keeps it. */
export interface StoredHeartbeat {
  /** The heartbeat body. */
  status: Record<string, unknown>;
  /** Epoch ms it arrived. */
  last_seen: number;
  /** Epoch ms until which the worker counts as present (`last_seen` + client expiry). */
  expires_at: number;
}

/**
 * The worker record every store answers: a heartbeat that has expired is
 * gone, as in the original (a Redis key with a TTL), so `status` is `{}`
 * and `live` false; `last_seen` still tells when it was.
 */
export function workerRecord(workerId: string, beat: StoredHeartbeat | undefined, attributes: Record<string, unknown>, now: number): WorkerRecord {
  const live = beat !== undefined && beat.expires_at > now;
  return {
    worker_id: workerId,
    status: live ? beat.status : {},
    attributes: normaliseAttributes(attributes),
    last_seen: beat?.last_seen ?? 0,
    live,
  };
}
