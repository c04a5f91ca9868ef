import { setTimeout as delay } from 'node:timers/promises';
import { parseJob } from '../../job/parse-job.js';
import { renderTemplate } from '../../job/render-template.js';
import { apiRequest, type ApiOptions } from '../api-client.js';
import { ExitCodes } from '../exit-codes.js';
import { usage } from '../usage-error.js';
import { loadJobInput, type JobInputOptions } from '../load-job-input.js';

/** Options of `sisyphus submit`. */
export interface SubmitOptions extends ApiOptions, JobInputOptions {
  priority?: string;
  wait?: boolean;
  json?: boolean;
}

interface JobView {
  job_id: string;
  job_title: string;
  state: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  result?: { message?: string; module?: string };
  reason?: string;
}

/**
 * `sisyphus submit JOB`: render the job locally (every placeholder filled),
 * submit it and print its id. With `--wait`, follow it to the end: exit 0
 * when it completed, 1 when it failed, 130 when it was cancelled.
 */
export async function submitCommand(file: string, options: SubmitOptions): Promise<number> {
  const { doc, variables } = await loadJobInput(file, options);
  const job: Record<string, unknown> = { ...parseJob(renderTemplate(doc, variables)) };
  if (options.priority !== undefined) {
    const priority = Number(options.priority);
    if (!Number.isInteger(priority)) throw usage(`--priority must be an integer (got ${options.priority})`);
    job.priority = priority;
  }
  const { job_id: id } = await apiRequest<{ job_id: string }>(options, 'POST', '/queue', job);
  process.stdout.write(options.json ? `${JSON.stringify({ job_id: id })}\n` : `${id}\n`);
  if (!options.wait) return ExitCodes.OK;

  let last = '';
  for (;;) {
    const view = await apiRequest<JobView>(options, 'GET', `/jobs/${encodeURIComponent(id)}`);
    let line: string = view.state;
    if (view.state === 'running') {
      const { workers } = await apiRequest<{ workers: Array<{ worker_id: string; job_id?: string; task?: string; progress?: number }> }>(options, 'GET', '/workers');
      const w = workers.find((x) => x.job_id === id);
      if (w) line = `running on ${w.worker_id}${w.task ? `: ${w.task}` : ''}${w.progress !== undefined ? ` ${Math.round(w.progress)}%` : ''}`;
    }
    if (line !== last) process.stderr.write(`${view.job_title}: ${line}\n`);
    last = line;
    if (options.json && ['completed', 'failed', 'cancelled'].includes(view.state)) process.stdout.write(`${JSON.stringify(view)}\n`);
    if (view.state === 'completed') return ExitCodes.OK;
    if (view.state === 'cancelled') return ExitCodes.CANCELLED;
    if (view.state === 'failed') {
      process.stderr.write(`sisyphus: job failed: ${view.result?.module ? `${view.result.module}: ` : ''}${view.result?.message ?? view.reason ?? 'no reason given'}\n`);
      return ExitCodes.FAILED;
    }
    await delay(500);
  }
}
