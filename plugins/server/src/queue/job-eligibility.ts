import { canRun, type JobRequirements, type WorkerRecord } from '../store/queue-store.js';
import { appliedSchedule } from './applied-schedule.js';
import { workerCapabilities } from './worker-capabilities.js';

/**
 * Who could run a queued job now (capability routing), as `GET /jobs/{id}`
 * and the dashboard show it.
 */
export interface JobEligibility {
  /** Live workers that have everything the job requires, are enabled and inside their active hours. */
  eligible_workers: number;
  /**
   * When no live worker has everything: the requirements the closest live
   * worker lacks (the one lacking fewest; every requirement when no worker
   * is live), e.g. `["encoder:hevc_nvenc"]`. The job still runs once such a
   * worker polls.
   */
  needs?: string[];
  /** When none is eligible, one line for people: `no eligible worker: needs encoder hevc_nvenc, tag gpu`. */
  message?: string;
}

/** The live workers, each read once for many {@link eligibilityOf} questions. */
export interface WorkerPool {
  workers: Array<{ worker_id: string; have: ReadonlySet<string> | undefined; takesJobs: boolean }>;
}

/**
 * The live workers of `records` (as `QueueStore.workers` lists them, live
 * and expired) with what each can do and whether it takes jobs now (not
 * disabled, inside its active hours: `queueAttributes` holds the tags'
 * schedules).
 */
export function workerPool(records: readonly WorkerRecord[], queueAttributes: Record<string, unknown> | undefined, now: number): WorkerPool {
  return {
    workers: records
      .filter((w) => w.live)
      .map((w) => {
        const capabilities = workerCapabilities(w.status);
        return {
          worker_id: w.worker_id,
          have: capabilities && new Set(capabilities),
          takesJobs: !w.attributes.disabled && appliedSchedule(w, queueAttributes, now)?.active !== false,
        };
      }),
  };
}

/** `encoder:hevc_nvenc` as people read it: `encoder hevc_nvenc`. */
const spoken = (requirement: string) => requirement.replace(':', ' ');

/** Who in `pool` could run a job requiring `requires`; undefined for a job without requirements (anyone). */
export function eligibilityOf(requires: JobRequirements | undefined, pool: WorkerPool): JobEligibility | undefined {
  if (!requires) return undefined;
  let able = 0;
  let eligible = 0;
  let closest: string[] | undefined;
  for (const worker of pool.workers) {
    if (canRun(requires, worker.have)) {
      able += 1;
      if (worker.takesJobs) eligible += 1;
      continue;
    }
    // A worker that advertises nothing is shown lacking what it does not advertise: all of it.
    const missing = requires.all.filter((need) => !worker.have?.has(need));
    if (!closest || missing.length < closest.length) closest = missing;
  }
  if (eligible > 0) return { eligible_workers: eligible };
  if (able > 0) {
    const which = able === 1 ? 'the worker that can run it is' : `the ${able} workers that can run it are`;
    return { eligible_workers: 0, message: `no eligible worker: ${which} disabled or outside active hours` };
  }
  if (pool.workers.length === 0) return { eligible_workers: 0, needs: requires.all, message: 'no eligible worker: no worker is online' };
  const needs = closest ?? requires.all;
  return { eligible_workers: 0, needs, message: `no eligible worker: needs ${needs.map(spoken).join(', ')}` };
}
