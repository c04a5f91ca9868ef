/** Shapes of the server's answers the dashboard reads (see docs/api.md). */

import type { JobResult as CoreJobResult, Phase, TaskRecord as CoreTaskRecord, WorkerCapabilities } from '@sisyphus/core';
import type { JobSummary, WorkerSchedule } from '@sisyphus/server/queue';
import type { JobCounts, JobState, WatchFileRecord, WatchScanStatus } from '@sisyphus/server/store';

// The server's and the engine's own types (type-only imports: nothing of those packages is bundled).
export type { JobState, Phase, WatchFileRecord, WatchScanStatus, WorkerCapabilities, WorkerSchedule };
export type Role = 'admin' | 'submitter' | 'worker';

/** `GET /auth/whoami`: `role` is null with auth on and no token sent (401: a token the server does not know). */
export interface WhoAmI {
  auth: boolean;
  role: Role | null;
  name?: string;
}

/** `GET /status/overview`. */
export interface Overview {
  queue: { disabled: boolean };
  /** Queued, running, waiting for children (`waiting`, absent from servers before fan-out), and the finished ones since `finished_since`. */
  jobs: Omit<JobCounts, 'waiting'> & { waiting?: number };
  finished_since: string;
  workers: { online: number; disabled: number; offline: number };
  client_expiry_seconds: number;
}

/** Progress details a worker reports (`info` of a heartbeat). */
export interface ProgressInfo {
  fps?: number;
  speed?: number | string;
  eta?: number;
  [key: string]: unknown;
}

/** A running job's latest progress, from its worker's heartbeat (a job waiting for children: its children's, weighted). */
export interface LiveProgress {
  task?: string;
  progress?: number;
  info?: ProgressInfo;
  at?: string;
  /** A job waiting for children: how many children of the round are in each state. */
  children?: Partial<Record<JobState, number>>;
}

/** The fan-out of a job that waited for children (`flow` of a job view or event). */
export type FlowSummary = NonNullable<JobSummary['flow']>;

/** One task's outcome in a result record (the status widened: the page also lists tasks of a job without a record yet). */
export type TaskRecord = Omit<CoreTaskRecord, 'status'> & { status: CoreTaskRecord['status'] | '—' };

/** The record of a finished job, as the engine makes it (fields a worker adds are kept). */
export type JobResult = CoreJobResult & Record<string, unknown>;

/** A task of a job document. */
export interface JobTask {
  module: string;
  data?: unknown;
  [key: string]: unknown;
}

/** `GET /jobs/{id}` and the items of `GET /jobs`. */
export interface JobView {
  job_id: string;
  job_title: string;
  tasks: JobTask[];
  added: string;
  state: JobState;
  priority: number;
  attempts: number;
  worker_id?: string;
  worker_hostname?: string;
  live?: LiveProgress;
  started_at?: string;
  finished_at?: string;
  result?: JobResult;
  reason?: string;
  cancel_requested?: boolean;
  retry_of?: string;
  retried_as?: string;
  /** A child job: its parent. */
  parent_id?: string;
  /** A job that waited for children: where it resumes, its round, its children and how many have not ended. */
  flow?: FlowSummary;
  /** What the worker that runs it must have (capability routing): sorted `kind:value` entries, e.g. `tag:gpu`. */
  requirements?: string[];
  /** A queued job with requirements: how many live workers could run it; when none, what they lack. */
  eligibility?: Eligibility;
  [key: string]: unknown;
}

/** `eligibility` of a queued job with requirements. */
export interface Eligibility {
  eligible_workers: number;
  /** When none: what the closest live worker lacks (`encoder:hevc_nvenc`). */
  needs?: string[];
  /** When none: `no eligible worker: needs encoder hevc_nvenc`. */
  message?: string;
}

/** A child of the current round in `GET /jobs/{id}/children`: its summary, worker and progress. */
export interface ChildView extends JobSummary {
  worker_hostname?: string;
  live?: LiveProgress;
  /** Its share of the parent's work (1 unless the task gave another). */
  weight: number;
  /** 0-100: 100 once completed, its worker's last report while it runs, else 0. */
  progress: number;
}

/** `GET /jobs/{id}/children`. */
export interface ChildrenView {
  job_id: string;
  state: JobState;
  flow?: FlowSummary;
  /** 0-100: the round's children's progress weighted by weight. */
  progress: number;
  /** How many children of the round are in each state. */
  states: Partial<Record<JobState, number>>;
  /** The current round's children, in the order the task gave them. */
  children: ChildView[];
  /** Every child ever (all rounds, then the finally job), in the order they were queued. */
  all: JobSummary[];
}

/** A page of `GET /jobs`. */
export interface JobPage {
  jobs: JobView[];
  next?: string;
}

/** A worker in `GET /workers?offline=1` (its last heartbeat plus presence). */
export interface WorkerView extends LiveProgress {
  worker_id: string;
  status: string;
  hostname: string;
  version: string;
  online_at?: string;
  job_id?: string;
  job_title?: string;
  attributes: { disabled?: boolean; [key: string]: unknown };
  online: boolean;
  last_seen: string | null;
  /** What it advertised in its last heartbeat (absent: a worker that advertises nothing, e.g. the original one). */
  capabilities?: Partial<WorkerCapabilities>;
  /** Its active hours, when a schedule applies to it (its own or its tags'). */
  schedule?: ScheduleView;
}

/** `schedule` of a worker: the schedule that applies and its state now. */
export interface ScheduleView {
  source: 'worker' | 'tags';
  /** `source: worker`: its own. */
  schedule?: WorkerSchedule;
  /** `source: tags`: each of its tags' schedules (it is active only while all are). */
  tags?: Record<string, WorkerSchedule>;
  active: boolean;
  /** When `active` flips next (ISO); null: never. */
  next_change: string | null;
  /** Stored schedules that fail the checks (ignored by the server). */
  errors?: string[];
}

/** A rule of `GET /watch/rules`. */
export interface WatchRuleView {
  name: string;
  source: 'config' | 'api';
  rule: {
    folders: string[];
    template: string;
    include?: string[];
    exclude?: string[];
    recursive?: boolean;
    stable_seconds?: number;
    min_age_seconds?: number;
    scan_interval_seconds?: number;
    poll?: boolean;
    max_failures?: number;
    outputs_are_work?: boolean;
    [key: string]: unknown;
  };
  scanning_here: boolean;
  scanner?: string;
  last_scan?: WatchScanStatus;
  attention: number;
  tracked: { seen: number; waiting: number };
}

/** One file of a scan (`POST /watch/rules/{name}/scan?dry_run=true`). */
export interface FileDecision {
  path: string;
  action: 'submit' | 'skip';
  skip?: string;
  reason: string;
  job_id?: string;
}

/** The answer of a (dry) scan. */
export interface ScanReport {
  rule: string;
  dry_run: boolean;
  started_at: number;
  finished_at: number;
  files: number;
  submitted: number;
  skipped: Record<string, number>;
  entries: FileDecision[];
  truncated: boolean;
  errors: string[];
}

/** A delivery of a webhook (`last_delivery`, `GET /webhooks/{name}/deliveries`). */
export interface DeliveryView {
  event_id: string;
  event_type: string;
  event_at?: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  created_at?: string;
  last_attempt_at?: string;
  status_code?: number;
  error?: string;
  next_attempt_at?: string;
  finished_at?: string;
}

/** A hook of `GET /webhooks` (no secret). */
export interface WebhookView {
  name: string;
  url: string;
  events: string[];
  filter: { title?: string; module?: string[]; worker_id?: string[] };
  timeout_seconds: number;
  max_attempts: number;
  pending: number;
  last_delivery: DeliveryView | null;
}

/** One problem of a refused submission. */
export interface Problem {
  path: string;
  message: string;
  placeholders?: string[];
}

/** `GET /data`. */
export interface DataIndex {
  modules: Array<{ module: string; names: string[] }>;
}
