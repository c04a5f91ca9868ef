import type { QueueStore, StoredJob } from '../store/queue-store.js';
import { jobSummary, type JobSummary } from '../queue/queue-events.js';
import { jobWorkerFields, type JobWorkerFields } from './job-worker.js';

/** One child of a flow as `GET /jobs/{id}/children` lists it. */
export type ChildView = JobSummary & JobWorkerFields & {
  /** Its share of the parent's work (the `weight` its parent gave it; 1 when none). */
  weight: number;
  /** 0-100: 100 once completed, its worker's last reported progress while it runs, else 0. */
  progress: number;
  /** Why it failed or was cancelled, in its worker's words (`result.message`), when it says. */
  message?: string;
};

/** The progress of a job that waits for children, from its children. */
export interface FlowProgress {
  /** 0-100: the children's progress weighted by their `weight`. */
  progress: number;
  /** How many children of the round are in each state. */
  states: Partial<Record<StoredJob['state'], number>>;
  /** The round's children, in the order the task gave them. */
  children: ChildView[];
}

const weightOf = (job: StoredJob) => {
  const w = job.job.weight;
  return typeof w === 'number' && Number.isFinite(w) && w > 0 ? w : 1;
};

/**
 * The progress of `parent`'s current round (its {@link StoredJob.flow}):
 * each child's progress (running children from their workers' heartbeats)
 * weighted by its `weight`. Children whose records were purged count as
 * completed when the parent kept their result so. Undefined for a job
 * without a flow.
 */
export async function flowProgress(store: QueueStore, parent: StoredJob, now: number): Promise<FlowProgress | undefined> {
  const flow = parent.flow;
  if (!flow) return undefined;
  const round = new Set(flow.children);
  const jobs = (await store.children(parent.job_id)).filter((job) => round.has(job.job_id));
  const workers = await jobWorkerFields(store, jobs, now);
  const states: FlowProgress['states'] = {};
  let done = 0;
  let total = 0;
  const children = jobs.map((job, i): ChildView => {
    const worker = workers[i]!;
    const live = typeof worker.live?.progress === 'number' ? (worker.live.progress as number) : 0;
    const progress = job.state === 'completed' ? 100 : job.state === 'running' ? Math.min(100, Math.max(0, live)) : 0;
    const weight = weightOf(job);
    states[job.state] = (states[job.state] ?? 0) + 1;
    total += weight;
    done += (weight * progress) / 100;
    const message = typeof job.result?.message === 'string' ? job.result.message : undefined;
    return { ...jobSummary(job), ...worker, weight, progress, ...(message !== undefined && job.state !== 'completed' ? { message } : {}) };
  });
  // Purged children of the round: they ended (the parent kept how): completed ones count as done.
  const missing = flow.children.length - jobs.length;
  if (missing > 0) {
    const kept = await store.childResults(parent.job_id);
    const seen = new Set(jobs.map((j) => j.job_id));
    for (const child of kept) {
      if (seen.has(child.job_id)) continue;
      states[child.state] = (states[child.state] ?? 0) + 1;
      total += 1;
      if (child.state === 'completed') done += 1;
    }
  }
  return { progress: total ? Math.round((1000 * done) / total) / 10 : 100, states, children };
}
