import { readFileSync } from 'node:fs';
import { apiRequest, type ApiOptions } from '../api-client.js';
import { ExitCodes } from '../exit-codes.js';
import { usage } from '../usage-error.js';
import { readDocument } from '../../job/load-job-file.js';
import { jobsTable, type ListedJob } from '../jobs-table.js';
import { printable, printableJson, shownPercent } from '../printable.js';

// Strings are the CLI's own lines (server text in them made printable where it is put in); JSON keeps no raw C1 or bidi character.
const print = (value: unknown, json?: boolean) =>
  process.stdout.write(`${typeof value === 'string' && !json ? value : printableJson(JSON.stringify(value, null, 2))}\n`);

interface JobRow { job_id: string; job_title: string; state?: string; priority?: number; attempts?: number; worker_id?: string; added?: string }

function jobTable(jobs: JobRow[]): string {
  if (!jobs.length) return '(none)';
  return jobs.map((j) => `${printable(j.job_id)}  ${printable(j.state ?? 'queued').padEnd(9)}  ${printable(j.job_title)}${j.worker_id && j.state && j.state !== 'queued' ? `  [${printable(j.worker_id)}]` : ''}`).join('\n');
}

/** `sisyphus queue [ls|pause|resume|clear]` */
export async function queueCommand(action: string, options: ApiOptions & { json?: boolean }): Promise<number> {
  switch (action) {
    case 'ls': {
      const q = await apiRequest<{ queue: JobRow[]; entries: number; attributes: { disabled: boolean } }>(options, 'GET', '/queue');
      if (options.json) print(q, true);
      else print(`${q.entries} queued${q.attributes.disabled ? ' (paused)' : ''}\n${jobTable(q.queue)}`);
      return ExitCodes.OK;
    }
    case 'pause':
    case 'resume':
      print(await apiRequest(options, 'PATCH', '/queue', { disabled: action === 'pause' }), true);
      return ExitCodes.OK;
    case 'clear':
      await apiRequest(options, 'DELETE', '/queue');
      print('queue cleared');
      return ExitCodes.OK;
    default:
      throw usage(`unknown queue action "${action}" (ls, pause, resume, clear)`);
  }
}

/** Options of `sisyphus jobs`: the listing's filters, and `--all` for a bulk retry. */
export interface JobsOptions extends ApiOptions {
  json?: boolean;
  state?: string;
  limit?: string;
  title?: string;
  worker?: string;
  since?: string;
  until?: string;
  all?: boolean;
}

/** The history filters given on the command line, as `GET /jobs` and `POST /jobs/retry` name them. */
function filters(options: JobsOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['title', 'worker', 'since', 'until'] as const) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

/** `sisyphus jobs [ls|show ID|cancel ID|retry ID|retry --all]` */
export async function jobsCommand(action: string, id: string | undefined, options: JobsOptions): Promise<number> {
  const need = () => {
    if (!id) throw usage(`jobs ${action} needs a job id`);
    return encodeURIComponent(id);
  };
  switch (action) {
    case 'ls': {
      const params = new URLSearchParams(filters(options));
      if (options.state) {
        const states = ['queued', 'running', 'waiting-children', 'completed', 'failed', 'cancelled', 'finished'];
        if (!states.includes(options.state)) throw usage(`--state must be one of ${states.join(', ')} (got ${options.state})`);
        params.set('state', options.state);
      }
      if (options.limit) params.set('limit', options.limit);
      const page = await apiRequest<{ jobs: ListedJob[] }>(options, 'GET', `/jobs${params.size ? `?${params}` : ''}`);
      print(options.json ? page : jobsTable(page.jobs), options.json);
      return ExitCodes.OK;
    }
    case 'show':
      print(await apiRequest(options, 'GET', `/jobs/${need()}`), true);
      return ExitCodes.OK;
    case 'cancel': {
      const r = await apiRequest<{ status: string }>(options, 'POST', `/jobs/${need()}/cancel`);
      print(r.status === 'cancelled' ? 'cancelled (it was not running: a queued job leaves the queue, a job waiting for its children cancels them)' : 'cancel requested (its worker stops it)');
      return ExitCodes.OK;
    }
    case 'retry': {
      if (options.all) {
        if (id) throw usage('jobs retry takes a job id or --all with filters, not both');
        const state = options.state ?? 'failed';
        if (state !== 'failed' && state !== 'cancelled') throw usage(`jobs retry --all: --state must be failed or cancelled (got ${state})`);
        const limit = options.limit !== undefined ? Number(options.limit) : undefined;
        if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw usage(`--limit must be a whole number from 1 (got ${options.limit})`);
        const r = await apiRequest<{ retried: Array<{ job_id: string; retry_of: string }>; count: number; skipped: number; more?: boolean }>(options, 'POST', '/jobs/retry', {
          state,
          ...filters(options),
          ...(limit !== undefined ? { limit } : {}),
        });
        if (options.json) print(r, true);
        else {
          const lines = r.retried.map((x) => `${printable(x.retry_of)} -> ${printable(x.job_id)}`);
          const skipped = r.skipped ? `; ${r.skipped} retried already (skipped)` : '';
          const more = r.more ? '; more remain: run the command again' : '';
          print(`${r.count} ${state} job${r.count === 1 ? '' : 's'} retried${skipped}${more}${lines.length ? `\n${lines.join('\n')}` : ''}`);
        }
        return ExitCodes.OK;
      }
      const r = await apiRequest<{ job_id: string; retry_of: string }>(options, 'POST', `/jobs/${need()}/retry`);
      print(options.json ? r : `retried as ${printable(r.job_id)}`, options.json);
      return ExitCodes.OK;
    }
    default:
      throw usage(`unknown jobs action "${action}" (ls, show, cancel, retry)`);
  }
}

/** `sisyphus workers [ls|disable ID|enable ID]` */
export async function workersCommand(action: string, id: string | undefined, options: ApiOptions & { json?: boolean }): Promise<number> {
  switch (action) {
    case 'ls': {
      // Offline workers too (disabled ones a person may want to enable again); an original server ignores the parameter.
      const r = await apiRequest<{ workers: Array<Record<string, unknown> & { worker_id: string; attributes: { disabled: boolean }; online?: boolean }> }>(options, 'GET', '/workers?offline=1');
      if (options.json) print(r, true);
      else if (!r.workers.length) print('(no workers)');
      else {
        print(
          r.workers
            .map((w) => `${printable(w.worker_id)}  ${printable(String(w.hostname ?? '?')).padEnd(16)} ${printable(String(w.online === false ? 'offline' : (w.status ?? '?'))).padEnd(11)}${w.attributes.disabled ? ' disabled' : ''}${w.job_title ? `  ${printable(w.job_title)}` : ''}${shownPercent(Number(w.progress)) !== undefined ? ` ${Math.round(shownPercent(Number(w.progress))!)}%` : ''}`)
            .join('\n'),
        );
      }
      return ExitCodes.OK;
    }
    case 'disable':
    case 'enable':
      if (!id) throw usage(`workers ${action} needs a worker id`);
      print(await apiRequest(options, 'PATCH', `/workers/${encodeURIComponent(id)}`, { disabled: action === 'disable' }), true);
      return ExitCodes.OK;
    default:
      throw usage(`unknown workers action "${action}" (ls, disable, enable)`);
  }
}

/** `sisyphus data [get|set|rm] MODULE NAME [FILE]` */
export async function dataCommand(action: string, module: string, name: string | undefined, file: string | undefined, options: ApiOptions): Promise<number> {
  const path = (n: string) => `/data/${encodeURIComponent(module)}/${encodeURIComponent(n)}`;
  switch (action) {
    case 'ls':
      print(await apiRequest(options, 'GET', `/data/${encodeURIComponent(module)}`), true);
      return ExitCodes.OK;
    case 'get':
      if (!name) throw usage('data get needs MODULE NAME');
      print(await apiRequest(options, 'GET', path(name)), true);
      return ExitCodes.OK;
    case 'set': {
      if (!name || !file) throw usage('data set needs MODULE NAME FILE (JSON or YAML, or - for stdin)');
      // YAML is a superset of JSON: stdin may hold either.
      const record = file === '-' ? (await import('yaml')).parse(readFileSync(0, 'utf8')) : await readDocument(file);
      print(await apiRequest(options, 'POST', path(name), record), true);
      return ExitCodes.OK;
    }
    case 'rm':
      if (!name) throw usage('data rm needs MODULE NAME');
      await apiRequest(options, 'DELETE', path(name));
      print(`deleted ${module}/${name}`);
      return ExitCodes.OK;
    default:
      throw usage(`unknown data action "${action}" (ls, get, set, rm)`);
  }
}
