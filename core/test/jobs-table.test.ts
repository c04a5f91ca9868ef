import { describe, expect, it } from 'vitest';
import { compactTime, jobsTable } from '../src/cli/jobs-table.js';

describe('jobs ls table', () => {
  const now = new Date(2026, 5, 15, 12, 0, 0);
  it('shows times local and compact: time today, month-day this year, the year before', () => {
    expect(compactTime(new Date(2026, 5, 15, 9, 5, 7).toISOString(), now)).toBe('09:05:07');
    expect(compactTime(new Date(2026, 2, 4, 14, 3, 59).toISOString(), now)).toBe('03-04 14:03');
    expect(compactTime(new Date(2025, 11, 31, 23, 59).toISOString(), now)).toBe('2025-12-31 23:59');
    expect(compactTime(undefined, now)).toBe('-');
    expect(compactTime('not a time', now)).toBe('-');
  });

  it('aligns columns; the worker by host name; a failure\'s reason on one line', () => {
    const t = (h: number) => new Date(2026, 5, 15, h, 0, 0).toISOString();
    const table = jobsTable(
      [
        { job_id: 'a', job_title: 'Encode\nfilm', state: 'running', worker_id: 'w-1', worker_hostname: 'enc-1', added: t(8), started_at: t(9), live: { progress: 42.7 } },
        { job_id: 'b', job_title: 'Tidy', state: 'failed', worker_id: 'w-2', added: t(8), started_at: t(9), finished_at: t(10), result: { module: 'cleanup', message: 'boom\nstack', worker: 'enc-2' } },
        { job_id: 'c', job_title: 'Later', state: 'queued', worker_id: 'w-3', added: t(11) },
      ],
      now,
    );
    expect(table.split('\n')).toEqual([
      'ID  STATE        SUBMITTED  STARTED   FINISHED  WORKER  TITLE        REASON',
      'a   running 42%  08:00:00   09:00:00  -         enc-1   Encode film',
      'b   failed       08:00:00   09:00:00  10:00:00  enc-2   Tidy         cleanup: boom',
      'c   queued       11:00:00   -         -         -       Later',
    ]);
    expect(jobsTable([], now)).toBe('(none)');
  });

  it('a parent waiting for its children shows their summed progress, as the API does', () => {
    const t = new Date(2026, 5, 15, 9, 0, 0).toISOString();
    const table = jobsTable([{ job_id: 'p', job_title: 'Film', state: 'waiting-children', worker_id: 'w-1', added: t, started_at: t, live: { progress: 39.7 } }], now);
    expect(table.split('\n')[1]).toMatch(/^p {3}waiting-children 39% {2}09:00:00/);
  });

  it('escapes what submitters and workers put in titles, host names and reasons; clamps progress', () => {
    const t = new Date(2026, 5, 15, 9, 0, 0).toISOString();
    const table = jobsTable(
      [
        { job_id: 'a', job_title: 'EVIL\u001b[31mRED\u001b]0;owned-title\u0007', state: 'running', worker_id: 'W1', worker_hostname: 'h\u001b[2K\rEVILHOST', added: t, live: { progress: 250 } },
        { job_id: 'b', job_title: 'bidi \u202eexe.fdp', state: 'running', worker_id: 'W2', added: t, live: { progress: -4 } },
        { job_id: 'c', job_title: 'x', state: 'failed', worker_id: 'W3', added: t, result: { module: 'm\u009b2J', message: 'boom\r[ok] all fine\nmore', worker: 'w\u0085' } },
      ],
      now,
    );
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(table.split('\n')).toEqual([
      'ID  STATE         SUBMITTED  STARTED  FINISHED  WORKER                TITLE                                  REASON',
      'a   running 100%  09:00:00   -        -         h\\x1b[2K\\x0dEVILHOST  EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07',
      'b   running 0%    09:00:00   -        -         W2                    bidi \\u202eexe.fdp',
      'c   failed        09:00:00   -        -         w\\x85                 x                                      m\\x9b2J: boom\\x0d[ok] all fine',
    ]);
  });
});
