import { afterEach, describe, expect, it } from 'vitest';
import { buildRegistry, type LoadedPlugin } from '@sisyphus/core/config';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, type SisyphusServer, type ServerOptions } from '../src/index.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { captureLog } from './log-capture.js';

const servers: SisyphusServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);
const clock = { now: 1_700_000_000_000 };

async function server(options: ServerOptions = {}) {
  const s = await createServer(openSqliteStore(':memory:'), { sweepIntervalMs: 10, ...options }, { registry, now: () => clock.now });
  servers.push(s);
  return s;
}

const cleanupJob = (title = 'Tom & Jerry <3>', extra: Record<string, unknown> = {}) => ({
  job_title: title,
  tasks: [{ module: 'cleanup', data: { delete: ['/tmp/x'] } }],
  ...extra,
});

/** What the original worker does to a poll body before JSON.parse: html.unescape. */
const htmlUnescape = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

describe('original routes and shapes', () => {
  it('GET /queue always carries attributes.disabled; POST /queue answers {job_id}', async () => {
    const { app } = await server();
    expect((await app.inject('/queue')).json()).toEqual({ queue: [], entries: 0, attributes: { disabled: false } });
    const post = await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob() });
    expect(post.statusCode).toBe(200);
    const { job_id } = post.json();
    expect(job_id).toMatch(/^[0-9a-f-]{36}$/);
    const queue = (await app.inject('/queue')).json();
    expect(queue.entries).toBe(1);
    expect(queue.queue[0]).toMatchObject({ job_id, job_title: 'Tom & Jerry <3>', tasks: [{ module: 'cleanup' }] });
    expect(typeof queue.queue[0].added).toBe('string');
  });

  it('accepts job_name as an alias', async () => {
    const { app } = await server();
    const post = await app.inject({ method: 'POST', url: '/queue', payload: { job_name: 'N', tasks: [{ module: 'cleanup', data: { delete: ['a'] } }] } });
    expect(post.statusCode).toBe(200);
    expect((await app.inject('/queue')).json().queue[0].job_title).toBe('N');
  });

  it('GET /queue/poll answers 404 when empty, else the next job, FIFO', async () => {
    const { app } = await server();
    expect((await app.inject('/queue/poll')).statusCode).toBe(404);
    const a = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('a') })).json().job_id;
    const b = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('b') })).json().job_id;
    expect((await app.inject('/queue/poll')).json().job_id).toBe(a);
    expect((await app.inject('/queue/poll')).json().job_id).toBe(b);
    expect((await app.inject('/queue/poll')).statusCode).toBe(404);
  });

  it('escapes & < > so a title survives an HTML-unescaping client', async () => {
    const { app } = await server();
    const title = 'Tom &amp; Jerry & <Friends> "quoted"';
    await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob(title) });
    const raw = (await app.inject('/queue/poll')).body;
    expect(raw).not.toMatch(/[&<>]/);
    expect(raw).toContain('\\u0026');
    expect(JSON.parse(htmlUnescape(raw)).job_title).toBe(title);
  });

  it('GET /workers/{id} answers 200 with worker_id and attributes created on demand; GET /workers gives every worker attributes', async () => {
    const { app } = await server();
    expect((await app.inject('/workers/never-seen')).json()).toEqual({ worker_id: 'never-seen', attributes: { disabled: false } });
    const hb = { status: 'startup', hostname: 'zeta', version: '1.5.9', online_at: 'None' };
    expect((await app.inject({ method: 'POST', url: '/workers/w1', payload: hb })).statusCode).toBe(200);
    await app.inject({ method: 'POST', url: '/workers/w2', payload: { ...hb, hostname: 'alpha', status: 'idle', online_at: '2026-11-28 02:55:14.879399+00:00' } });
    const list = (await app.inject('/workers')).json();
    expect(list.count).toBe(2);
    expect(list.workers.map((w: { hostname: string }) => w.hostname)).toEqual(['alpha', 'zeta']);
    for (const w of list.workers) expect(w.attributes).toEqual({ disabled: false });
    expect((await app.inject('/workers/w2')).json()).toMatchObject({ worker_id: 'w2', status: 'idle', online_at: '2026-11-28 02:55:14.879399+00:00' });
  });

  it('PATCH /queue and PATCH /workers/{id} answer the resulting attributes and disable polling', async () => {
    const { app } = await server();
    await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob() });
    expect((await app.inject({ method: 'PATCH', url: '/queue', payload: { disabled: true } })).json()).toEqual({ disabled: true });
    expect((await app.inject('/queue')).json().attributes).toEqual({ disabled: true });
    expect((await app.inject('/queue/poll')).statusCode).toBe(404);
    expect((await app.inject({ method: 'PATCH', url: '/queue', payload: { disabled: false } })).json()).toEqual({ disabled: false });
    expect((await app.inject({ method: 'PATCH', url: '/workers/w1', payload: { disabled: true } })).json()).toEqual({ disabled: true });
    expect((await app.inject('/queue/poll?worker_id=w1')).statusCode).toBe(404);
    expect((await app.inject('/queue/poll?worker_id=w2')).statusCode).toBe(200);
    expect((await app.inject({ method: 'PATCH', url: '/workers/w1', payload: { disabled: 'yes' } })).statusCode).toBe(400);
  });

  it('answers CORS preflights for PATCH and sends CORS headers (to the configured dashboard origin)', async () => {
    const { app } = await server({ cors: { origins: ['http://dash.local'] } });
    const pre = await app.inject({ method: 'OPTIONS', url: '/queue', headers: { origin: 'http://dash.local', 'access-control-request-method': 'PATCH' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toContain('PATCH');
    const get = await app.inject({ url: '/queue', headers: { origin: 'http://dash.local' } });
    expect(get.headers['access-control-allow-origin']).toBe('http://dash.local');
  });

  it('/status/config has version, a human uptime and masked secrets; /status/health is online', async () => {
    const { app } = await server({ backend: { type: 'redis', url: 'redis://user:hunter2@db:6379/0', password: 'hunter2' } });
    const config = (await app.inject('/status/config')).json();
    expect(config.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(config.uptime).toMatch(/^\d+ (second|minute|hour|day)s?$/);
    expect(JSON.stringify(config)).not.toContain('hunter2');
    expect(config.backend.url).toBe('redis://****@db:6379/0');
    expect(config.features).toMatchObject({ long_poll: true, leases: true });
    expect((await app.inject('/status/health')).json()).toEqual({ status: 'online' });
  });

  it('serves OpenAPI at /doc', async () => {
    const { app } = await server();
    expect((await app.inject('/doc')).statusCode).toBeLessThan(400);
    const spec = (await app.inject('/doc/json')).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/queue', '/queue/poll', '/jobs/{id}/completed', '/workers/{id}', '/data/{module}/{name}']));
  });

  it('module data: POST, GET, DELETE, 404', async () => {
    const { app } = await server();
    const set = { options: { codec: 'libx265', crf: 19, 'x265-params': { 'aq-mode': 3 } } };
    expect((await app.inject({ method: 'POST', url: '/data/ffmpeg/x265', payload: set })).json()).toEqual({ ...set, name: 'x265' });
    expect((await app.inject('/data/ffmpeg/x265')).json()).toEqual({ ...set, name: 'x265' });
    expect((await app.inject('/data/ffmpeg')).json()).toEqual({ module: 'ffmpeg', names: ['x265'] });
    expect((await app.inject({ method: 'DELETE', url: '/data/ffmpeg/x265' })).statusCode).toBe(204);
    expect((await app.inject('/data/ffmpeg/x265')).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/data/ffmpeg/bad', payload: { no: 'options' } })).statusCode).toBe(400);
  });

  it('DELETE /jobs/{id} removes a queued job, 404 when unknown; DELETE /queue clears (204)', async () => {
    const { app } = await server();
    const id = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob() })).json().job_id;
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${id}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${id}` })).statusCode).toBe(404);
    await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob() });
    expect((await app.inject({ method: 'DELETE', url: '/queue' })).statusCode).toBe(204);
    expect((await app.inject('/queue')).json().entries).toBe(0);
  });
});

describe('completion and history', () => {
  it('PATCH /jobs/{id}/completed moves the job to history with its result; GET /jobs pages through states', async () => {
    const { app } = await server();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob(`j${i}`) })).json().job_id);
    for (let i = 0; i < 3; i++) {
      const job = (await app.inject('/queue/poll?worker_id=w1')).json();
      const info = { start_time: 'a', end_time: 'b', runtime: 1, worker: 'h', worker_id: 'w1', version: '0.1.0', ...(i === 2 ? { message: 'bad data' } : { completed: true }) };
      const done = await app.inject({ method: 'PATCH', url: `/jobs/${job.job_id}/completed`, payload: { failed: i === 2, info } });
      expect(done.statusCode).toBe(200);
    }
    expect((await app.inject(`/jobs/${ids[0]}`)).json()).toMatchObject({ job_id: ids[0], state: 'completed', result: { completed: true, worker_id: 'w1' } });
    expect((await app.inject(`/jobs/${ids[2]}`)).json()).toMatchObject({ state: 'failed', result: { message: 'bad data' } });
    expect((await app.inject('/jobs?state=completed')).json().jobs).toHaveLength(2);
    expect((await app.inject('/jobs?state=queued')).json().jobs.map((j: { job_title: string }) => j.job_title)).toEqual(['j3', 'j4']);
    const seen: string[] = [];
    let url = '/jobs?limit=2';
    for (;;) {
      const page = (await app.inject(url)).json();
      seen.push(...page.jobs.map((j: { job_id: string }) => j.job_id));
      if (!page.next) break;
      url = `/jobs?limit=2&cursor=${encodeURIComponent(page.next)}`;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await app.inject('/jobs?state=bogus')).statusCode).toBe(400);
    expect((await app.inject('/jobs?cursor=garbage')).statusCode).toBe(400);
    expect((await app.inject('/jobs/nope')).statusCode).toBe(404);
  });

  it('PATCH /jobs/{id}/completed?next=1 hands the reporting worker its next job, as a poll would', async () => {
    const { app } = await server();
    const submit = async (title: string) => (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob(title) })).json().job_id as string;
    const [a, b, c] = [await submit('a & <b>'), await submit('b'), await submit('c')];
    const info = (worker_id: string) => ({ start_time: 'a', end_time: 'b', runtime: 1, worker: 'h', worker_id, version: '0.1.0', completed: true });
    expect((await app.inject('/queue/poll?worker_id=w1')).json().job_id).toBe(a);
    // The original client's report (no ?next): the original answer, nothing leased.
    const plain = await app.inject({ method: 'PATCH', url: `/jobs/${a}/completed`, payload: { failed: false, info: info('w1') } });
    expect(plain.json()).toEqual({ job_id: a, state: 'completed' });
    expect((await app.inject(`/jobs/${b}`)).json().state).toBe('queued');
    expect((await app.inject('/queue/poll?worker_id=w1')).json().job_id).toBe(b);
    const withNext = await app.inject({ method: 'PATCH', url: `/jobs/${b}/completed?next=1`, payload: { failed: false, info: info('w1') } });
    expect(withNext.statusCode).toBe(200);
    expect(withNext.json()).toMatchObject({ job_id: b, state: 'completed', next: { job_id: c, job_title: 'c', tasks: [{ module: 'cleanup' }] } });
    expect((await app.inject(`/jobs/${c}`)).json()).toMatchObject({ state: 'running', worker_id: 'w1', attempts: 1 });
    // A refused report (lease lost) leases nothing; the last job's report finds the queue empty.
    const d = await submit('d');
    expect((await app.inject({ method: 'PATCH', url: `/jobs/${c}/completed?next=1`, payload: { failed: false, info: info('w2') } })).statusCode).toBe(409);
    expect((await app.inject(`/jobs/${d}`)).json().state).toBe('queued');
    // While this worker is disabled its report goes through and brings nothing.
    await app.inject({ method: 'PATCH', url: '/workers/w1', payload: { disabled: true } });
    const blocked = await app.inject({ method: 'PATCH', url: `/jobs/${c}/completed?next=1`, payload: { failed: false, info: info('w1') } });
    expect(blocked.json()).toEqual({ job_id: c, state: 'completed' });
    expect((await app.inject(`/jobs/${d}`)).json().state).toBe('queued');
    const poll = await app.inject('/queue/poll?worker_id=w1');
    expect([poll.statusCode, poll.json().message]).toEqual([404, 'this worker is disabled']);
    await app.inject({ method: 'PATCH', url: '/queue', payload: { disabled: true } });
    expect((await app.inject('/queue/poll?worker_id=w2')).json().message).toBe('the queue is disabled');
  });

  it('priority: higher first, FIFO within a priority', async () => {
    const { app } = await server();
    for (const [t, p] of [['low', -1], ['n1', undefined], ['high', 5], ['n2', 0]] as const) {
      await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob(t, p === undefined ? {} : { priority: p }) });
    }
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await app.inject('/queue/poll')).json().job_title);
    expect(order).toEqual(['high', 'n1', 'n2', 'low']);
  });
});

describe('leases', () => {
  it('an expired lease requeues the job at the head; the late worker is refused with 409', async () => {
    const { app } = await server({ leaseSeconds: 30, maxAttempts: 3 });
    const first = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('first') })).json().job_id;
    await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('second') });
    expect((await app.inject('/queue/poll?worker_id=A')).json().job_id).toBe(first);
    // A heartbeat renews the lease.
    clock.now += 20_000;
    await app.inject({ method: 'POST', url: '/workers/A', payload: { status: 'in_progress', hostname: 'a', version: 'x', online_at: 'None', job_id: first } });
    clock.now += 20_000;
    await new Promise((r) => setTimeout(r, 50));
    expect((await app.inject(`/jobs/${first}`)).json().state).toBe('running');
    // Then A goes silent.
    clock.now += 31_000;
    await expect.poll(async () => (await app.inject(`/jobs/${first}`)).json().state).toBe('queued');
    const again = (await app.inject('/queue/poll?worker_id=B')).json();
    expect(again.job_id).toBe(first);
    expect((await app.inject(`/jobs/${first}`)).json().attempts).toBe(2);
    const late = await app.inject({ method: 'PATCH', url: `/jobs/${first}/completed`, payload: { failed: false, info: { worker_id: 'A', completed: true } } });
    expect(late.statusCode).toBe(409);
    // A learns in its next heartbeat that the job is no longer its own.
    const hb = await app.inject({ method: 'POST', url: '/workers/A', payload: { status: 'in_progress', hostname: 'a', version: 'x', online_at: 'None', job_id: first } });
    expect(hb.json().cancel).toEqual([first]);
    const ok = await app.inject({ method: 'PATCH', url: `/jobs/${first}/completed`, payload: { failed: false, info: { worker_id: 'B', completed: true } } });
    expect(ok.statusCode).toBe(200);
    expect((await app.inject(`/jobs/${first}`)).json()).toMatchObject({ state: 'completed', worker_id: 'B' });
  });

  it('past max attempts the job fails with the reason, and the server says so in its log', async () => {
    const { logger, lines } = captureLog();
    const { app } = await server({ leaseSeconds: 1, maxAttempts: 2, logger });
    const id = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob() })).json().job_id;
    for (const w of ['A', 'B']) {
      expect((await app.inject(`/queue/poll?worker_id=${w}`)).json().job_id).toBe(id);
      clock.now += 5_000;
      await expect.poll(async () => (await app.inject(`/jobs/${id}`)).json().state).not.toBe('running');
    }
    const job = (await app.inject(`/jobs/${id}`)).json();
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/2/);
    expect(lines.filter((l) => l.level !== 'info').map((l) => `${l.level} ${l.component} ${l.msg}`)).toEqual([
      `warn server lease expired (no heartbeat from its worker): requeued ${id}`,
      `warn server lease expired too often or while cancelling: ended ${id}`,
    ]);
  });
});

describe('a worker stopped mid-job', () => {
  it('gives the job back with requeue: true and it goes to the head of the queue', async () => {
    const { app } = await server();
    const first = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('first') })).json().job_id;
    await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('second') });
    await app.inject('/queue/poll?worker_id=W');
    const res = await app.inject({ method: 'PATCH', url: `/jobs/${first}/completed`, payload: { failed: true, info: { worker_id: 'W', cancelled: true, requeue: true } } });
    expect(res.json()).toEqual({ job_id: first, state: 'queued' });
    expect((await app.inject('/queue')).json().queue.map((j: { job_title: string }) => j.job_title)).toEqual(['first', 'second']);
  });
});

describe('cancel', () => {
  it('a queued job leaves the queue as cancelled; a running one is aborted through the heartbeat reply', async () => {
    const { app } = await server();
    const queued = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('q') })).json().job_id;
    expect((await app.inject({ method: 'POST', url: `/jobs/${queued}/cancel` })).json()).toEqual({ job_id: queued, status: 'cancelled' });
    expect((await app.inject('/queue')).json().entries).toBe(0);
    expect((await app.inject(`/jobs/${queued}`)).json().state).toBe('cancelled');

    const running = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('r') })).json().job_id;
    await app.inject('/queue/poll?worker_id=W');
    expect((await app.inject({ method: 'POST', url: `/jobs/${running}/cancel` })).json()).toEqual({ job_id: running, status: 'requested' });
    const hb = await app.inject({ method: 'POST', url: '/workers/W', payload: { status: 'in_progress', hostname: 'w', version: 'x', online_at: 'None', job_id: running } });
    expect(hb.json().cancel).toEqual([running]);
    await app.inject({ method: 'PATCH', url: `/jobs/${running}/completed`, payload: { failed: true, info: { worker_id: 'W', message: 'job cancelled', cancelled: true } } });
    expect((await app.inject(`/jobs/${running}`)).json().state).toBe('cancelled');
    expect((await app.inject({ method: 'POST', url: `/jobs/${running}/cancel` })).statusCode).toBe(409);
    expect((await app.inject({ method: 'POST', url: '/jobs/nope/cancel' })).statusCode).toBe(404);
  });
});

describe('long-poll', () => {
  it('an idle long-polling worker gets a new job as soon as it is submitted', async () => {
    const { app } = await server();
    const started = Date.now();
    const poll = app.inject('/queue/poll?wait=10&worker_id=W');
    await new Promise((r) => setTimeout(r, 100));
    await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob('fresh') });
    const res = await poll;
    expect(res.statusCode).toBe(200);
    expect(res.json().job_title).toBe('fresh');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers 404 when the wait runs out', async () => {
    const { app } = await server();
    const res = await app.inject('/queue/poll?wait=0.2');
    expect(res.statusCode).toBe(404);
  });
});

describe('bad submissions get 4xx and change nothing', () => {
  it.each<[string, { payload: string | object; headers?: Record<string, string> }, number, string | RegExp]>([
    ['malformed JSON', { payload: '{"job_title": "x", tasks: [', headers: { 'content-type': 'application/json' } }, 400, /^malformed JSON/],
    ['no tasks', { payload: { job_title: 'x', tasks: [] } }, 400, 'invalid job: tasks must have at least 1 item'],
    ['no title', { payload: { tasks: [{ module: 'cleanup', data: { delete: ['a'] } }] } }, 400, 'invalid job: job_title is required (job_name is accepted too)'],
    ['unknown module', { payload: { job_title: 'x', tasks: [{ module: 'ffmpegg', data: {} }] } }, 400, 'invalid job: tasks[0].module "ffmpegg" is not an available module (available: cleanup)'],
    ['schema error', { payload: { job_title: 'x', tasks: [{ module: 'cleanup', data: { copy: [{ source: 'a' }] } }] } }, 400, 'invalid job: tasks[0].data.copy[0].destination is required'],
    ['unfilled placeholder', { payload: cleanupJob('{{ title }}') }, 400, 'invalid job: unfilled placeholder {{ title }} at job_title'],
    ['oversized body', { payload: { job_title: 'x'.repeat(2_000_000), tasks: [] } }, 413, /larger than/],
    ['not JSON', { payload: 'job', headers: { 'content-type': 'text/plain' } }, 400, 'invalid request: body must be an object'],
  ])('%s', async (_name, request, status, message) => {
    const { app } = await server();
    const res = await app.inject({ method: 'POST', url: '/queue', ...request });
    expect(res.statusCode).toBe(status);
    if (typeof message === 'string') expect(res.json().message).toBe(message);
    else expect(res.json().message).toMatch(message);
    expect((await app.inject('/queue')).json().entries).toBe(0);
    expect((await app.inject('/jobs')).json().jobs).toEqual([]);
  });

  it('every problem comes with its path', async () => {
    const { app } = await server();
    const res = await app.inject({ method: 'POST', url: '/queue', payload: { job_title: 'x', tasks: [{ module: 'cleanup', data: { copy: [{ source: 1 }], bogus: 1 } }] } });
    expect(res.json().problems).toEqual([
      { path: 'tasks[0].data.bogus', message: 'is not an allowed field' },
      { path: 'tasks[0].data.copy[0].destination', message: 'is required' },
      { path: 'tasks[0].data.copy[0].source', message: 'must be a string' },
    ]);
  });
});

describe('auth', () => {
  const tokens = [
    { token: 'w-token-0123456789', role: 'worker' as const },
    { token: 's-token-0123456789', role: 'submitter' as const },
    { token: 'a-token-0123456789', role: 'admin' as const },
  ];
  const as = (token?: string) => (token ? { authorization: `Bearer ${token}` } : {});

  it('401 without a known token, 403 for the wrong role, roles as documented', async () => {
    const { app } = await server({ tokens, cors: { origins: ['http://d'] } });
    expect((await app.inject({ url: '/queue' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/queue', headers: as('nope') })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob(), headers: as('w-token-0123456789') })).statusCode).toBe(403);
    const id = (await app.inject({ method: 'POST', url: '/queue', payload: cleanupJob(), headers: as('s-token-0123456789') })).json().job_id;
    expect((await app.inject({ url: '/queue/poll', headers: as('s-token-0123456789') })).statusCode).toBe(403);
    expect((await app.inject({ url: '/queue/poll', headers: as('w-token-0123456789') })).json().job_id).toBe(id);
    expect((await app.inject({ method: 'DELETE', url: '/queue', headers: as('s-token-0123456789') })).statusCode).toBe(403);
    expect((await app.inject({ method: 'PATCH', url: '/queue', payload: { disabled: true }, headers: as('w-token-0123456789') })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/data/ffmpeg/x', payload: { options: {} }, headers: as('s-token-0123456789') })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/data/ffmpeg/x', payload: { options: {} }, headers: as('a-token-0123456789') })).statusCode).toBe(200);
    expect((await app.inject({ url: '/data/ffmpeg/x', headers: as('w-token-0123456789') })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/queue', headers: as('a-token-0123456789') })).statusCode).toBe(204);
    expect((await app.inject({ url: '/status/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/no/such/route', headers: as('w-token-0123456789') })).statusCode).toBe(404);
    expect((await app.inject({ url: '/doc/json' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/doc/json', headers: as('s-token-0123456789') })).statusCode).toBe(403);
    expect((await app.inject({ url: '/doc/json', headers: as('a-token-0123456789') })).statusCode).toBe(200);
    const pre = await app.inject({ method: 'OPTIONS', url: '/queue', headers: { origin: 'http://d', 'access-control-request-method': 'PATCH' } });
    expect(pre.statusCode).toBe(204);
    expect(JSON.stringify((await app.inject({ url: '/status/config', headers: as('a-token-0123456789') })).json())).not.toContain('a-token-0123456789');
  });
});
