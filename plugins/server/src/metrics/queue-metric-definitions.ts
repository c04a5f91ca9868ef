/**
 * The metrics `GET /metrics` serves besides prom-client's process metrics:
 * names, types, help texts and labels (docs/server.md lists the same).
 * Counters and histograms are kept in the store (see `QueueMetricsStore`),
 * gauges are read from the store at each scrape.
 */

/** Upper bounds (seconds) of the duration histograms' buckets: from a tenth of a second (a cleanup) to a day (a long encode). */
export const DURATION_BUCKETS: readonly number[] = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];

/** A metric kept in the store. */
export interface StoredMetric {
  name: string;
  type: 'counter' | 'histogram';
  help: string;
  labels: readonly string[];
  /**
   * Labels whose values come from jobs (module names): at most
   * {@link MAX_SERIES_PER_METRIC} distinct label sets per process, beyond
   * that these labels are `other`.
   */
  open?: readonly string[];
  /** Histograms: the buckets' upper bounds. */
  buckets?: readonly number[];
}

/** Most distinct label sets a process records per metric (see {@link StoredMetric.open}). */
export const MAX_SERIES_PER_METRIC = 200;

/** The counters and histograms kept in the store. */
export const STORED_METRICS = {
  submitted: {
    name: 'sisyphus_jobs_submitted_total',
    type: 'counter',
    help: 'Jobs queued: submissions, retries and child jobs.',
    labels: [],
  },
  finished: {
    name: 'sisyphus_jobs_finished_total',
    type: 'counter',
    help: 'Jobs that ended, by final state (completed, failed, cancelled).',
    labels: ['state'],
  },
  failures: {
    name: 'sisyphus_job_failures_total',
    type: 'counter',
    help: 'Jobs that failed, by the module of the failed task and the error code (docs/errors.md); "none" for failures the server decided (a lease that ran out too often), "other" for a code or module it does not know.',
    labels: ['module', 'code'],
    open: ['module'],
  },
  leaseExpiries: {
    name: 'sisyphus_lease_expiries_total',
    type: 'counter',
    help: 'Leases that ran out (the worker stopped heartbeating): the job was requeued, or failed after its last attempt.',
    labels: [],
  },
  requeues: {
    name: 'sisyphus_requeues_total',
    type: 'counter',
    help: 'Running jobs put back in the queue, by reason: lease_expired (by the lease sweep), released (given back by a stopping worker).',
    labels: ['reason'],
  },
  jobDuration: {
    name: 'sisyphus_job_duration_seconds',
    type: 'histogram',
    help: 'Run time of jobs that a worker reported ended, from the start of their last run (the lease) to the report, by the modules of their tasks (in task order, joined with ",") and final state.',
    labels: ['modules', 'state'],
    open: ['modules'],
    buckets: DURATION_BUCKETS,
  },
  taskDuration: {
    name: 'sisyphus_task_duration_seconds',
    type: 'histogram',
    help: 'Time of each task that ran (all its phases, as its worker measured them), by module and status (done, failed, cancelled).',
    labels: ['module', 'status'],
    open: ['module'],
    buckets: DURATION_BUCKETS,
  },
} as const satisfies Record<string, StoredMetric>;

/** Most priorities `sisyphus_queue_depth` shows one by one. */
export const MAX_DEPTH_PRIORITIES = 100;
/** Most workers `sisyphus_worker_heartbeat_age_seconds` shows. */
export const MAX_HEARTBEAT_WORKERS = 100;

/** A gauge read from the store at scrape time. */
export interface ScrapedGauge {
  name: string;
  help: string;
}

/** The gauges read from the store at each scrape. */
export const SCRAPED_GAUGES = {
  queueDepth: {
    name: 'sisyphus_queue_depth',
    help: `Queued jobs by priority (the highest ${MAX_DEPTH_PRIORITIES} priorities; "other": the rest, and on Redis jobs BullMQ's stalled check put on its wait list).`,
  },
  jobs: {
    name: 'sisyphus_jobs',
    help: 'Jobs in the store by state (queued, running, waiting-children, and the history kept of completed, failed, cancelled: retention lowers these).',
  },
  queueDisabled: {
    name: 'sisyphus_queue_disabled',
    help: '1 while the queue is disabled (workers get no jobs), else 0.',
  },
  workersOnline: {
    name: 'sisyphus_workers_online',
    help: 'Workers whose last heartbeat has not expired.',
  },
  workersDisabled: {
    name: 'sisyphus_workers_disabled',
    help: 'Workers that are disabled (online or not).',
  },
  heartbeatAge: {
    name: 'sisyphus_worker_heartbeat_age_seconds',
    help: `Seconds since the last heartbeat of each online worker (the ${MAX_HEARTBEAT_WORKERS} with the oldest heartbeats).`,
  },
} as const satisfies Record<string, ScrapedGauge>;
