import { describe, expect, it } from 'vitest';
import type { WorkerRecord } from '../src/store/queue-store.js';
import { eligibilityOf, workerPool } from '../src/queue/job-eligibility.js';

// Who could run a queued job now: the "no eligible worker" line of GET /jobs/{id} and the dashboard.
const NOW = Date.parse('2026-03-04T12:00:00Z'); // a Wednesday
const GPU_JOB = { all: ['module:ffmpeg', 'tag:gpu'], explicit: true };
const worker = (id: string, tags: string[], extra: Partial<WorkerRecord> = {}): WorkerRecord => ({
  worker_id: id,
  status: { status: 'idle', capabilities: { modules: ['ffmpeg'], binaries: {}, encoders: [], hwaccels: [], gpus: [], tags } },
  attributes: { disabled: false },
  last_seen: NOW,
  live: true,
  ...extra,
});

describe('eligibilityOf', () => {
  it('counts the live, enabled workers inside their hours that have everything', () => {
    const pool = workerPool([worker('a', ['gpu']), worker('b', ['GPU']), worker('c', []), worker('gone', ['gpu'], { live: false })], undefined, NOW);
    expect(eligibilityOf(GPU_JOB, pool)).toEqual({ eligible_workers: 2 });
    expect(eligibilityOf(undefined, pool)).toBeUndefined();
  });

  it('names what the closest live worker lacks', () => {
    const pool = workerPool([worker('c', []), worker('legacy', [], { status: { status: 'idle' } })], undefined, NOW);
    expect(eligibilityOf(GPU_JOB, pool)).toEqual({ eligible_workers: 0, needs: ['tag:gpu'], message: 'no eligible worker: needs tag gpu' });
  });

  it('says so when no worker is online', () => {
    expect(eligibilityOf(GPU_JOB, workerPool([worker('gone', ['gpu'], { live: false })], undefined, NOW))).toEqual({
      eligible_workers: 0,
      needs: GPU_JOB.all,
      message: 'no eligible worker: no worker is online',
    });
  });

  it('does not count a worker that could run it but is disabled or outside its active hours', () => {
    const disabled = worker('a', ['gpu'], { attributes: { disabled: true } });
    expect(eligibilityOf(GPU_JOB, workerPool([disabled, worker('c', [])], undefined, NOW))).toEqual({
      eligible_workers: 0,
      message: 'no eligible worker: the worker that can run it is disabled or outside active hours',
    });
    const nights = { timezone: 'UTC', windows: [{ from: '22:00', to: '06:00' }] };
    const offHours = worker('b', ['gpu'], { attributes: { disabled: false, schedule: nights } });
    const byTag = worker('d', ['gpu']);
    expect(eligibilityOf(GPU_JOB, workerPool([offHours, byTag], { schedules: { GPU: nights } }, NOW))).toEqual({
      eligible_workers: 0,
      message: 'no eligible worker: the 2 workers that can run it are disabled or outside active hours',
    });
    expect(eligibilityOf(GPU_JOB, workerPool([offHours, byTag], { schedules: { GPU: nights } }, Date.parse('2026-03-04T23:00:00Z')))).toEqual({ eligible_workers: 2 });
  });
});
