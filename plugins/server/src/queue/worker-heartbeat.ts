import type { QueueStore, WorkerRecord } from '../store/queue-store.js';

/** Settings of {@link recordHeartbeat}. */
export interface HeartbeatOptions {
  /** Epoch ms. */
  now: number;
  /** The running job's lease is renewed to `now + leaseMs`. */
  leaseMs: number;
  /** The worker counts as present until `now + expiryMs` (the original `CLIENT_EXPIRY`). */
  expiryMs: number;
}

/**
 * The rule of a heartbeat, the same for every route and transport: store
 * it; when it names a job it is running (`job_id`, status not `idle`),
 * renew that job's lease; ask the worker to abort the job (`cancel`) when
 * a cancel was requested or the job is no longer its own (lease lost,
 * finished elsewhere).
 */
export async function recordHeartbeat(
  store: QueueStore,
  workerId: string,
  status: Record<string, unknown>,
  options: HeartbeatOptions,
): Promise<{ record: WorkerRecord; cancel: string[] }> {
  const { now } = options;
  const record = await store.heartbeat(workerId, status, now, options.expiryMs);
  const cancel: string[] = [];
  const jobId = status.job_id;
  if (typeof jobId === 'string' && jobId !== '' && status.status !== 'idle') {
    const held = await store.renew(jobId, workerId, options.leaseMs, now);
    if (!held || (await store.get(jobId))?.cancel_requested) cancel.push(jobId);
  }
  return { record, cancel };
}
