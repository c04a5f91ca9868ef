import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type ServerOptions, type SisyphusServer } from '../src/index.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { parsePrometheusText, sampleValue, samplesOf, type Exposition } from './prometheus-text.js';

// GET /metrics on a real server (SQLite file, port 0): jobs run through the
// poll and report routes, the lease sweep and cancels, then the scrape is
// parsed and checked figure by figure. Time is a fake clock (durations exact).
const dir = mkdtempSync(join(tmpdir(), 'sisyphus-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;


const servers: SisyphusServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const T0 = Date.UTC(2026, 0, 1);
const clock = { now: T0 };

async function start(options: ServerOptions = {}) {
  clock.now = T0;
  // The sweep runs only when a test calls tick().
  const server = await createServer(openSqliteStore(join(dir, `server-${++files}.db`)), { sweepIntervalMs: 3_600_000, ...options }, { now: () => clock.now });
  servers.push(server);
  const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: (res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined) as any };
  };
  const submit = async (title: string, modules: string[], priority = 0) => {
    const res = await call('POST', '/queue', { job_title: title, priority, tasks: modules.map((module) => ({ module, data: {} })) });
    expect(res.status).toBe(200);
    return res.json.job_id as string;
  };
  const poll = async (workerId = 'w1') => (await call('GET', `/queue/poll?worker_id=${workerId}`)).json?.job_id as string | undefined;
  const report = async (id: string, failed: boolean, info: Record<string, unknown>) => {
    const res = await call('PATCH', `/jobs/${id}/completed`, { failed, info: { worker_id: 'w1', job_id: id, completed: !failed, failed, cancelled: false, tasks: [], ...info } });
    expect(res.status, res.text).toBe(200);
  };
  const scrape = async (token?: string): Promise<Exposition> => {
    const res = await call('GET', '/metrics', undefined, token);
    expect(res.status, res.text).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(res.text);
  };
  return { server, call, submit, poll, report, scrape };
}

describe('GET /metrics', () => {
  it('counts jobs, failures, durations, expiries and requeues; shows the queue, jobs by state, workers and the process', async () => {
    const { server, call, submit, poll, report, scrape } = await start();
    const a = await submit('a', ['ffmpeg', 'mkvmerge', 'ffmpeg'], 3);
    const b = await submit('b', ['cleanup'], 3);
    const f = await submit('f', ['cleanup'], 3);
    await submit('c1', ['cleanup'], 0);
    await submit('c2', ['cleanup'], 0);
    await submit('d', ['cleanup'], -2);
    const e = await submit('e', ['cleanup'], 0);
    expect((await call('POST', `/jobs/${e}/cancel`)).json.status).toBe('cancelled');
    expect((await call('PATCH', '/workers/w2', { disabled: true })).status).toBe(200);

    // a fails in its second task after a minute; its third task never ran.
    expect(await poll()).toBe(a);
    clock.now += 60_000;
    await report(a, true, {
      code: 'SIS_RUN', module: 'mkvmerge', task_index: 1, phase: 'run', message: 'mkvmerge exited with code 2',
      tasks: [
        { index: 0, module: 'ffmpeg', status: 'done', durations: { init: 100, validate: 50, run: 29_850, cleanup: 0 } },
        { index: 1, module: 'mkvmerge', status: 'failed', durations: { init: 10, run: 990 }, error: { code: 'SIS_RUN', phase: 'run', message: 'x' } },
        { index: 2, module: 'ffmpeg', status: 'skipped', durations: {} },
      ],
    });
    // b completes in 2.5 s.
    expect(await poll()).toBe(b);
    clock.now += 2_500;
    await report(b, false, { tasks: [{ index: 0, module: 'cleanup', status: 'done', durations: { init: 5, validate: 5, run: 190, cleanup: 0 } }] });
    // f is given back by its stopping worker, then its lease runs out twice: requeued, then failed (3 attempts).
    expect(await poll()).toBe(f);
    await report(f, true, { requeue: true, completed: false });
    expect(await poll()).toBe(f);
    clock.now += 31_000;
    await server.sweeper.tick();
    expect(await poll()).toBe(f);
    clock.now += 31_000;
    await server.sweeper.tick();
    expect((await call('GET', `/jobs/${f}`)).json.state).toBe('failed');
    // w1 heartbeats; the scrape comes 7 s later.
    expect((await call('POST', '/workers/w1', { status: 'idle', hostname: 'h1' })).status).toBe(200);
    clock.now += 7_000;

    const m = await scrape();
    expect(m.types.get('sisyphus_jobs_finished_total')).toBe('counter');
    expect(m.types.get('sisyphus_job_duration_seconds')).toBe('histogram');
    expect(m.types.get('sisyphus_queue_depth')).toBe('gauge');
    expect(sampleValue(m, 'sisyphus_jobs_submitted_total')).toBe(7);
    expect(samplesOf(m, 'sisyphus_jobs_finished_total')).toEqual({ 'state=completed': 1, 'state=failed': 2, 'state=cancelled': 1 });
    expect(samplesOf(m, 'sisyphus_job_failures_total')).toEqual({ 'code=SIS_RUN,module=mkvmerge': 1, 'code=none,module=none': 1 });
    expect(sampleValue(m, 'sisyphus_lease_expiries_total')).toBe(2);
    expect(samplesOf(m, 'sisyphus_requeues_total')).toEqual({ 'reason=lease_expired': 1, 'reason=released': 1 });

    // Job durations: from the lease to the report, by the job's modules and end.
    const failedJob = { modules: 'ffmpeg,mkvmerge', state: 'failed' };
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_count', failedJob)).toBe(1);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_sum', failedJob)).toBe(60);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_bucket', { ...failedJob, le: '30' })).toBe(0);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_bucket', { ...failedJob, le: '60' })).toBe(1);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_bucket', { ...failedJob, le: '+Inf' })).toBe(1);
    const completedJob = { modules: 'cleanup', state: 'completed' };
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_sum', completedJob)).toBe(2.5);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_bucket', { ...completedJob, le: '1' })).toBe(0);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_bucket', { ...completedJob, le: '5' })).toBe(1);
    expect(sampleValue(m, 'sisyphus_job_duration_seconds_bucket', { ...completedJob, le: '86400' })).toBe(1);
    // Task durations: every phase, by module (from the job document) and status; the skipped task is not there.
    expect(samplesOf(m, 'sisyphus_task_duration_seconds_count')).toEqual({ 'module=ffmpeg,status=done': 1, 'module=mkvmerge,status=failed': 1, 'module=cleanup,status=done': 1 });
    expect(sampleValue(m, 'sisyphus_task_duration_seconds_sum', { module: 'ffmpeg', status: 'done' })).toBe(30);
    expect(sampleValue(m, 'sisyphus_task_duration_seconds_sum', { module: 'mkvmerge', status: 'failed' })).toBe(1);
    expect(sampleValue(m, 'sisyphus_task_duration_seconds_sum', { module: 'cleanup', status: 'done' })).toBeCloseTo(0.2, 10);
    expect(sampleValue(m, 'sisyphus_task_duration_seconds_bucket', { module: 'cleanup', status: 'done', le: '0.1' })).toBe(0);
    expect(sampleValue(m, 'sisyphus_task_duration_seconds_bucket', { module: 'cleanup', status: 'done', le: '0.5' })).toBe(1);

    // Gauges, read from the store now.
    expect(samplesOf(m, 'sisyphus_queue_depth')).toEqual({ 'priority=0': 2, 'priority=-2': 1 });
    expect(samplesOf(m, 'sisyphus_jobs')).toEqual({
      'state=queued': 3, 'state=running': 0, 'state=waiting-children': 0, 'state=completed': 1, 'state=failed': 2, 'state=cancelled': 1,
    });
    expect(sampleValue(m, 'sisyphus_queue_disabled')).toBe(0);
    expect(sampleValue(m, 'sisyphus_workers_online')).toBe(1);
    expect(sampleValue(m, 'sisyphus_workers_disabled')).toBe(1);
    expect(samplesOf(m, 'sisyphus_worker_heartbeat_age_seconds')).toEqual({ 'worker_id=w1': 7 });
    // prom-client's process metrics.
    expect(m.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(sampleValue(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    // A second scrape counts nothing twice.
    const again = await scrape();
    for (const name of ['sisyphus_jobs_finished_total', 'sisyphus_job_duration_seconds_bucket', 'sisyphus_task_duration_seconds_sum', 'sisyphus_requeues_total']) {
      expect(samplesOf(again, name), name).toEqual(samplesOf(m, name));
    }
  });

  it('takes module labels from the job as submitted and codes from our list, whatever a report claims', async () => {
    const { submit, poll, report, scrape } = await start();
    const ids = [await submit('x', ['cleanup']), await submit('y', ['cleanup']), await submit('z', ['cleanup'])];
    expect(await poll()).toBe(ids[0]);
    // The failed task is task 0 of the document (cleanup), whatever module the report names.
    await report(ids[0]!, true, { code: 'SIS_PROCESS_FAILED', module: 'evil"module', task_index: 0, tasks: [{ index: 0, module: 'evil', status: 'failed', durations: { run: 1 } }] });
    expect(await poll()).toBe(ids[1]);
    // A code we do not know, a module the job does not have, no task index.
    await report(ids[1]!, true, { code: 'NOT_OURS', module: 'x'.repeat(500) });
    expect(await poll()).toBe(ids[2]);
    // An original worker's report: no code, no module.
    await report(ids[2]!, true, { message: 'it broke' });
    const m = await scrape();
    expect(samplesOf(m, 'sisyphus_job_failures_total')).toEqual({ 'code=SIS_PROCESS_FAILED,module=cleanup': 1, 'code=other,module=other': 1, 'code=none,module=none': 1 });
    expect(samplesOf(m, 'sisyphus_task_duration_seconds_count')).toEqual({ 'module=cleanup,status=failed': 1 });
  });

  it('shows zeros before anything happened, and the queue per priority', async () => {
    const { submit, call, scrape } = await start();
    let m = await scrape();
    expect(sampleValue(m, 'sisyphus_jobs_submitted_total')).toBe(0);
    expect(samplesOf(m, 'sisyphus_jobs_finished_total')).toEqual({ 'state=completed': 0, 'state=failed': 0, 'state=cancelled': 0 });
    expect(samplesOf(m, 'sisyphus_job_failures_total')).toEqual({});
    expect(samplesOf(m, 'sisyphus_queue_depth')).toEqual({});
    expect(samplesOf(m, 'sisyphus_workers_online')).toEqual({ '': 0 });
    for (const priority of [5, 5, 1_000_000, -7]) await submit('q', ['cleanup'], priority);
    expect((await call('PATCH', '/queue', { disabled: true })).status).toBe(200);
    m = await scrape();
    expect(samplesOf(m, 'sisyphus_queue_depth')).toEqual({ 'priority=1000000': 1, 'priority=5': 2, 'priority=-7': 1 });
    expect(sampleValue(m, 'sisyphus_queue_disabled')).toBe(1);
    expect(sampleValue(m, 'sisyphus_jobs_submitted_total')).toBe(4);
  });

  it('with tokens: 401 without one, 403 for the worker and submitter roles, 200 for metrics and admin; the metrics role reads nothing else', async () => {
    const token = (role: string) => `${role}-token-0123456789`;
    const { call } = await start({
      tokens: (['worker', 'submitter', 'metrics', 'admin'] as const).map((role) => ({ token: token(role), role, name: role })),
    });
    expect((await call('GET', '/metrics')).status).toBe(401);
    expect((await call('GET', '/metrics', undefined, 'not-a-known-token-at-all')).status).toBe(401);
    expect((await call('GET', '/metrics', undefined, token('worker'))).status).toBe(403);
    expect((await call('GET', '/metrics', undefined, token('submitter'))).status).toBe(403);
    const scraped = await call('GET', '/metrics', undefined, token('metrics'));
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('# TYPE sisyphus_jobs gauge');
    expect((await call('GET', '/metrics', undefined, token('admin'))).status).toBe(200);
    for (const [method, path] of [['GET', '/queue'], ['GET', '/jobs'], ['GET', '/status/config'], ['GET', '/workers'], ['POST', '/queue']] as const) {
      expect((await call(method, path, method === 'POST' ? { job_title: 't', tasks: [] } : undefined, token('metrics'))).status, `${method} ${path}`).toBe(403);
    }
    expect((await call('GET', '/auth/whoami', undefined, token('metrics'))).json).toEqual({ auth: true, role: 'metrics', name: 'metrics' });
  });
});
