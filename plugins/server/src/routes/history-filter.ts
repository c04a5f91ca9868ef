import type { JobFilter, JobState } from '../store/queue-store.js';

/** The filter fields of `GET /jobs` and `POST /jobs/retry` as they arrive. */
export interface HistoryQuery {
  state?: JobState | 'finished';
  title?: string;
  worker?: string;
  since?: string;
  until?: string;
}

/** A 400 naming the field (the error handler answers `{message}` with the status). */
function badField(field: string, value: string): Error {
  return Object.assign(new Error(`${field} must be an ISO 8601 time such as 2026-11-30T10:00:00Z, or epoch milliseconds (got ${JSON.stringify(value)})`), { statusCode: 400 });
}

/** Epoch ms of a filter time: digits are epoch ms, anything else must parse as a date-time. */
function epochMs(field: string, value: string): number {
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw badField(field, value);
  return ms;
}

/** The store's {@link JobFilter} of a listing's query; a 400 naming a time that does not parse. */
export function historyFilter(query: HistoryQuery): JobFilter {
  return {
    ...(query.state ? { state: query.state } : {}),
    ...(query.title ? { title: query.title } : {}),
    ...(query.worker ? { workerId: query.worker } : {}),
    ...(query.since !== undefined ? { since: epochMs('since', query.since) } : {}),
    ...(query.until !== undefined ? { until: epochMs('until', query.until) } : {}),
  };
}
