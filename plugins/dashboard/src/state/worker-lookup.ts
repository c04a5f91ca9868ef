import type { WorkerView } from '../api/types.js';

/** A worker id as shown beside its host name: the first 8 characters of a long id (a UUID), a short id whole. */
export function shortId(workerId: string): string {
  return workerId.length > 12 ? workerId.slice(0, 8) : workerId;
}

/** How a worker is offered in a list: `hostname (short id)`, or the id alone when it has no host name of its own. */
export function workerLabel(worker: Pick<WorkerView, 'worker_id' | 'hostname'>): string {
  return worker.hostname && worker.hostname !== worker.worker_id ? `${worker.hostname} (${shortId(worker.worker_id)})` : worker.worker_id;
}

/** What a typed worker filter stands for: a worker id, or why it cannot be told (several workers share the host name). */
export type WorkerLookup = { id?: string; error?: string };

/**
 * The worker id a typed filter means, among the known `workers`: an id as
 * it is, a `hostname (short id)` label as offered, or a host name (of one
 * worker; several with that host name is an error asking to pick one).
 * Text that names no known worker is taken as an id (a worker the page
 * does not know, e.g. one removed since): the server filters by it.
 */
export function lookUpWorker(text: string, workers: readonly WorkerView[]): WorkerLookup {
  const typed = text.trim();
  if (!typed) return {};
  if (workers.some((w) => w.worker_id === typed)) return { id: typed };
  const labelled = workers.filter((w) => workerLabel(w) === typed);
  if (labelled.length === 1) return { id: labelled[0]!.worker_id };
  const lower = typed.toLowerCase();
  const byHost = workers.filter((w) => w.hostname === typed);
  const hosts = byHost.length ? byHost : workers.filter((w) => w.hostname.toLowerCase() === lower);
  if (hosts.length === 1) return { id: hosts[0]!.worker_id };
  if (hosts.length > 1 || labelled.length > 1) {
    const n = Math.max(hosts.length, labelled.length);
    return { error: `${n} workers have the host name ${hosts[0]?.hostname ?? typed}: pick one from the list (host name and id)` };
  }
  return { id: typed };
}
