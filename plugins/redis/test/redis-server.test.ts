import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startServer, type StartedServer } from '@sisyphus/server';
import { deleteKeys } from '../../../test/support/redis-keys.js';
import { PrivateRedis } from '../../../test/support/redis-server.js';

// The job server on the Redis/BullMQ store: several instances on one Redis,
// and a Redis that goes away and comes back.
const REDIS = 'redis://127.0.0.1:6379/0';
const prefixes: string[] = [];
const servers: StartedServer[] = [];
const privates: PrivateRedis[] = [];

afterAll(async () => {
  const within = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
  for (const s of servers) await within(s.close());
  for (const prefix of prefixes) await deleteKeys(REDIS, prefix);
  for (const r of privates) await r.close();
});

async function server(store: string, storePrefix: string): Promise<StartedServer> {
  const s = await startServer({ port: 0, store, storePrefix, acceptUnknownModules: true, leaseSeconds: 30 });
  servers.push(s);
  return s;
}

async function call<T = any>(base: string, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

const job = (title: string) => ({ job_title: title, tasks: [{ module: 'noop', data: {} }] });

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('server on the Redis store', () => {
  it('ten concurrent submits of one job_id through two instances: one 200, nine 409 SIS_JOB_EXISTS, the job queued once', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.push(prefix);
    const [a, b] = [await server(REDIS, prefix), await server(REDIS, prefix)];
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call((i % 2 ? a : b).url, 'POST', '/queue', { ...job('dup'), job_id: 'same-id' })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    expect(answers.filter((r) => r.status === 409).every((r) => r.json.code === 'SIS_JOB_EXISTS')).toBe(true);
    const queue = (await call(b.url, 'GET', '/queue')).json;
    expect([queue.entries, queue.queue.map((j: { job_id: string }) => j.job_id)]).toEqual([1, ['same-id']]);
  });

  it('two instances on one Redis serve one queue: no job twice, history and workers agree', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.push(prefix);
    const [a, b] = [await server(REDIS, prefix), await server(REDIS, prefix)];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await call((i % 2 ? a : b).url, 'POST', '/queue', job(`j${i}`))).json.job_id);
    expect((await call(a.url, 'GET', '/queue')).json.entries).toBe(20);
    // Four workers polling both instances at once.
    const got: string[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        for (;;) {
          const base = (w % 2 ? a : b).url;
          const res = await call(base, 'GET', `/queue/poll?worker_id=w${w}`);
          if (res.status === 404) return;
          got.push(res.json.job_id);
          await call(base === a.url ? b.url : a.url, 'PATCH', `/jobs/${res.json.job_id}/completed`, { failed: false, info: { worker_id: `w${w}`, completed: true } });
        }
      }),
    );
    expect(got.sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await call(a.url, 'GET', `/jobs/${id}`)).json.state).toBe('completed');
      expect((await call(b.url, 'GET', `/jobs/${id}`)).json.state).toBe('completed');
    }
    await call(a.url, 'POST', '/workers/seen-by-a', { status: 'idle', hostname: 'h', version: 'x', online_at: 'None' });
    expect((await call(b.url, 'GET', '/workers')).json.workers.map((w: { worker_id: string }) => w.worker_id)).toContain('seen-by-a');
    const page = (await call(b.url, 'GET', '/jobs?state=completed&limit=1000')).json.jobs;
    expect(page).toHaveLength(20);
  });

  it('a long-poll on one instance gets a job submitted through the other', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.push(prefix);
    const [a, b] = [await server(REDIS, prefix), await server(REDIS, prefix)];
    const started = Date.now();
    const waiting = call(b.url, 'GET', '/queue/poll?wait=10&worker_id=w');
    await new Promise((r) => setTimeout(r, 200));
    const id = (await call(a.url, 'POST', '/queue', job('cross'))).json.job_id;
    const res = await waiting;
    expect(res.json.job_id).toBe(id);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('Redis going away: 503 with a clear message, then back by itself with nothing lost (AOF)', async () => {
    const redis = await PrivateRedis.start();
    privates.push(redis);
    const url = redis.url;
    const s = await server(url, 'sisyphus');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call(s.url, 'POST', '/queue', job(`r${i}`))).json.job_id);

    await redis.kill('SIGKILL');
    // A request caught in the instant Redis dies waits for it; the ones after get 503 at once.
    await until('the 503', async () => (await call(s.url, 'GET', '/queue', undefined, 1000).catch(() => ({ status: 0 }))).status === 503);
    const down = await call(s.url, 'GET', '/queue');
    expect(down.json.message).toMatch(/^the Redis store is (connecting|reconnecting|close|end)/);
    expect((await call(s.url, 'GET', '/status/health')).status).toBe(503);

    await redis.start();
    await until('recovery', async () => (await call(s.url, 'GET', '/status/health')).status === 200);
    const queue = (await call(s.url, 'GET', '/queue')).json;
    expect(queue.entries).toBe(5);
    for (const id of ids) {
      const res = await call(s.url, 'GET', '/queue/poll?worker_id=w');
      expect(res.json.job_id).toBe(id);
      expect((await call(s.url, 'PATCH', `/jobs/${id}/completed`, { failed: false, info: { worker_id: 'w', completed: true } })).status).toBe(200);
    }
  }, 60_000);
});
