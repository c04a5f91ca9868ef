import type { NewQueueEvent, QueueEventLog } from '../store/queue-store.js';
import type { OfflineWorker, WebhookStore } from '../store/webhook-store.js';

/**
 * How long after a heartbeat expired it is still announced (ms): a fleet
 * with no server running for longer misses the older ones (it cannot tell
 * them from workers that went away long before).
 */
export const OFFLINE_LOOKBACK_MS = 10 * 60_000;

/** The `worker.offline` event of `worker`, at `now`. */
export function workerOfflineEvent(worker: OfflineWorker, now: number): NewQueueEvent {
  return {
    type: 'worker.offline',
    at: now,
    data: {
      worker: {
        worker_id: worker.worker_id,
        online: false,
        last_seen: new Date(worker.last_seen).toISOString(),
        expired_at: new Date(worker.expires_at).toISOString(),
        ...(worker.hostname !== undefined ? { hostname: worker.hostname } : {}),
      },
    },
  };
}

/**
 * Claim the workers whose heartbeat expired (each expiry once, whichever
 * server of the fleet asks: see `WebhookStore.claimOfflineWorkers`) and
 * append a `worker.offline` event for each to `log`. The lease sweep calls
 * it after each sweep outside its grace periods (after a server outage,
 * workers get the time to heartbeat again before any counts as gone).
 * A server that dies between the claim and the append loses those events.
 */
export async function announceOfflineWorkers(store: WebhookStore, log: QueueEventLog, now: number, lookbackMs = OFFLINE_LOOKBACK_MS): Promise<OfflineWorker[]> {
  const gone = await store.claimOfflineWorkers(now, now - lookbackMs);
  if (gone.length) await log.append(gone.map((worker) => workerOfflineEvent(worker, now)));
  return gone;
}
