import { failureReason, jobTitle, workerName, type WatchedJob } from './reporters/job-watch.js';
import { printable, shownPercent } from './printable.js';

/** A job of `GET /jobs` as `jobs ls` shows it. */
export type ListedJob = WatchedJob & { added?: string; priority?: number };

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * An ISO time in local time, compact: `14:03:12` today, `03-04 14:03` this
 * year, `2025-03-04 14:03` before; `-` when unset or not a time.
 */
export function compactTime(iso: string | undefined, now: Date = new Date()): string {
  if (!iso) return '-';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '-';
  const hm = `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
  if (t.toDateString() === now.toDateString()) return `${hm}:${pad2(t.getSeconds())}`;
  const md = `${pad2(t.getMonth() + 1)}-${pad2(t.getDate())}`;
  return t.getFullYear() === now.getFullYear() ? `${md} ${hm}` : `${t.getFullYear()}-${md} ${hm}`;
}

/**
 * `running 42%` for a running job with progress (clamped to 0-100: the worker reports it), `waiting-children 40%` for a
 * parent whose children report theirs (the server sums them), else the state.
 */
function stateCell(job: ListedJob): string {
  const state = printable(job.state ?? 'queued');
  const percent = shownPercent(job.live?.progress);
  return (state === 'running' || state === 'waiting-children') && percent !== undefined ? `${state} ${Math.floor(percent)}%` : state;
}

/**
 * The `jobs ls` table: id, state, submitted/started/finished (local,
 * compact), the worker's host (else its id), the title, and for failed jobs
 * the one-line reason. One line per job, columns aligned. Every cell from
 * the server is {@link printable}: titles, host names and reasons come from
 * submitters and workers, and reach the operator's terminal.
 */
export function jobsTable(jobs: readonly ListedJob[], now: Date = new Date()): string {
  if (!jobs.length) return '(none)';
  const header = ['ID', 'STATE', 'SUBMITTED', 'STARTED', 'FINISHED', 'WORKER', 'TITLE'];
  const anyFailed = jobs.some((j) => j.state === 'failed');
  if (anyFailed) header.push('REASON');
  const rows = jobs.map((j) => {
    const row = [
      printable(j.job_id),
      stateCell(j),
      compactTime(j.added, now),
      compactTime(j.started_at, now),
      compactTime(j.finished_at, now),
      (j.state !== 'queued' && workerName(j)) || '-',
      jobTitle({ job_id: j.job_id, job_title: typeof j.job_title === 'string' ? j.job_title.replace(/\s+/g, ' ') : j.job_title }),
    ];
    if (anyFailed) row.push(j.state === 'failed' ? (failureReason(j) ?? '-') : '');
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
