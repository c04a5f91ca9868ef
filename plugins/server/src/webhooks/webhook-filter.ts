import type { QueueEvent } from '../store/queue-store.js';
import type { ResolvedWebhook } from './webhook-config.js';

/** The parts of an event a filter looks at. */
interface EventSubject {
  job?: { job_id?: unknown; job_title?: unknown; worker_id?: unknown };
  worker?: { worker_id?: unknown };
  worker_id?: unknown;
}

/**
 * Does `event` go to `hook`? Its type must be one of the hook's events, and
 * each filter condition that applies to it must hold:
 * - `title`: a job event's job title contains it (case-insensitive);
 * - `module`: a job event's job has a task of one of the modules
 *   (`modulesOf` looks them up: events carry no tasks; a job no longer
 *   stored has none);
 * - `worker_id`: the job's worker (a job event; a job no worker took has
 *   none, and does not match) or the worker of a worker event is one of them.
 * Conditions on jobs do not apply to worker events (`worker.offline`), and
 * the other way round.
 */
export async function webhookMatches(hook: ResolvedWebhook, event: QueueEvent, modulesOf: (jobId: string) => Promise<readonly string[]>): Promise<boolean> {
  if (!hook.events.includes(event.type)) return false;
  const { title, modules, workerIds } = hook.filter;
  const data = event.data as EventSubject;
  const job = event.type.startsWith('job.') ? data.job : undefined;
  if (job) {
    if (title !== undefined && !(typeof job.job_title === 'string' && job.job_title.toLowerCase().includes(title))) return false;
    if (workerIds !== undefined && !(typeof job.worker_id === 'string' && workerIds.includes(job.worker_id))) return false;
    if (modules !== undefined) {
      if (typeof job.job_id !== 'string') return false;
      const used = await modulesOf(job.job_id);
      if (!used.some((module) => modules.includes(module))) return false;
    }
    return true;
  }
  if (workerIds !== undefined && event.type.startsWith('worker.')) {
    const id = data.worker?.worker_id ?? data.worker_id;
    return typeof id === 'string' && workerIds.includes(id);
  }
  return true;
}
