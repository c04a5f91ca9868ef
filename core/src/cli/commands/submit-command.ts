import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { parseJob } from '../../job/parse-job.js';
import { renderTemplate } from '../../job/render-template.js';
import { ApiError, apiRequest, apiTarget, type ApiOptions } from '../api-client.js';
import { ExitCodes } from '../exit-codes.js';
import { usage } from '../usage-error.js';
import { loadJobInput, type JobInputOptions } from '../load-job-input.js';
import { PlainJobWatch, TtyJobWatch, endLine, failureReason, workerName, type JobWatch, type WatchedJob } from '../reporters/job-watch.js';
import { printable, printableJson } from '../printable.js';
import { openJobEventStream } from '../job-event-stream.js';

/** Options of `sisyphus submit`. */
export interface SubmitOptions extends ApiOptions, JobInputOptions {
  priority?: string;
  wait?: boolean;
  json?: boolean;
  /** The config file given with `--config` (repeated in the cancel hint). */
  config?: string;
}

/**
 * Milliseconds between two looks at a followed job. A running job's worker
 * heartbeats about once a second while progress comes in (see the worker's
 * `PROGRESS_HEARTBEAT_MS`), so the bar lags the encoder by about a second.
 */
export const FOLLOW_POLL_MS = 500;
/** How long `--wait` keeps trying while the server cannot be reached, before it exits 3. */
export const FOLLOW_UNREACHABLE_MS = 60_000;

/**
 * `sisyphus submit JOB`: render the job locally (every placeholder filled),
 * submit it and print its id. With `--wait`, follow it to the end (see
 * {@link followJob}): exit 0 when it completed, 1 when it failed or was
 * removed from the server, 130 when it was cancelled (or Ctrl-C stopped the
 * following), 3 when the server cannot be reached.
 *
 * A job without a `job_id` is given a new UUID here, before it is sent (the
 * server takes a submitted `job_id` as the job's id, and refuses a second
 * job with the same one: 409). So when the answer is lost after the
 * request may have reached the server (a timeout, a broken connection, a
 * gateway's 502/503/504), the message can name the job that may have been
 * queued, and the operator can look before submitting again.
 */
export async function submitCommand(file: string, options: SubmitOptions): Promise<number> {
  const { doc, variables } = await loadJobInput(file, options);
  const job: Record<string, unknown> = { ...parseJob(renderTemplate(doc, variables)) };
  if (options.priority !== undefined) {
    const priority = Number(options.priority);
    if (!Number.isInteger(priority)) throw usage(`--priority must be an integer (got ${options.priority})`);
    job.priority = priority;
  }
  job.job_id ??= randomUUID();
  const sentId = job.job_id as string;
  let id: string;
  try {
    ({ job_id: id } = await apiRequest<{ job_id: string }>(options, 'POST', '/queue', job));
  } catch (error) {
    if (error instanceof ApiError && error.mayHaveReachedServer) {
      throw new ApiError(
        `${error.message}; the request may have reached the server, so the job may have been queued as ${sentId}: check with ${commandHint(['jobs', 'show', sentId], options)} before submitting it again`,
        error.status,
        error.body,
        true,
      );
    }
    throw error;
  }
  // The server's answer names the id (an original server may ignore the one sent).
  id = printable(id ?? sentId);
  process.stdout.write(options.json ? `${printableJson(JSON.stringify({ job_id: id }))}\n` : `${id}\n`);
  if (!options.wait) return ExitCodes.OK;
  return followJob(id, options);
}

/** `sisyphus ARGS` for the same server, shell-quoted (the token is left out: it is a secret). */
function commandHint(args: string[], options: SubmitOptions): string {
  // A URL from the environment is there for the next command too; one from --api or the config is repeated.
  const api = options.api ? apiTarget(options).base : undefined;
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return printable(['sisyphus', ...args, ...(api ? ['--api', api] : []), ...(options.config ? ['--config', options.config] : [])].map(quote).join(' '));
}

/** The command that cancels job `id` on the same server (the token is left out: it is a secret). */
export function cancelHint(id: string, options: SubmitOptions): string {
  return commandHint(['jobs', 'cancel', id], options);
}

/** Where following a job stands, shared by the event and the polling follower. */
interface Following {
  id: string;
  options: SubmitOptions;
  watch: JobWatch;
  signal: AbortSignal;
  /** The job as last seen. */
  view?: WatchedJob;
  /** Epoch ms since when the server cannot be reached. */
  unreachableSince?: number;
}

/** How following ended: an exit code, Ctrl-C, or (events only) a server without `GET /events`. */
type FollowEnd = number | 'interrupted' | 'unsupported';

const FINAL_STATES = new Set(['completed', 'failed', 'cancelled']);

/**
 * Look the job up once (`GET /jobs/{id}`): the view, or the exit code when
 * it was removed; undefined when the server cannot be reached (noted, and
 * given up with exit 3 after {@link FOLLOW_UNREACHABLE_MS}).
 */
async function lookUp(f: Following): Promise<WatchedJob | number | undefined> {
  try {
    const view = await apiRequest<WatchedJob>(f.options, 'GET', `/jobs/${encodeURIComponent(f.id)}`, undefined, { signal: f.signal });
    reachable(f);
    f.view = view;
    return view;
  } catch (error) {
    if (f.signal.aborted) return undefined;
    if (error instanceof ApiError && error.status === 404) return removed(f);
    if (!(error instanceof ApiError && error.unreachable)) throw error;
    unreachable(f, error.message, error);
    return undefined;
  }
}

/** The server answers again. */
function reachable(f: Following): void {
  if (f.unreachableSince !== undefined) f.watch.note(`sisyphus: the server answers again`);
  f.unreachableSince = undefined;
}

/** The server cannot be reached: say so once; after {@link FOLLOW_UNREACHABLE_MS}, give up (exit 3). */
function unreachable(f: Following, message: string, error?: ApiError): void {
  const now = Date.now();
  if (f.unreachableSince === undefined) f.watch.note(`sisyphus: ${message}; trying again for ${FOLLOW_UNREACHABLE_MS / 1000} s (the job is not affected)`);
  f.unreachableSince ??= now;
  if (now - f.unreachableSince >= FOLLOW_UNREACHABLE_MS) {
    f.watch.stop();
    throw new ApiError(
      `${message}; gave up following job ${f.id} after ${FOLLOW_UNREACHABLE_MS / 1000} s (it may still run: ${commandHint(['jobs', 'show', f.id], f.options)})`,
      error?.status ?? 0,
      error?.body,
    );
  }
}

/** The job was removed from the server while followed: it did not complete (exit 1). */
function removed(f: Following): number {
  f.watch.stop();
  const view = f.view;
  const last = view ? `; it was last seen ${view.state === 'running' && workerName(view) ? `running on ${workerName(view)}` : printable(view.state)}` : '';
  process.stderr.write(`sisyphus: job ${f.id} was removed from the server while being followed; it did not complete${last}\n`);
  return ExitCodes.FAILED;
}

/**
 * Follow through the server's event stream (`GET /events`): the job is
 * looked up when the stream (re)connects, on its own state changes and on a
 * `reset`; its worker's heartbeats move the progress in between, as they
 * arrive. 'unsupported' when the server has no event stream (an original
 * Sisyphus server).
 */
async function followByEvents(f: Following): Promise<FollowEnd> {
  let lookUpNeeded = false;
  let refused: { status: number; message: string } | undefined;
  // Whether the stream is up: a dropped one counts as the server being away until it reconnects.
  let connected = false;
  let wake: () => void = () => undefined;
  const poke = () => wake();
  const open = () => openJobEventStream(f.options, {
    onOpen: () => {
      connected = true;
      lookUpNeeded = true;
      poke();
    },
    onEvent: (type, data) => {
      if (type === 'reset') lookUpNeeded = true;
      else if (f.view?.state === 'waiting-children' && (type === 'worker.heartbeat' || (data.job as { parent_id?: unknown } | undefined)?.parent_id === f.id)) {
        // Its progress is its children's: look again (the server sums them up).
        lookUpNeeded = true;
      } else if (type === 'worker.heartbeat') {
        const worker = data.worker as { status?: Record<string, unknown>; last_seen?: string } | undefined;
        const status = worker?.status;
        if (!status || status.job_id !== f.id || f.view?.state !== 'running' || status.status === 'idle') return;
        f.view = {
          ...f.view,
          ...(typeof status.hostname === 'string' ? { worker_hostname: status.hostname } : {}),
          live: {
            ...(typeof status.task === 'string' ? { task: status.task } : {}),
            ...(typeof status.progress === 'number' ? { progress: status.progress } : {}),
            ...(status.info && typeof status.info === 'object' ? { info: status.info as Record<string, unknown> } : {}),
            ...(worker?.last_seen ? { at: worker.last_seen } : {}),
          },
        };
        f.watch.update(f.view);
        return;
      } else if ((data.job as { job_id?: unknown } | undefined)?.job_id === f.id) lookUpNeeded = true;
      else return;
      poke();
    },
    onDisconnect: (message) => {
      connected = false;
      unreachableNote(message);
    },
    onRefused: (status, message) => {
      refused = { status, message };
      poke();
    },
  });
  let close = open();
  let failure: unknown;
  const unreachableNote = (message: string) => {
    try {
      unreachable(f, `the event stream of ${printable(apiTarget(f.options).base)} broke (${printable(message)})`);
    } catch (error) {
      failure = error;
    }
    poke();
  };
  try {
    // The first look needs no stream: a job that ended already ends here.
    lookUpNeeded = true;
    for (;;) {
      if (f.signal.aborted) return 'interrupted';
      if (failure) throw failure;
      if (refused) {
        const { status, message } = refused;
        if (status === 404 || status === 405) return 'unsupported';
        // A server that cannot serve now (a store reconnecting: 503, busy: 429, a gateway: 502/504) is away, not refusing.
        if (status !== 429 && status < 500) throw new ApiError(`GET /events: ${status} ${printable(message)}`, status, undefined);
        refused = undefined;
        close();
        unreachableNote(`HTTP ${status}`);
        await delay(2000, undefined, { signal: f.signal }).catch(() => undefined);
        close = open();
        continue;
      }
      if (lookUpNeeded || !connected) {
        lookUpNeeded = false;
        const view = await lookUp(f);
        if (typeof view === 'number') return view;
        if (view) {
          f.watch.update(view);
          if (FINAL_STATES.has(view.state)) return finished(view, f.options);
        }
      }
      // Sleep until something happens; while the server is away, look again every second (and give up in time).
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          f.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, f.unreachableSince !== undefined || !connected ? 1000 : 30_000);
        wake = done;
        f.signal.addEventListener('abort', done, { once: true });
      });
      if (f.unreachableSince !== undefined) lookUpNeeded = true;
    }
  } finally {
    close();
  }
}

/** Follow by asking `GET /jobs/{id}` every {@link FOLLOW_POLL_MS} (servers without an event stream). */
async function followByPolling(f: Following): Promise<FollowEnd> {
  for (;;) {
    const view = await lookUp(f);
    if (f.signal.aborted) return 'interrupted';
    if (typeof view === 'number') return view;
    if (view) {
      f.watch.update(view);
      if (FINAL_STATES.has(view.state)) return finished(view, f.options);
    }
    await delay(view ? FOLLOW_POLL_MS : 1000, undefined, { signal: f.signal }).catch(() => undefined);
    if (f.signal.aborted) return 'interrupted';
  }
}

/**
 * Follow job `id` until it ends, showing live progress on stderr (a bar on a
 * terminal, plain lines otherwise) with the worker's host name, from the
 * server's event stream (`GET /events`; an original server without one is
 * asked every {@link FOLLOW_POLL_MS}). Ctrl-C stops following, not the
 * job: it says so, prints the command that cancels the job and resolves
 * 130. While the server cannot be reached it keeps trying for
 * {@link FOLLOW_UNREACHABLE_MS}, then gives up (exit 3). A job removed from
 * the server meanwhile (404) did not complete: it says so and resolves 1.
 */
export async function followJob(id: string, options: SubmitOptions): Promise<number> {
  const stderr = process.stderr;
  const watch: JobWatch = stderr.isTTY ? new TtyJobWatch(stderr) : new PlainJobWatch(stderr);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  const f: Following = { id, options, watch, signal: interrupt.signal };
  try {
    let end = await followByEvents(f);
    if (end === 'unsupported') end = await followByPolling(f);
    if (typeof end === 'number') return end;
  } finally {
    process.off('SIGINT', onSignal);
    watch.stop();
  }
  // Ctrl-C: the job is the server's; only the following stops.
  const view = f.view;
  const where = view?.state === 'running' ? `it keeps running on ${workerName(view) ?? 'its worker'}` : view?.state === 'queued' || !view ? 'it stays queued on the server' : `it is ${printable(view.state)}`;
  stderr.write(`\nsisyphus: stopped following job ${id}; ${where}. To cancel it: ${cancelHint(id, options)}\n`);
  return ExitCodes.CANCELLED;
}

function finished(view: WatchedJob, options: SubmitOptions): number {
  if (options.json) process.stdout.write(`${printableJson(JSON.stringify(view))}\n`);
  if (view.state === 'failed') {
    const host = workerName(view);
    process.stderr.write(`sisyphus: job failed${host ? ` on ${host}` : ''}: ${failureReason(view) ?? 'no reason given'}\n`);
    return ExitCodes.FAILED;
  }
  process.stderr.write(`${endLine(view)}\n`);
  return view.state === 'completed' ? ExitCodes.OK : ExitCodes.CANCELLED;
}
