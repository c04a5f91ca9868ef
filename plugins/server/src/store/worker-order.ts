import type { WorkerRecord } from './queue-store.js';

/**
 * The order of `GET /workers` (the original API's): by hostname (the worker
 * id when its heartbeat has none), then worker id. Every store sorts with it.
 */
export function compareWorkers(a: WorkerRecord, b: WorkerRecord): number {
  const name = (w: WorkerRecord) => (typeof w.status['hostname'] === 'string' ? (w.status['hostname'] as string) : w.worker_id);
  const [x, y] = [name(a), name(b)];
  if (x !== y) return x < y ? -1 : 1;
  return a.worker_id < b.worker_id ? -1 : a.worker_id > b.worker_id ? 1 : 0;
}
