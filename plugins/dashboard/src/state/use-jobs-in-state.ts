import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { JobPage, JobView } from '../api/types.js';
import { useGeneration } from '../events/use-server-events.js';

/** Jobs fetched per request of the snapshot. */
const FETCH = 500;
/** The most jobs a snapshot reads (it stops after the page that reaches this). */
const MOST = 20 * FETCH;

/** The jobs in one state ({@link useJobsInState}). */
export interface JobsInState<T> {
  /** The jobs by id; `undefined` until the first snapshot has come. */
  jobs: ReadonlyMap<string, T> | undefined;
  /** Keep job `id` as `make` gives it (`make` gets what was kept of it, if anything). */
  put(id: string, make: (old: T | undefined) => T): void;
  /** Forget job `id`. */
  drop(id: string): void;
}

/**
 * The jobs in `state` (e.g. `running`), each as `fromView` keeps it: a
 * snapshot of every page of `GET /jobs?state=STATE` (at most 10,000 jobs,
 * 500 a request), read again with every new event stream (a failure is
 * reported as a toast, the last snapshot kept), which the component then
 * keeps current from events with `put` and `drop`. Only the latest
 * snapshot asked for is applied.
 */
export function useJobsInState<T extends { job_id: string }>(state: string, fromView: (job: JobView) => T): JobsInState<T> {
  const [jobs, setJobs] = useState<Map<string, T> | undefined>();
  const seq = useRef(0);
  const generation = useGeneration();

  const load = async () => {
    const mine = ++seq.current;
    try {
      const all: T[] = [];
      let cursor: string | undefined;
      do {
        const answer = await api<JobPage>(`/jobs?state=${state}&limit=${FETCH}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        all.push(...answer.jobs.map(fromView));
        cursor = answer.next;
      } while (cursor && all.length < MOST && mine === seq.current);
      if (mine === seq.current) setJobs(new Map(all.map((j) => [j.job_id, j])));
    } catch (error) {
      if (mine === seq.current) reportError(error);
    }
  };
  useEffect(() => void load(), [generation]);

  return {
    jobs,
    put: (id, make) => setJobs((old) => new Map(old).set(id, make(old?.get(id)))),
    drop: (id) =>
      setJobs((old) => {
        const next = new Map(old);
        next.delete(id);
        return next;
      }),
  };
}
