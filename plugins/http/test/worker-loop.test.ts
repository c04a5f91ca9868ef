import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '@sisyphus/core';
import { createWorker, loadOrCreateWorkerId, type SisyphusWorker, type WorkerLogEvent, type WorkerOptions } from '@sisyphus/core/worker';
import { transportDataStore } from '@sisyphus/core/transport';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createHttpTransport } from '@sisyphus/transport-http';
// @ts-expect-error: a plain .mjs fixture without types
import sleeperPlugin from './fixtures/sleeper-plugin.mjs';
import { FakeOriginalServer } from './fake-original-server.js';
import { alive, onCleanup, tempDir, waitFor } from './helpers.js';

interface Setup {
  server: FakeOriginalServer;
  worker: SisyphusWorker;
  dir: string;
  logs: WorkerLogEvent[];
}

/** A fake original server, an HTTP transport, a real engine (cleanup + sleeper) and a worker with short intervals. */
async function setup(overrides: Partial<WorkerOptions> = {}): Promise<Setup> {
  const server = await new FakeOriginalServer().listen();
  const dir = await tempDir();
  const transport = createHttpTransport({ apiUrl: server.url, requestTimeoutMs: 5000 });
  const engine = createEngine({ plugins: [cleanupPlugin, sleeperPlugin], allowedRoots: [dir], dataStore: transportDataStore(transport) });
  const worker = createWorker({
    engine, transport, workerId: 'wid', hostname: 'test-host',
    heartbeatIntervalMs: 100, pollIntervalMs: 40, networkRetryIntervalMs: 40, networkRetryMaxMs: 300,
    ...overrides,
  });
  const logs: WorkerLogEvent[] = [];
  worker.on('log', (l) => logs.push(l));
  onCleanup(async () => {
    await worker.stop({ abort: true });
    await transport.close();
    await server.close();
  });
  return { server, worker, dir, logs };
}

const reported = (worker: SisyphusWorker) => {
  const list: Array<{ jobId: string; outcome: string; attempts: number; reason?: string }> = [];
  worker.on('job:reported', (e) => list.push(e));
  return list;
};

async function pidOf(file: string): Promise<number> {
  await waitFor(`pid file ${file}`, () => existsSync(file));
  let pid = 0;
  await waitFor('pid written', async () => (pid = Number(await readFile(file, 'utf8'))) > 0);
  return pid;
}

describe('worker loop over HTTP (original server)', () => {
  it('polls a job, runs it with real modules and completes it with the original info shape', async () => {
    const { server, worker, dir } = await setup();
    const done = reported(worker);
    await writeFile(join(dir, 'a.txt'), 'payload');
    const id = server.submit({ job_title: 'Tom & Jerry', tasks: [{ module: 'cleanup', data: { copy: [{ source: join(dir, 'a.txt'), destination: join(dir, 'b.txt') }] } }] });
    worker.start();
    await waitFor('job reported', () => done.length === 1);
    expect(done[0]).toMatchObject({ jobId: id, outcome: 'delivered', attempts: 1 });
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('payload');
    const [completion] = server.completions();
    expect(completion!.path).toBe(`/jobs/${id}/completed`);
    expect(completion!.body.failed).toBe(false);
    expect(completion!.body.info).toMatchObject({
      completed: true, worker: 'test-host', worker_id: 'wid', version: expect.any(String), runtime: expect.any(Number),
      start_time: expect.any(String), end_time: expect.any(String), job_id: id, job_title: 'Tom & Jerry',
    });
    // Heartbeats: the first says startup; all carry the original shape.
    const beats = server.heartbeats('wid').map((r) => r.body);
    expect(beats[0]).toEqual({ status: 'startup', hostname: 'test-host', version: expect.any(String), online_at: expect.any(String) });
    // A job this short ends before its in_progress beat is due (status changes are sent after 250 ms);
    // 'heartbeats carry the running task' covers a running job's beats.
    for (const b of beats) expect(['startup', 'idle', 'in_progress']).toContain(b.status);
    await waitFor('idle heartbeat', () => server.heartbeats('wid').at(-1)?.body.status === 'idle');
    // The original conversation: queue attributes, worker attributes, then poll.
    const order = server.requests.filter((r) => r.method === 'GET' && r.path !== '/status/config').slice(0, 3).map((r) => r.path);
    expect(order).toEqual(['/queue', '/workers/wid', '/queue/poll']);
  });

  it('reports a job that fails validation as failed (message, no completed/module) and carries on', async () => {
    const { server, worker } = await setup();
    const done = reported(worker);
    server.data.set('ffmpeg/good', { name: 'good', options: {} });
    const bad = server.submit({ job_title: 'bad', tasks: [{ module: 'sleeper', data: { ms: 1, optionSet: 'missing' } }] });
    const invalid = server.submit({ job_title: 'invalid', tasks: [{ module: 'sleeper', data: { ms: 'x' } }] });
    const good = server.submit({ job_title: 'good', tasks: [{ module: 'sleeper', data: { ms: 1, optionSet: 'good' } }] });
    worker.start();
    await waitFor('three reports', () => done.length === 3);
    const byId = new Map(server.completions().map((c) => [c.path.split('/')[2], c.body]));
    for (const id of [bad, invalid]) {
      const body = byId.get(id)!;
      expect(body.failed).toBe(true);
      expect(body.info.message).toEqual(expect.any(String));
      expect(body.info).not.toHaveProperty('completed');
      expect(body.info).not.toHaveProperty('module');
      expect(body.info.phase).toBe('validate');
    }
    expect(byId.get(bad)!.info.message).toContain('option set "missing" does not exist');
    expect(byId.get(good)).toMatchObject({ failed: false, info: { completed: true } });
  });

  it('does not poll while the queue or the worker is disabled', async () => {
    const { server, worker } = await setup();
    const skips: string[] = [];
    worker.on('poll:skip', (e) => skips.push(e.reason));
    server.queueDisabled = true;
    worker.start();
    await waitFor('queue checked 3 times', () => server.seen('GET', '/queue').filter((r) => r.path === '/queue').length >= 3);
    expect(server.seen('GET', '/queue/poll')).toHaveLength(0);
    expect(server.seen('GET', '/workers/')).toHaveLength(0);
    server.queueDisabled = false;
    server.workerAttributes.set('wid', { disabled: true });
    const seenWorker = server.seen('GET', '/workers/').length;
    await waitFor('worker checked 3 times', () => server.seen('GET', '/workers/').length >= seenWorker + 3);
    expect(server.seen('GET', '/queue/poll')).toHaveLength(0);
    expect(skips).toContain('queue-disabled');
    expect(skips).toContain('worker-disabled');
    server.workerAttributes.set('wid', { disabled: false });
    await waitFor('polls again', () => server.seen('GET', '/queue/poll').length > 0);
  });

  it('keeps a result through a network outage and delivers it exactly once, logging the outage once', async () => {
    const { server, worker, logs } = await setup();
    const done = reported(worker);
    worker.once('job:end', () => {
      server.down = true;
    });
    const id = server.submit({ job_title: 'outage', tasks: [{ module: 'sleeper', data: { ms: 1 } }] });
    worker.start();
    await waitFor('3 dropped completions', () => server.requests.filter((r) => r.dropped && r.method === 'PATCH').length >= 3);
    expect(done).toHaveLength(0);
    server.submit({ job_title: 'next', tasks: [{ module: 'sleeper', data: { ms: 1 } }] });
    server.down = false;
    await waitFor('delivered', () => done.length >= 1);
    expect(done[0]).toMatchObject({ jobId: id, outcome: 'delivered' });
    expect(done[0]!.attempts).toBeGreaterThanOrEqual(4);
    expect(server.completions().filter((c) => c.path === `/jobs/${id}/completed`)).toHaveLength(1);
    // No new job was polled while the result was pending.
    const firstDrop = server.requests.find((r) => r.dropped && r.method === 'PATCH')!.at;
    const delivered = server.completions()[0]!.at;
    expect(server.requests.filter((r) => r.path === '/queue/poll' && r.at >= firstDrop && r.at < delivered)).toHaveLength(0);
    expect(logs.filter((l) => l.level === 'warn' && l.message.includes('unreachable'))).toHaveLength(1);
    expect(logs.filter((l) => l.message.includes('reachable again'))).toHaveLength(1);
    await waitFor('next job reported', () => done.length === 2);
  });

  it('drops a result the server refuses with 409 (lease lost)', async () => {
    const { server, worker, logs } = await setup();
    const done = reported(worker);
    server.completeStatus = 409;
    const id = server.submit({ job_title: 'late', tasks: [{ module: 'sleeper', data: { ms: 1 } }] });
    worker.start();
    await waitFor('refused', () => done.length === 1);
    expect(done[0]).toMatchObject({ jobId: id, outcome: 'refused', attempts: 1 });
    await waitFor('polling again', () => server.seen('GET', '/queue/poll').length >= 3);
    expect(server.completions()).toHaveLength(1);
    expect(logs.some((l) => l.level === 'warn' && l.message.includes('409'))).toBe(true);
  });

  it('heartbeats carry the running task, progress and info', async () => {
    const { server, worker, dir } = await setup();
    const pidFile = join(dir, 'pid');
    const id = server.submit({ job_title: 'progress', tasks: [{ module: 'sleeper', data: { ms: 30000, progress: 42, pidFile } }] });
    worker.start();
    await waitFor('progress heartbeat', () => server.heartbeats('wid').some((r) => r.body.progress === 42));
    const beat = server.heartbeats('wid').find((r) => r.body.progress === 42)!.body;
    expect(beat).toEqual({
      status: 'in_progress', hostname: 'test-host', version: expect.any(String), online_at: expect.any(String),
      job_id: id, job_title: 'progress', task: 'sleeper', progress: 42, info: { current_frame: 42, total_frames: 100, fps: 24 },
    });
    const pid = await pidOf(pidFile);
    await worker.stop({ abort: true });
    await waitFor('process gone', () => !alive(pid), 5000);
  });

  it('a cancel in a heartbeat reply aborts the running job; its process is killed and it is reported cancelled', async () => {
    const { server, worker, dir } = await setup();
    const done = reported(worker);
    const pidFile = join(dir, 'pid');
    const id = server.submit({ job_title: 'to cancel', tasks: [{ module: 'sleeper', data: { ms: 30000, pidFile } }] });
    worker.start();
    const pid = await pidOf(pidFile);
    expect(alive(pid)).toBe(true);
    server.heartbeatExtra = () => ({ cancel: [id] });
    await waitFor('reported', () => done.length === 1);
    server.heartbeatExtra = undefined;
    await waitFor('process gone', () => !alive(pid), 5000);
    const body = server.completions()[0]!.body;
    expect(body.failed).toBe(true);
    expect(body.info).toMatchObject({ cancelled: true, code: 'SIS_CANCELLED', completed: false, module: 'sleeper' });
    expect(body.info.requeue).toBeUndefined();
    // And it carries on.
    server.submit({ job_title: 'after', tasks: [{ module: 'sleeper', data: { ms: 1 } }] });
    await waitFor('next job', () => done.length === 2);
  });

  it('a graceful stop stops polling and waits for the running job', async () => {
    const { server, worker } = await setup();
    const done = reported(worker);
    const id = server.submit({ job_title: 'finish me', tasks: [{ module: 'sleeper', data: { ms: 800 } }] });
    worker.once('job:start', () => void worker.stop());
    worker.start();
    await worker.finished();
    expect(done).toEqual([expect.objectContaining({ jobId: id, outcome: 'delivered' })]);
    expect(server.completions()[0]!.body).toMatchObject({ failed: false, info: { completed: true } });
    const polls = server.seen('GET', '/queue/poll').length;
    server.submit({ job_title: 'not taken', tasks: [{ module: 'sleeper', data: { ms: 1 } }] });
    await new Promise((r) => setTimeout(r, 200));
    expect(server.seen('GET', '/queue/poll').length).toBe(polls);
    expect(server.queue).toHaveLength(1);
  });

  it('an aborting stop kills the running job and reports it for requeueing', async () => {
    const { server, worker, dir } = await setup();
    const done = reported(worker);
    const pidFile = join(dir, 'pid');
    const id = server.submit({ job_title: 'abort me', tasks: [{ module: 'sleeper', data: { ms: 30000, pidFile } }] });
    worker.start();
    const pid = await pidOf(pidFile);
    const graceful = worker.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(true); // a graceful stop lets it run
    await worker.stop({ abort: true });
    await graceful;
    await waitFor('process gone', () => !alive(pid), 5000);
    expect(done).toEqual([expect.objectContaining({ jobId: id, outcome: 'delivered' })]);
    expect(server.completions()[0]!.body).toMatchObject({ failed: true, info: { cancelled: true, requeue: true, worker_id: 'wid' } });
  });

  it('with concurrency 2, each slot is a worker of its own (ID-1, ID-2) and they run jobs side by side', async () => {
    const { server, worker } = await setup({ concurrency: 2 });
    const starts: string[] = [];
    let running = 0;
    let most = 0;
    worker.on('job:start', (e) => {
      starts.push(e.workerId);
      most = Math.max(most, ++running);
    });
    worker.on('job:end', () => running--);
    const done = reported(worker);
    server.submit({ job_title: 'one', tasks: [{ module: 'sleeper', data: { ms: 1500 } }] });
    server.submit({ job_title: 'two', tasks: [{ module: 'sleeper', data: { ms: 1500 } }] });
    worker.start();
    await waitFor('both reported', () => done.length === 2);
    expect(worker.workerIds).toEqual(['wid-1', 'wid-2']);
    expect(starts.sort()).toEqual(['wid-1', 'wid-2']);
    expect(most).toBe(2);
    expect(server.heartbeats('wid-1').length).toBeGreaterThan(0);
    expect(server.heartbeats('wid-2').length).toBeGreaterThan(0);
    expect(server.heartbeats('wid')).toHaveLength(0);
    expect(server.seen('GET', '/workers/wid-1').length).toBeGreaterThan(0);
    expect(server.completions().map((c) => c.body.info.worker_id).sort()).toEqual(['wid-1', 'wid-2']);
  });

  it('keeps the worker id across starts', async () => {
    const dir = join(await tempDir(), 'state', 'deep');
    const first = await loadOrCreateWorkerId(dir);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loadOrCreateWorkerId(dir)).toBe(first);
    expect((await readFile(join(dir, 'worker-id'), 'utf8')).trim()).toBe(first);
    const other = await tempDir();
    await mkdir(other, { recursive: true });
    expect(await loadOrCreateWorkerId(other)).not.toBe(first);
  });
});
