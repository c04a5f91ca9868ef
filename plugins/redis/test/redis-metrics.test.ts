import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '@sisyphus/core';
import { createWorker } from '@sisyphus/core/worker';
import { transportDataStore } from '@sisyphus/core/transport';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { startServer, type StartedServer } from '@sisyphus/server';
import type { EventedQueueStore } from '@sisyphus/server/queue';
import { BullmqStore } from '../src/bullmq-store.js';
import { MAX_PRIORITY, MIN_PRIORITY } from '../src/priority-mapping.js';
import { createRedisTransport } from '../src/redis-transport.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';
import { parsePrometheusText, sampleValue, samplesOf, type Exposition } from '../../server/test/prometheus-text.js';

// The metrics part of the Redis store, and GET /metrics on two servers that
// share one Redis prefix: the figures are the same whichever is asked, for
// jobs run through either server and through a direct Redis worker.
const REDIS = 'redis://127.0.0.1:6379/0';
const prefixes = new Set<string>();
const freshPrefix = () => {
  const prefix = `sis-test-${randomUUID()}`;
  prefixes.add(prefix);
  return prefix;
};
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(REDIS, prefix);
});

describe('QueueMetricsStore: redis', () => {

  it('a record adds whole and fractional increments to the totals in one step; zero and non-finite ones are left out', async () => {
    const prefix = freshPrefix();
    const a = await BullmqStore.open({ connection: REDIS, prefix, stalledCheck: false });
    const b = await BullmqStore.open({ connection: REDIS, prefix, stalledCheck: false });
    try {
      const count = 'sisyphus_jobs_finished_total{"state":"completed"}';
      const sum = 'sisyphus_job_duration_seconds_sum{"modules":"noop","state":"completed"}';
      await a.metrics.record({ [count]: 2, [sum]: 0.25, skipped: 0, nan: Number.NaN });
      await Promise.all([b.metrics.record({ [count]: 1, [sum]: 1.5 }), a.metrics.record({ [sum]: 0.000001 })]);
      const totals = await b.metrics.read();
      expect(Object.keys(totals).sort()).toEqual([count, sum].sort());
      expect(totals[count]).toBe(3);
      expect(totals[sum]).toBeCloseTo(1.750001, 9);
      await a.metrics.record({});
      expect(await a.metrics.read()).toEqual(totals);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('counts priorities beyond the range BullMQ keeps apart at the nearest bound', async () => {
    const store = await BullmqStore.open({ connection: REDIS, prefix: freshPrefix(), stalledCheck: false });
    try {
      let n = 0;
      const submit = (priority: number) =>
        store.submit({ job_id: `j${++n}`, job_title: 't', priority, added: new Date().toISOString(), job: { job_title: 't', tasks: [{ module: 'cleanup', data: {} }] } });
      // The bounds themselves and beyond (BullMQ's largest priority, 2^21 - 1, is MIN_PRIORITY's).
      for (const priority of [MAX_PRIORITY + 5, MAX_PRIORITY, 3, MIN_PRIORITY, MIN_PRIORITY - 5]) await submit(priority);
      expect(await store.metrics.queuedByPriority(10)).toEqual([
        { priority: MAX_PRIORITY, count: 2 },
        { priority: 3, count: 1 },
        { priority: MIN_PRIORITY, count: 2 },
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('GET /metrics on two servers of one Redis', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  async function server(prefix: string): Promise<StartedServer> {
    const s = await startServer({ port: 0, store: REDIS, storePrefix: prefix, sweepIntervalMs: 3_600_000 });
    cleanups.push(() => s.close());
    return s;
  }

  async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: any }> {
    const res = await fetch(`${base}${path}`, {
      method,
      signal: AbortSignal.timeout(15_000),
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, json: res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined };
  }

  const scrape = async (s: StartedServer): Promise<Exposition> => {
    const res = await call(s.url, 'GET', '/metrics');
    expect(res.status, res.text).toBe(200);
    return parsePrometheusText(res.text);
  };

  /** Our metrics of a scrape, as `name{labels}` -> value, without those that depend on the moment (heartbeat ages). */
  const queueFigures = (m: Exposition) => {
    const out: Record<string, number> = {};
    for (const s of m.samples) if (s.name.startsWith('sisyphus_') && s.name !== 'sisyphus_worker_heartbeat_age_seconds') out[`${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`] = s.value;
    return out;
  };

  async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('jobs through one server, reports through the other and a direct Redis worker: both show the same figures', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await server(prefix), await server(prefix)];
    const dir = await mkdtemp(join(tmpdir(), 'sis-redis-metrics-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cleanupJob = (title: string, file: string, priority = 0) => ({ job_title: title, priority, tasks: [{ module: 'cleanup', data: { delete: [file] } }] });
    const submit = async (body: unknown) => (await call(a.url, 'POST', '/queue', body)).json.job_id as string;

    // Two jobs polled through a and reported through b: one completes, one fails.
    const ok = await submit(cleanupJob('ok', join(dir, 'none-1'), 2));
    const bad = await submit(cleanupJob('bad', join(dir, 'none-2'), 2));
    for (const [id, failed] of [[ok, false], [bad, true]] as const) {
      expect((await call(a.url, 'GET', '/queue/poll?worker_id=http-w')).json.job_id).toBe(id);
      const info = {
        worker_id: 'http-w', job_id: id, completed: !failed, failed, cancelled: false,
        ...(failed ? { code: 'SIS_VALIDATION', module: 'cleanup', task_index: 0 } : {}),
        tasks: [{ index: 0, module: 'cleanup', status: failed ? 'failed' : 'done', durations: { init: 1, validate: 2, run: failed ? 0 : 3 } }],
      };
      expect((await call(b.url, 'PATCH', `/jobs/${id}/completed`, { failed, info })).status).toBe(200);
    }
    // One given back through b.
    const back = await submit(cleanupJob('back', join(dir, 'none-3'), 2));
    expect((await call(b.url, 'GET', '/queue/poll?worker_id=http-w')).json.job_id).toBe(back);
    await call(b.url, 'PATCH', `/jobs/${back}/completed`, { failed: true, info: { worker_id: 'http-w', requeue: true } });
    await call(a.url, 'POST', `/jobs/${back}/cancel`);

    // A real job on a direct Redis worker (no HTTP server in between).
    const file = join(dir, 'old.txt');
    await writeFile(file, 'x');
    const transport = createRedisTransport({ connection: REDIS, prefix, pollIntervalMs: 50 });
    const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [dir], dataStore: transportDataStore(transport) });
    const worker = createWorker({ engine, transport, workerId: 'redis-w', heartbeatIntervalMs: 200, pollIntervalMs: 200 });
    cleanups.push(() => transport.close());
    cleanups.push(() => worker.stop({ abort: true }));
    worker.start();
    const direct = await submit(cleanupJob('direct', file));
    await until('the direct worker completed its job', async () => (await call(b.url, 'GET', `/jobs/${direct}`)).json.state === 'completed');
    // Its heartbeats are in the store, which both servers read.
    expect(samplesOf(await scrape(b), 'sisyphus_worker_heartbeat_age_seconds')).toHaveProperty(['worker_id=redis-w']);
    // The direct worker writes its metrics as it stops (what a server writes, it writes before its scrape).
    await worker.stop();
    await transport.close();
    await Promise.all([a, b].map((s) => (s.context.store as EventedQueueStore).flushMetrics()));

    const [ma, mb] = [await scrape(a), await scrape(b)];
    expect(queueFigures(mb)).toEqual(queueFigures(ma));
    expect(sampleValue(ma, 'sisyphus_jobs_submitted_total')).toBe(4);
    expect(samplesOf(ma, 'sisyphus_jobs_finished_total')).toEqual({ 'state=completed': 2, 'state=failed': 1, 'state=cancelled': 1 });
    expect(samplesOf(ma, 'sisyphus_job_failures_total')).toEqual({ 'code=SIS_VALIDATION,module=cleanup': 1 });
    expect(samplesOf(ma, 'sisyphus_requeues_total')).toEqual({ 'reason=lease_expired': 0, 'reason=released': 1 });
    expect(samplesOf(ma, 'sisyphus_job_duration_seconds_count')).toEqual({ 'modules=cleanup,state=completed': 2, 'modules=cleanup,state=failed': 1 });
    expect(samplesOf(ma, 'sisyphus_task_duration_seconds_count')).toEqual({ 'module=cleanup,status=done': 2, 'module=cleanup,status=failed': 1 });
    expect(samplesOf(ma, 'sisyphus_jobs')).toMatchObject({ 'state=completed': 2, 'state=failed': 1, 'state=cancelled': 1, 'state=queued': 0 });

    // Jobs queued through b are in a's depth at once (read from Redis, per priority).
    await call(b.url, 'POST', '/queue', cleanupJob('later', join(dir, 'none-4'), 9));
    await call(b.url, 'POST', '/queue', cleanupJob('later', join(dir, 'none-5'), -1));
    expect(samplesOf(await scrape(a), 'sisyphus_queue_depth')).toEqual({ 'priority=9': 1, 'priority=-1': 1 });
  });
});
