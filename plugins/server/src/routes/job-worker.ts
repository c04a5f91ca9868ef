import type { QueueStore, StoredJob, WorkerRecord } from '../store/queue-store.js';

/**
 * What a job view says about its worker, beyond `worker_id`:
 * `worker_hostname`, the host that ran it (its own report, `result.worker`,
 * else the holder's last heartbeat), and for a running job `live`, the
 * holder's last heartbeat about it: `{ task, progress, info, at }` (the
 * module running, 0-100, e.g. fps/speed/eta, ISO time of the heartbeat).
 * The worker sends a heartbeat at least once a second while progress comes
 * in, so following `GET /jobs/{id}` shows it about live.
 */
export type JobWorkerFields = { worker_hostname?: string; live?: Record<string, unknown> };

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** {@link JobWorkerFields} for each of `jobs`; one store read per distinct worker that has to be asked. */
export async function jobWorkerFields(store: QueueStore, jobs: readonly StoredJob[], now: number): Promise<JobWorkerFields[]> {
  const ask = new Set<string>();
  for (const job of jobs) {
    if (job.worker_id && job.state !== 'queued' && (job.state === 'running' || !text(job.result?.worker))) ask.add(job.worker_id);
  }
  const records = new Map<string, WorkerRecord>();
  await Promise.all([...ask].map(async (id) => records.set(id, await store.worker(id, now))));
  return jobs.map((job) => {
    if (job.state === 'queued') return {};
    const record = job.worker_id ? records.get(job.worker_id) : undefined;
    const status = record?.status ?? {};
    const hostname = text(job.result?.worker) ?? text(status.hostname);
    const fields: JobWorkerFields = hostname ? { worker_hostname: hostname } : {};
    if (job.state === 'running' && record && status.job_id === job.job_id && status.status !== 'idle') {
      fields.live = {
        ...(text(status.task) ? { task: status.task } : {}),
        ...(typeof status.progress === 'number' ? { progress: status.progress } : {}),
        ...(status.info && typeof status.info === 'object' ? { info: status.info } : {}),
        at: new Date(record.last_seen).toISOString(),
      };
    }
    return fields;
  });
}
