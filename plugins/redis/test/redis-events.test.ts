import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { EventSource } from 'eventsource';
import { startServer, type StartedServer } from '@sisyphus/server';
import { deleteKeys } from '../../../test/support/redis-keys.js';
import { createRedisTransport, type RedisTransport } from '../src/redis-transport.js';

// GET /events on the Redis store: the event log lives in Redis, so every server on a
// prefix streams what any of them, or a worker linked directly to Redis, changed.
const REDIS = 'redis://127.0.0.1:6379/0';
const prefixes: string[] = [];
const servers: StartedServer[] = [];
const sources: EventSource[] = [];
const transports: RedisTransport[] = [];

afterAll(async () => {
  for (const s of sources) s.close();
  for (const t of transports) await t.close();
  for (const s of servers) await s.close();
  for (const prefix of prefixes) await deleteKeys(REDIS, prefix);
});

async function server(prefix: string): Promise<StartedServer> {
  const s = await startServer({ port: 0, store: REDIS, storePrefix: prefix, acceptUnknownModules: true });
  servers.push(s);
  return s;
}

async function call<T = any>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

type Received = { type: string; id: string; data: any };

async function listen(base: string, lastEventId?: string): Promise<Received[]> {
  const received: Received[] = [];
  const source = new EventSource(`${base}/events${lastEventId ? `?last_event_id=${encodeURIComponent(lastEventId)}` : ''}`);
  sources.push(source);
  for (const type of ['job.submitted', 'job.started', 'job.completed', 'job.failed', 'worker.heartbeat', 'reset']) {
    source.addEventListener(type, (e) => received.push({ type, id: e.lastEventId, data: JSON.parse(e.data) }));
  }
  await new Promise<void>((resolve, reject) => {
    source.addEventListener('open', () => resolve(), { once: true });
    source.addEventListener('error', (e) => reject(new Error(`event stream: ${e.code ?? ''} ${e.message ?? ''}`)), { once: true });
  });
  return received;
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const job = (title: string) => ({ job_title: title, tasks: [{ module: 'noop', data: {} }] });
const about = (received: Received[], id: string) => received.filter((e) => e.data.job?.job_id === id || e.data.worker?.status?.job_id === id).map((e) => e.type);

describe('GET /events on Redis', () => {
  it('a browser on server A sees a job that a worker of server B runs, and resumes on B after A', async () => {
    const prefix = `sis-events-${randomUUID()}`;
    prefixes.push(prefix);
    const a = await server(prefix);
    const b = await server(prefix);
    const onA = await listen(a.url);
    const { job_id: id } = (await call(b.url, 'POST', '/queue', job('run by B'))).json;
    expect((await call(b.url, 'GET', '/queue/poll?worker_id=wb')).json.job_id).toBe(id);
    await call(b.url, 'POST', '/workers/wb', { status: 'in_progress', hostname: 'host-b', job_id: id, task: 'noop', progress: 40, info: { fps: 30 } });
    await call(b.url, 'PATCH', `/jobs/${id}/completed`, { failed: false, info: { worker_id: 'wb' } });
    await until('the job completed, seen on A', () => about(onA, id).includes('job.completed'));
    expect(about(onA, id)).toEqual(['job.submitted', 'job.started', 'worker.heartbeat', 'job.completed']);
    const beat = onA.find((e) => e.type === 'worker.heartbeat')!;
    expect(beat.data.worker).toMatchObject({ worker_id: 'wb', status: { hostname: 'host-b', progress: 40, info: { fps: 30 } } });

    // The ids are the log's, not the server's: what A gave resumes on B.
    const onB = await listen(b.url, onA[0]!.id);
    await until('the replay on B', () => onB.length >= 3);
    expect(onB.slice(0, 3).map((e) => e.type)).toEqual(['job.started', 'worker.heartbeat', 'job.completed']);
  });

  it('jobs of a worker linked directly to Redis (no server in between) show on every server', async () => {
    const prefix = `sis-events-${randomUUID()}`;
    prefixes.push(prefix);
    const a = await server(prefix);
    const onA = await listen(a.url);
    const { job_id: id } = (await call(a.url, 'POST', '/queue', job('run directly'))).json;
    const transport = createRedisTransport({ connection: REDIS, prefix, pollIntervalMs: 25 });
    transports.push(transport);
    const leased = await transport.next(AbortSignal.timeout(10_000), { workerId: 'direct-1', waitMs: 5000 });
    expect(leased?.job_id).toBe(id);
    await transport.heartbeat({ status: 'in_progress', hostname: 'host-direct', version: 'x', online_at: new Date().toISOString(), job_id: id, progress: 70 } as never, { workerId: 'direct-1' });
    const now = new Date().toISOString();
    await transport.complete(leased!, {
      start_time: now, end_time: now, runtime: 0, worker: 'host-direct', worker_id: 'direct-1', version: 'x', completed: true,
      job_id: id, job_title: 'run directly', failed: false, cancelled: false, tasks: [],
    });
    await until('the direct worker\'s completion, seen on A', () => about(onA, id).includes('job.completed'));
    expect(about(onA, id)).toEqual(['job.submitted', 'job.started', 'worker.heartbeat', 'job.completed']);
  });
});
