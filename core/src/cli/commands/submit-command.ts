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

/**
 * Follow job `id` until it ends, showing live progress on stderr (a bar on a
 * terminal, plain lines otherwise) with the worker's host name. Ctrl-C
 * stops following, not the job: it says so, prints the command that cancels
 * the job and resolves 130. While the server cannot be reached it keeps
 * trying for {@link FOLLOW_UNREACHABLE_MS}, then gives up (exit 3). A job
 * removed from the server meanwhile (404) did not complete: it says so and
 * resolves 1.
 */
export async function followJob(id: string, options: SubmitOptions): Promise<number> {
  const stderr = process.stderr;
  const watch: JobWatch = stderr.isTTY ? new TtyJobWatch(stderr) : new PlainJobWatch(stderr);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  let view: WatchedJob | undefined;
  let unreachableSince: number | undefined;
  try {
    for (;;) {
      try {
        view = await apiRequest<WatchedJob>(options, 'GET', `/jobs/${encodeURIComponent(id)}`, undefined, { signal: interrupt.signal });
        if (unreachableSince !== undefined) watch.note(`sisyphus: the server answers again`);
        unreachableSince = undefined;
      } catch (error) {
        if (interrupt.signal.aborted) break;
        if (error instanceof ApiError && error.status === 404) {
          watch.stop();
          const last = view ? `; it was last seen ${view.state === 'running' && workerName(view) ? `running on ${workerName(view)}` : printable(view.state)}` : '';
          stderr.write(`sisyphus: job ${id} was removed from the server while being followed; it did not complete${last}\n`);
          return ExitCodes.FAILED;
        }
        if (!(error instanceof ApiError && error.unreachable)) throw error;
        const now = Date.now();
        if (unreachableSince === undefined) watch.note(`sisyphus: ${error.message}; trying again for ${FOLLOW_UNREACHABLE_MS / 1000} s (the job is not affected)`);
        unreachableSince ??= now;
        if (now - unreachableSince >= FOLLOW_UNREACHABLE_MS) {
          watch.stop();
          throw new ApiError(`${error.message}; gave up following job ${id} after ${FOLLOW_UNREACHABLE_MS / 1000} s (it may still run: ${commandHint(['jobs', 'show', id], options)})`, error.status, error.body);
        }
        await delay(1000, undefined, { signal: interrupt.signal }).catch(() => undefined);
        if (interrupt.signal.aborted) break;
        continue;
      }
      watch.update(view);
      if (view.state === 'completed' || view.state === 'failed' || view.state === 'cancelled') {
        watch.stop();
        return finished(view, options);
      }
      await delay(FOLLOW_POLL_MS, undefined, { signal: interrupt.signal }).catch(() => undefined);
      if (interrupt.signal.aborted) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    watch.stop();
  }
  // Ctrl-C: the job is the server's; only the following stops.
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
