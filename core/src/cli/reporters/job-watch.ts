import cliProgress from 'cli-progress';
import { UNKNOWN_TOTAL_LOG_INTERVAL_MS, formatDuration, formatPercent, gauge, progressDetails } from './reporter.js';
import { printable, shownPercent } from '../printable.js';

/** A job as `GET /jobs/{id}` shows it to `submit --wait` (the fields used here). */
export interface WatchedJob {
  job_id: string;
  job_title: string;
  state: 'queued' | 'running' | 'waiting-children' | 'completed' | 'failed' | 'cancelled';
  worker_id?: string;
  /** The host of the worker that runs (ran) it. */
  worker_hostname?: string;
  /** While it runs: its worker's last heartbeat about it. */
  live?: { task?: string; progress?: number; info?: Record<string, unknown>; at?: string };
  started_at?: string;
  finished_at?: string;
  attempts?: number;
  result?: { message?: string; module?: string; runtime?: number; worker?: string };
  reason?: string;
  cancel_requested?: boolean;
}

/**
 * Where a job runs (ran): the worker's host name (from the server, else the
 * worker's own result record), else its id; {@link printable} (a worker
 * reports its host name itself).
 */
export function workerName(job: Pick<WatchedJob, 'worker_hostname' | 'worker_id' | 'result'>): string | undefined {
  return printable(job.worker_hostname ?? job.result?.worker ?? job.worker_id);
}

/** The first line of a text that may not be a string (it comes from a worker's report), trimmed. */
const firstLine = (text: unknown) => (typeof text === 'string' ? text.split('\n')[0]!.trim() : undefined);

/**
 * The one-line reason a job failed (or was cancelled): `module: first line
 * of the message`, else the server's reason; {@link printable} (the
 * message and module come from the worker's report).
 */
export function failureReason(job: Pick<WatchedJob, 'result' | 'reason'>): string | undefined {
  const message = firstLine(job.result?.message);
  if (message) return printable(job.result?.module ? `${job.result.module}: ${message}` : message);
  return printable(firstLine(job.reason) || undefined);
}

/** A job's title as the CLI prints it: {@link printable} (the submitter chose it). */
export function jobTitle(job: Pick<WatchedJob, 'job_title' | 'job_id'>): string {
  return printable(job.job_title ?? job.job_id);
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** `frame 120/900 | fps 48 | 2.01x | eta 16 s` from a heartbeat's `info`. */
export function liveDetails(info: Record<string, unknown> | undefined): string {
  if (!info) return '';
  const fields: { frames?: number; totalFrames?: number; fps?: number; speed?: number; eta?: number } = {};
  const frames = num(info.current_frame);
  const totalFrames = num(info.total_frames);
  const fps = num(info.fps);
  const speed = num(info.speed);
  // A worker's estimate is not trusted: a negative one is no estimate.
  const rawEta = num(info.eta);
  const eta = rawEta !== undefined && rawEta >= 0 ? rawEta : undefined;
  if (frames !== undefined) fields.frames = frames;
  if (totalFrames !== undefined) fields.totalFrames = totalFrames;
  if (fps !== undefined) fields.fps = fps;
  if (speed !== undefined) fields.speed = speed;
  if (eta !== undefined) fields.eta = eta;
  return progressDetails(fields);
}

/** Shows a followed job: told every view of it, and `stop()` before anything else is printed. */
export interface JobWatch {
  update(job: WatchedJob): void;
  /** A line of the CLI's own (e.g. "server unreachable, retrying"), above a live bar. */
  note(message: string): void;
  stop(): void;
}

/** What a view says, in words: `queued`, `running on HOST: ffmpeg`, ... */
function stateLine(job: WatchedJob): string {
  const host = workerName(job);
  switch (job.state) {
    case 'queued':
      return job.attempts ? `queued again (attempt ${job.attempts} ended without a result), waiting for a worker` : 'queued, waiting for a worker';
    case 'running':
      return `running${host ? ` on ${host}` : ''}${job.live?.task ? `: ${printable(job.live.task)}` : ''}${job.cancel_requested ? ' (cancel requested)' : ''}`;
    case 'waiting-children': {
      const states = (job.live as { children?: Record<string, number> } | undefined)?.children ?? {};
      const total = Object.values(states).reduce((a, b) => a + b, 0);
      return `waiting for its child jobs${total ? `: ${states.completed ?? 0} of ${total} done, ${states.running ?? 0} running` : ''}`;
    }
    default:
      return printable(job.state);
  }
}

/** A state whose `live.progress` is the job's progress: running (its worker's), or waiting for children (theirs). */
const moving = (job: WatchedJob) => job.state === 'running' || job.state === 'waiting-children';

/**
 * A live one-line bar on a terminal: percent, fps, speed, ETA, the current
 * task and the worker's host, redrawn at every view (`submit --wait`
 * fetches one about twice a second; the worker sends progress about once a
 * second).
 */
export class TtyJobWatch implements JobWatch {
  readonly #bar: cliProgress.SingleBar;
  #started = false;
  #ticks = 0;
  #lastAt: string | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.#bar = new cliProgress.SingleBar(
      { stream, format: ' {state} |{gauge}| {pct} {details}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, fps: 10, linewrap: false },
      cliProgress.Presets.shades_classic,
    );
  }

  update(job: WatchedJob): void {
    const percent = moving(job) ? shownPercent(job.live?.progress) : job.state === 'completed' ? 100 : undefined;
    // The marker of an unknown total moves once per new heartbeat, not per redraw.
    if (job.live?.at !== this.#lastAt) {
      this.#lastAt = job.live?.at;
      this.#ticks += 1;
    }
    const payload = {
      state: stateLine(job),
      gauge: job.state === 'queued' ? gauge(0, 0) : gauge(percent, this.#ticks),
      pct: (job.state === 'queued' ? '' : formatPercent(percent)).padStart(4),
      details: job.state === 'running' ? liveDetails(job.live?.info) : '',
    };
    if (!this.#started) {
      this.#bar.start(100, Math.floor(percent ?? 0), payload);
      this.#started = true;
    } else this.#bar.update(Math.floor(percent ?? 0), payload);
  }

  note(message: string): void {
    if (!this.#started) {
      this.stream.write(`${message}\n`);
      return;
    }
    // Above the bar: clear its line, print, and let the next update redraw it.
    this.stream.write(`\r\x1b[2K${message}\n`);
    this.#bar.render();
  }

  stop(): void {
    if (this.#started) this.#bar.stop();
    this.#started = false;
  }
}

/**
 * Plain lines for pipes and logs: a line when the state, the worker or the
 * task changes, at each 10 % step (with fps, speed, ETA), and while the
 * total is unknown every `unknownEveryMs`.
 */
export class PlainJobWatch implements JobWatch {
  #last = '';
  #step = -1;
  #unknownAt = -Infinity;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly unknownEveryMs = UNKNOWN_TOTAL_LOG_INTERVAL_MS,
  ) {}

  update(job: WatchedJob): void {
    if (!moving(job) && job.state !== 'queued') return; // the end is printed by the caller
    const line = stateLine(job);
    if (line !== this.#last) {
      this.#last = line;
      this.#step = -1;
      this.#unknownAt = -Infinity;
      this.stream.write(`${jobTitle(job)}: ${line}\n`);
    }
    if (!moving(job) || !job.live) return;
    const details = liveDetails(job.live.info);
    const percent = shownPercent(job.live.progress);
    const task = printable(job.live.task) ?? (job.state === 'running' ? 'running' : 'children');
    if (percent === undefined) {
      const now = Date.now();
      if (!details || now - this.#unknownAt < this.unknownEveryMs) return;
      this.#unknownAt = now;
      this.stream.write(`${jobTitle(job)}: ${task} ${details} (total unknown)\n`);
      return;
    }
    const step = Math.floor(percent / 10);
    if (step <= this.#step) return;
    this.#step = step;
    this.stream.write(`${jobTitle(job)}: ${task} ${formatPercent(percent)}${details ? ` (${details})` : ''}\n`);
  }

  note(message: string): void {
    this.stream.write(`${message}\n`);
  }

  stop(): void {}
}

/** The closing line of a followed job: `done in 12.3 s on HOST`, `failed on HOST: reason`, `cancelled`. */
export function endLine(job: WatchedJob): string {
  const host = workerName(job);
  const on = host ? ` on ${host}` : '';
  const runtime = num(job.result?.runtime);
  const took = runtime !== undefined ? ` in ${formatDuration(runtime)}` : '';
  const title = jobTitle(job);
  if (job.state === 'completed') return `${title}: done${took}${on}`;
  if (job.state === 'cancelled') return `${title}: cancelled${on}${failureReason(job) ? `: ${failureReason(job)}` : ''}`;
  return `${title}: failed${on}: ${failureReason(job) ?? 'no reason given'}`;
}
