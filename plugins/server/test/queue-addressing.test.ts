import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '@sisyphus/core';
import { QUEUE_ID_MAX_LENGTH } from '@sisyphus/core/transport';
import { buildRegistry, type LoadedPlugin } from '@sisyphus/core/config';
import { createWorker } from '@sisyphus/core/worker';
import { type Transport } from '@sisyphus/core/transport';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, type SisyphusServer, type ServerOptions } from '../src/index.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { captureLog } from './log-capture.js';

/*
 * The queue's addressing and listing rules over real HTTP (a server on
 * port 0): ids at and past the limit, the workers the original dashboard
 * sees, GET /queue paging, route schemas, retention.
 */

const servers: SisyphusServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);

async function listening(options: ServerOptions = {}, now?: () => number) {
  const s = await createServer(openSqliteStore(':memory:'), { sweepIntervalMs: 20, ...options }, { registry, ...(now ? { now } : {}) });
  servers.push(s);
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  return { server: s, url, call };
}

const job = (extra: Record<string, unknown> = {}) => ({ job_title: 't', tasks: [{ module: 'cleanup', data: { delete: ['/tmp/nothing-here'] } }], ...extra });
const beat = (extra: Record<string, unknown> = {}) => ({ status: 'idle', hostname: 'h', version: '1', online_at: 'None', ...extra });

describe('every accepted job and worker can be addressed', () => {
  const atLimit = `j${'x'.repeat(QUEUE_ID_MAX_LENGTH - 1)}`;
  const pastLimit = `${atLimit}y`;

  it(`a job_id of ${QUEUE_ID_MAX_LENGTH} characters is accepted and every /jobs/{id} route answers for it`, async () => {
    const { call } = await listening();
    expect((await call('POST', '/queue', job({ job_id: atLimit }))).json).toEqual({ job_id: atLimit });
    expect((await call('GET', `/jobs/${atLimit}`)).json).toMatchObject({ job_id: atLimit, state: 'queued' });
    const worker = `w${'y'.repeat(QUEUE_ID_MAX_LENGTH - 1)}`;
    expect((await call('GET', `/queue/poll?worker_id=${worker}`)).json.job_id).toBe(atLimit);
    const hb = await call('POST', `/workers/${worker}`, beat({ status: 'in_progress', job_id: atLimit }));
    expect(hb.status).toBe(200);
    expect(hb.json.cancel).toEqual([]);
    const done = await call('PATCH', `/jobs/${atLimit}/completed`, { failed: false, info: { worker_id: worker } });
    expect(done.json).toEqual({ job_id: atLimit, state: 'completed' });
    expect((await call('GET', `/workers/${worker}`)).json.worker_id).toBe(worker);
  });

  it('a job_id one past the limit, or with a character a URL would encode, is refused at submit with 400 naming job_id', async () => {
    const { call } = await listening();
    for (const bad of [pastLimit, 'a b', 'a/b', '../x', 'é', '.hidden']) {
      const res = await call('POST', '/queue', job({ job_id: bad }));
      expect(res.status, bad).toBe(400);
      expect(res.json.message, bad).toMatch(/job_id/);
      expect(res.json.problems.some((p: { path: string }) => p.path === 'job_id'), bad).toBe(true);
    }
    expect((await call('POST', '/queue', job({ job_id: pastLimit }))).json.message).toMatch(`is ${QUEUE_ID_MAX_LENGTH + 1} characters`);
    expect((await call('GET', '/queue')).json.entries).toBe(0);
  });

  it('a worker whose id (or a slot id) breaks the rule refuses to start with a ConfigError naming the id', () => {
    const engine = createEngine({ registry });
    const transport = {} as Transport;
    expect(() => createWorker({ engine, transport, workerId: pastLimit })).toThrow(/worker id .* is 129 characters; ids are at most 128/);
    expect(() => createWorker({ engine, transport, workerId: 'my worker' })).toThrow(/worker id "my worker" must be .*" " is not allowed/);
    // 127 + "-2" is 129: slots count.
    expect(() => createWorker({ engine, transport, workerId: atLimit.slice(1), concurrency: 2 })).toThrow(/slot 1 of 2.*at most 126 characters/);
    expect(() => createWorker({ engine, transport, workerId: atLimit })).not.toThrow();
    try {
      createWorker({ engine, transport, workerId: pastLimit });
    } catch (error) {
      expect((error as { code?: string }).code).toBe('SIS_CONFIG_INVALID');
    }
  });

  it('an original worker id with characters a URL encodes still heartbeats (routes accept every routable id up to the limit)', async () => {
    const { call } = await listening();
    const id = encodeURIComponent('encoder #1 (büro)');
    expect((await call('POST', `/workers/${id}`, beat())).status).toBe(200);
    expect((await call('GET', `/workers/${id}`)).json.worker_id).toBe('encoder #1 (büro)');
    // Past the limit: a 400 naming the parameter, not a 414 from the router.
    const long = await call('POST', `/workers/${'w'.repeat(QUEUE_ID_MAX_LENGTH + 1)}`, beat());
    expect(long.status).toBe(400);
    expect(long.json.message).toMatch(/params\.id/);
  });
});

describe('a worker that was away (frozen, suspended, cut off) longer than its lease', () => {
  it('gets its requeued job back with its next heartbeat (not told to cancel it) unless another worker took it; its report is recorded', async () => {
    const clock = { now: 1_800_000_000_000 };
    const { server, call } = await listening({ leaseSeconds: 3 }, () => clock.now);
    const [a, b] = [(await call('POST', '/queue', job())).json.job_id, (await call('POST', '/queue', job())).json.job_id];
    expect((await call('GET', '/queue/poll?worker_id=w1')).json.job_id).toBe(a);
    expect((await call('GET', '/queue/poll?worker_id=w2')).json.job_id).toBe(b);
    clock.now += 10_000; // both leases ran out, and the grace period after start too
    await server.sweeper.tick();
    expect((await call('GET', '/queue')).json.entries).toBe(2);
    // w1 comes back first: its heartbeat takes its job back.
    const hb = await call('POST', '/workers/w1', beat({ status: 'in_progress', job_id: a }));
    expect(hb.json.cancel).toEqual([]);
    expect((await call('GET', `/jobs/${a}`)).json).toMatchObject({ state: 'running', worker_id: 'w1', attempts: 1 });
    // b went to w3 before w2 came back: w2 is told to abort it.
    expect((await call('GET', '/queue/poll?worker_id=w3')).json.job_id).toBe(b);
    expect((await call('POST', '/workers/w2', beat({ status: 'in_progress', job_id: b }))).json.cancel).toEqual([b]);
    expect((await call('PATCH', `/jobs/${a}/completed`, { failed: false, info: { worker_id: 'w1' } })).json).toEqual({ job_id: a, state: 'completed' });
    expect((await call('PATCH', `/jobs/${b}/completed`, { failed: true, info: { worker_id: 'w2', cancelled: true } })).status).toBe(409);
  });
});

describe('GET /workers shows live workers, as the original did', () => {
  it('a disabled worker that went offline is left out; ?offline=1 lists it with online: false and last_seen', async () => {
    const clock = { now: 1_800_000_000_000 };
    const { call } = await listening({ clientExpirySeconds: 30 }, () => clock.now);
    await call('POST', '/workers/live', beat({ hostname: 'live-host' }));
    await call('POST', '/workers/gone', beat({ hostname: 'gone-host' }));
    await call('PATCH', '/workers/gone', { disabled: true });
    await call('PATCH', '/workers/never-seen', { disabled: true });
    clock.now += 20_000;
    await call('POST', '/workers/live', beat({ hostname: 'live-host' }));
    clock.now += 15_000; // "gone" expired (35 s), "live" has not (15 s)
    const listed = (await call('GET', '/workers')).json;
    expect(listed.workers.map((w: { worker_id: string }) => w.worker_id)).toEqual(['live']);
    expect(listed.count).toBe(1);
    expect(listed.workers[0]).toMatchObject({ hostname: 'live-host', attributes: { disabled: false } });
    const all = (await call('GET', '/workers?offline=1')).json.workers;
    // Sorted by hostname (the id when the heartbeat is gone), as GET /workers always is.
    expect(all.map((w: { worker_id: string; online: boolean }) => [w.worker_id, w.online])).toEqual([
      ['gone', false],
      ['live', true],
      ['never-seen', false],
    ]);
    const gone = all.find((w: { worker_id: string }) => w.worker_id === 'gone');
    expect(gone).toMatchObject({ attributes: { disabled: true }, online: false, last_seen: new Date(clock.now - 35_000).toISOString() });
    expect(gone.hostname).toBeUndefined();
    expect(all.find((w: { worker_id: string }) => w.worker_id === 'never-seen').last_seen).toBeNull();
  });
});

describe('GET /queue', () => {
  it('keeps the original shape, pages with limit/cursor (entries: all queued), and sees every change made through the server', async () => {
    const { call } = await listening();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await call('POST', '/queue', job({ job_title: `Tom & Jerry ${i}` }))).json.job_id);
    const whole = await call('GET', '/queue');
    expect(Object.keys(whole.json)).toEqual(['queue', 'entries', 'attributes']);
    expect(whole.json.entries).toBe(7);
    expect(whole.json.queue.map((j: { job_id: string }) => j.job_id)).toEqual(ids);
    expect(whole.text).not.toContain('&'); // escaped for the original worker's HTML-unescape
    expect(whole.json.queue[0]).toMatchObject({ job_title: 'Tom & Jerry 0', tasks: [{ module: 'cleanup' }], job_id: ids[0] });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await call('GET', `/queue?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json;
      expect(page.entries).toBe(7);
      expect(page.attributes).toEqual({ disabled: false });
      seen.push(...page.queue.map((j: { job_id: string }) => j.job_id));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(ids);
    // Changes through this server show at once (the listing is read again).
    await call('GET', '/queue/poll?worker_id=w');
    expect((await call('GET', '/queue')).json.entries).toBe(6);
    await call('DELETE', `/jobs/${ids[1]}`);
    expect((await call('GET', '/queue')).json.queue.map((j: { job_id: string }) => j.job_id)).toEqual(ids.slice(2));
    await call('PATCH', '/queue', { disabled: true });
    expect((await call('GET', '/queue')).json.attributes.disabled).toBe(true);
  });

  it('is read from the store once for callers at the same time, and again only after the queue changed (not after a heartbeat)', async () => {
    const { server, call } = await listening();
    const store = server.context.store;
    let reads = 0;
    const read = store.queuedDocuments.bind(store);
    store.queuedDocuments = (options) => {
      reads += 1;
      return read(options);
    };
    for (let i = 0; i < 600; i++) await call('POST', '/queue', job()); // three pages of the listing's reads
    const four = await Promise.all([1, 2, 3, 4].map(() => call('GET', '/queue')));
    expect(four.map((r) => r.json.entries)).toEqual([600, 600, 600, 600]);
    expect(four.every((r) => r.text === four[0]!.text)).toBe(true);
    expect(reads).toBe(3);
    await call('POST', '/workers/w', beat({ status: 'in_progress', job_id: 'x' }));
    await call('PATCH', '/workers/w', { disabled: false });
    await call('GET', '/queue');
    expect(reads).toBe(3);
    await call('POST', '/queue', job());
    expect((await call('GET', '/queue')).json.entries).toBe(601);
    expect(reads).toBe(6);
  });

  it('bad paging input is a 400 naming the field, and a foreign cursor is SIS_BAD_CURSOR', async () => {
    const { call } = await listening();
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=']) {
      const res = await call('GET', `/queue?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json.problems[0].path, q).toBe('querystring.limit');
    }
    const foreign = Buffer.from(JSON.stringify({ m: 'n', k: 'x', id: 'y' })).toString('base64url');
    for (const path of [`/queue?cursor=${foreign}`, '/queue?cursor=garbage', '/jobs?cursor=garbage', `/jobs?state=queued&cursor=${foreign}`]) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.json.code, path).toBe('SIS_BAD_CURSOR');
    }
  });
});

describe('route schemas and store errors', () => {
  it('bodies, params and query strings are checked against the route schemas: 400 with every problem and its path', async () => {
    const { call } = await listening();
    const id = (await call('POST', '/queue', job())).json.job_id;
    const cases: Array<[string, string, unknown, string]> = [
      ['PATCH', `/jobs/${id}/completed`, { info: {} }, 'body.failed'],
      ['PATCH', `/jobs/${id}/completed`, { failed: 'no' }, 'body.failed'],
      ['PATCH', '/queue', { disabled: 'yes' }, 'body.disabled'],
      ['PATCH', '/workers/w', [], 'body'],
      ['POST', '/workers/w', 'hello', 'body'],
      ['POST', '/workers/w', beat({ status: 5 }), 'body.status'],
      ['GET', '/jobs?state=done', undefined, 'querystring.state'],
      ['GET', '/queue/poll?wait=-1', undefined, 'querystring.wait'],
      ['POST', '/data/bad name/x', { options: {} }, 'params.module'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.json.problems.map((p: { path: string }) => p.path), `${method} ${path}`).toContain(field);
      expect(res.json.message, `${method} ${path}`).toContain(field);
    }
  });

  it('a report whose info.worker_id is not a string is refused (it would skip the holder check)', async () => {
    const { call } = await listening();
    const id = (await call('POST', '/queue', job())).json.job_id;
    await call('GET', '/queue/poll?worker_id=holder');
    for (const info of [{ worker_id: 123 }, { worker_id: null }, { worker_id: ['holder'] }]) {
      const res = await call('PATCH', `/jobs/${id}/completed`, { failed: false, info });
      expect(res.status).toBe(400);
      expect(res.json.problems[0].path).toBe('body.info.worker_id');
    }
    expect((await call('PATCH', `/jobs/${id}/completed`, { failed: false, info: { worker_id: 'holder' } })).status).toBe(200);
  });

  it('a heartbeat over 64 KiB is refused with 413 naming the limit (every GET /workers sends the statuses back)', async () => {
    const { call } = await listening();
    const res = await call('POST', '/workers/w', beat({ info: 'x'.repeat(70 * 1024) }));
    expect([res.status, res.json.message]).toEqual([413, 'request body is larger than 65536 bytes']);
    expect((await call('POST', '/workers/w', beat({ info: 'x'.repeat(60 * 1024) }))).status).toBe(200);
  });

  it('a submission with thousands of bad tasks gets a short answer: 50 problems and how many more', async () => {
    const { call } = await listening();
    const tasks = Array.from({ length: 3000 }, () => ({ module: 'cleanup', data: { delete: 5 } }));
    const res = await call('POST', '/queue', { job_title: 'x', tasks });
    expect(res.status).toBe(400);
    expect(res.json.problems).toHaveLength(50);
    expect(res.json.message).toMatch(/; \.\.\. and 2950 more tasks with problems$/);
    expect(res.text.length).toBeLessThan(20_000);
  });

  it('the OpenAPI document says every route takes a bearer token when tokens are on', async () => {
    const admin = 'admin-token-0123456789';
    const { url } = await listening({ tokens: [{ token: admin, role: 'admin' }] });
    const doc = await (await fetch(`${url}/doc/json`, { headers: { authorization: `Bearer ${admin}` } })).json();
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/jobs/{id}/completed'].patch.requestBody).toBeDefined();
  });

  it('store refusals carry their code and status: 404 SIS_JOB_NOT_FOUND, 409 SIS_JOB_EXISTS / SIS_LEASE_LOST / SIS_JOB_STATE', async () => {
    const { call } = await listening();
    expect((await call('GET', '/jobs/nope')).json).toMatchObject({ code: 'SIS_JOB_NOT_FOUND' });
    expect((await call('PATCH', '/jobs/nope/completed', { failed: false, info: {} })).status).toBe(404);
    await call('POST', '/queue', job({ job_id: 'dup' }));
    const dup = await call('POST', '/queue', job({ job_id: 'dup' }));
    expect([dup.status, dup.json.code]).toEqual([409, 'SIS_JOB_EXISTS']);
    await call('GET', '/queue/poll?worker_id=a');
    const lost = await call('PATCH', '/jobs/dup/completed', { failed: false, info: { worker_id: 'b' } });
    expect([lost.status, lost.json.code]).toEqual([409, 'SIS_LEASE_LOST']);
    const running = await call('DELETE', '/jobs/dup');
    expect([running.status, running.json.code]).toEqual([409, 'SIS_JOB_STATE']);
    await call('PATCH', '/jobs/dup/completed', { failed: false, info: { worker_id: 'a' } });
    const finished = await call('POST', '/jobs/dup/cancel');
    expect([finished.status, finished.json.code]).toEqual([409, 'SIS_JOB_STATE']);
  });

  it('ten concurrent submits of one job_id: one 200, nine 409', async () => {
    const { call } = await listening();
    const answers = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/queue', job({ job_id: 'same' }))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(9).fill(409)]);
  });
});

describe('retention', () => {
  it('deletes finished jobs past their state\'s age or count in the background; queued and running jobs stay', async () => {
    const clock = { now: 1_800_000_000_000 };
    const day = 24 * 60 * 60 * 1000;
    const { logger, lines } = captureLog();
    const { server, call } = await listening(
      { retention: { completed: { maxAgeDays: 7 }, failed: { maxCount: 2 } }, logger },
      () => clock.now,
    );
    const finish = async (failed: boolean) => {
      const id = (await call('POST', '/queue', job())).json.job_id;
      await call('GET', '/queue/poll?worker_id=w');
      await call('PATCH', `/jobs/${id}/completed`, { failed, info: { worker_id: 'w' } });
      clock.now += 1000;
      return id;
    };
    const oldDone = await finish(false);
    const failed = [await finish(true), await finish(true), await finish(true), await finish(true)];
    clock.now += 8 * day;
    const newDone = await finish(false);
    const queued = (await call('POST', '/queue', job())).json.job_id;
    // A pass now (the timer runs every minute; its first pass ran at start, when nothing was old).
    const retention = (server as unknown as { retention?: { run(): Promise<number> } }).retention;
    expect(retention).toBeDefined();
    expect(await retention!.run()).toBe(3);
    expect((await call('GET', `/jobs/${oldDone}`)).status).toBe(404);
    expect((await call('GET', `/jobs/${newDone}`)).json.state).toBe('completed');
    expect((await call('GET', '/jobs?state=failed')).json.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([failed[3], failed[2]]);
    expect((await call('GET', `/jobs/${queued}`)).json.state).toBe('queued');
    expect(lines.filter((l) => l.component === 'server').map((l) => `${l.level} ${l.msg}`)).toEqual(
      expect.arrayContaining(['info retention: deleted 1 completed job', 'info retention: deleted 2 failed jobs']),
    );
  });

  it('refuses a retention setting it cannot apply, naming it', async () => {
    await expect(createServer(openSqliteStore(':memory:'), { retention: { done: { maxCount: 1 } } as never })).rejects.toThrow(/retention\.done: not a final state/);
    await expect(createServer(openSqliteStore(':memory:'), { retention: { failed: { maxAgeDays: 0 } } })).rejects.toThrow(/retention\.failed\.maxAgeDays must be/);
    await expect(createServer(openSqliteStore(':memory:'), { retention: { failed: { maxCount: 1.5 } } })).rejects.toThrow(/retention\.failed\.maxCount must be/);
    await expect(createServer(openSqliteStore(':memory:'), { retention: { completed: { maxAgeDays: 1e9 } } })).rejects.toThrow(/retention\.completed\.maxAgeDays must be a number of days from more than 0 to 365000/);
  });

  it('one state whose rule fails does not keep the others from being applied; a stopped retention runs no more', async () => {
    const { logger, lines } = captureLog();
    const { server, call } = await listening({ retention: { completed: { maxCount: 0 }, failed: { maxCount: 0 } }, logger });
    const store = server.context.store;
    for (const failed of [false, true]) {
      const id = (await call('POST', '/queue', job())).json.job_id;
      await call('GET', '/queue/poll?worker_id=w');
      await call('PATCH', `/jobs/${id}/completed`, { failed, info: { worker_id: 'w' } });
    }
    const purge = store.purge.bind(store);
    store.purge = async (state, rule, batch) => {
      if (state === 'completed') throw new Error('disk I/O error');
      return purge(state, rule, batch);
    };
    expect(await server.retention.run()).toBe(1);
    expect((await call('GET', '/jobs?state=failed')).json.jobs).toEqual([]);
    expect((await call('GET', '/jobs?state=completed')).json.jobs).toHaveLength(1);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', component: 'server', msg: 'retention of completed jobs failed (tried again in the next pass): disk I/O error' }),
    );
    await server.retention.stop();
    store.purge = purge;
    expect(await server.retention.run()).toBe(0);
  });
});
