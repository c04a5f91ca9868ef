import { afterEach, describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { buildRegistry, type LoadedPlugin } from '@sisyphus/core/config';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, type SisyphusServer, type ServerOptions } from '../src/index.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { dashboardRoot } from '../src/routes/dashboard-routes.js';

const servers: SisyphusServer[] = [];
const sources: EventSource[] = [];
afterEach(async () => {
  while (sources.length) sources.pop()!.close();
  while (servers.length) await servers.pop()!.close();
});

const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);
const ADMIN = 'admin-token-0123456789';
const SUBMITTER = 'submitter-token-0123456789';
const WORKER = 'worker-token-0123456789';
const TOKENS: ServerOptions['tokens'] = [
  { token: ADMIN, role: 'admin', name: 'ops' },
  { token: SUBMITTER, role: 'submitter' },
  { token: WORKER, role: 'worker' },
];

async function server(options: ServerOptions = {}, path = ':memory:') {
  const s = await createServer(openSqliteStore(path), { sweepIntervalMs: 10, ...options }, { registry });
  servers.push(s);
  return s;
}

const job = (title: string, extra: Record<string, unknown> = {}) => ({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: ['/tmp/x'] } }], ...extra });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Submit, lease and report `title` as failed (worker w1); its id. */
async function failedJob(s: SisyphusServer, title: string): Promise<string> {
  const { job_id } = (await s.app.inject({ method: 'POST', url: '/queue', payload: job(title) })).json();
  const polled = (await s.app.inject('/queue/poll?worker_id=w1')).json();
  expect(polled.job_id).toBe(job_id);
  const report = await s.app.inject({ method: 'PATCH', url: `/jobs/${job_id}/completed`, payload: { failed: true, info: { worker_id: 'w1', message: 'boom' } } });
  expect(report.statusCode).toBe(200);
  return job_id;
}

/** Listen to `GET /events` of a listening server; events collected as [type, data]. */
async function listen(s: SisyphusServer, init: { token?: string; lastEventId?: string } = {}) {
  const address = s.app.server.address() as { port: number };
  const received: Array<{ type: string; id: string; data: Record<string, any> }> = [];
  const url = `http://127.0.0.1:${address.port}/events${init.lastEventId !== undefined ? `?last_event_id=${encodeURIComponent(init.lastEventId)}` : ''}`;
  const source = new EventSource(url, {
    fetch: (input, options) => fetch(input, { ...options, headers: { ...options?.headers, ...(init.token ? bearer(init.token) : {}) } }),
  });
  sources.push(source);
  const types = ['job.submitted', 'job.started', 'job.failed', 'job.completed', 'job.retried', 'job.priority', 'job.removed', 'queue.attributes', 'worker.heartbeat', 'worker.attributes', 'data.changed', 'reset'];
  for (const type of types) source.addEventListener(type, (e) => received.push({ type, id: e.lastEventId, data: JSON.parse(e.data) }));
  await new Promise<void>((resolve, reject) => {
    source.addEventListener('open', () => resolve(), { once: true });
    source.addEventListener('error', (e) => reject(new Error(`event stream: ${e.code ?? ''} ${e.message ?? ''}`)), { once: true });
  });
  return { source, received };
}

async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('auth for the dashboard', () => {
  it('GET /auth/whoami answers the role; with auth off everyone is admin', async () => {
    const open = await server();
    expect((await open.app.inject('/auth/whoami')).json()).toEqual({ auth: false, role: 'admin' });
    const s = await server({ tokens: TOKENS });
    // No token: a question, not an error (the dashboard's first look); a wrong one: 401.
    expect((await s.app.inject('/auth/whoami')).json()).toEqual({ auth: true, role: null });
    expect((await s.app.inject({ url: '/auth/whoami', headers: bearer('wrong-token-0123456789') })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/auth/whoami', headers: bearer(ADMIN) })).json()).toEqual({ auth: true, role: 'admin', name: 'ops' });
    expect((await s.app.inject({ url: '/auth/whoami', headers: bearer(SUBMITTER) })).json()).toEqual({ auth: true, role: 'submitter' });
    expect((await s.app.inject({ url: '/auth/whoami', headers: bearer(WORKER) })).json()).toEqual({ auth: true, role: 'worker' });
  });

  it('the dashboard files are public, / leads to them, and they carry a strict CSP', async () => {
    const s = await server({ tokens: TOKENS });
    const root = await s.app.inject('/');
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/ui/');
    const page = await s.app.inject('/ui/');
    if (!dashboardRoot()) {
      expect(page.statusCode).toBe(503);
      return;
    }
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    // Nothing from outside: every URL the page names is its own.
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((await s.app.inject('/ui/../package.json')).statusCode).not.toBe(200);
    // The API stays protected.
    expect((await s.app.inject('/jobs')).statusCode).toBe(401);
  });
});

describe('GET /status/overview', () => {
  it('counts queued, running, finished in the last hour, and workers', async () => {
    const s = await server();
    await failedJob(s, 'f1');
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('q1') });
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('q2') });
    await s.app.inject('/queue/poll?worker_id=w2');
    await s.app.inject({ method: 'POST', url: '/workers/w2', payload: { status: 'in_progress', hostname: 'h2' } });
    await s.app.inject({ method: 'PATCH', url: '/workers/w3', payload: { disabled: true } });
    const o = (await s.app.inject('/status/overview')).json();
    expect(o.jobs).toEqual({ queued: 1, running: 1, waiting: 0, completed: 0, failed: 1, cancelled: 0 });
    expect(o.queue).toEqual({ disabled: false });
    expect(o.workers).toEqual({ online: 1, disabled: 1, offline: 1 });
    expect(o.client_expiry_seconds).toBe(30);
    expect(Date.parse(o.finished_since)).toBeLessThan(Date.now() - 59 * 60 * 1000);
  });
});

describe('history filters, priority and retry', () => {
  it('GET /jobs filters by title, worker and time, and names a bad time', async () => {
    const s = await server();
    const a = await failedJob(s, 'Encode: The Long Night');
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('other 100%') });
    const byTitle = (await s.app.inject('/jobs?title=long%20NIGHT')).json();
    expect(byTitle.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([a]);
    expect((await s.app.inject('/jobs?title=100%25')).json().jobs).toHaveLength(1);
    expect((await s.app.inject('/jobs?title=%25')).json().jobs).toHaveLength(1);
    expect((await s.app.inject('/jobs?worker=w1')).json().jobs.map((j: { job_id: string }) => j.job_id)).toEqual([a]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await s.app.inject(`/jobs?state=failed&since=${future}`)).json().jobs).toHaveLength(0);
    expect((await s.app.inject(`/jobs?state=failed&until=${future}`)).json().jobs).toHaveLength(1);
    const bad = await s.app.inject('/jobs?since=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^since must be an ISO 8601 time/);
  });

  it('PATCH /jobs/{id} changes a queued job\'s priority and its place; refuses a running one', async () => {
    const s = await server();
    const ids: string[] = [];
    for (const t of ['a', 'b', 'c']) ids.push((await s.app.inject({ method: 'POST', url: '/queue', payload: job(t) })).json().job_id);
    const patched = await s.app.inject({ method: 'PATCH', url: `/jobs/${ids[2]}`, payload: { priority: 5 } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ job_id: ids[2], priority: 5, state: 'queued' });
    expect((await s.app.inject('/queue')).json().queue.map((j: { job_title: string }) => j.job_title)).toEqual(['c', 'a', 'b']);
    // The priority is kept beside the document: nothing shows the one a job was submitted with once it changed.
    const five = (await s.app.inject({ method: 'POST', url: '/queue', payload: job('d', { priority: 1 }) })).json().job_id;
    await s.app.inject({ method: 'PATCH', url: `/jobs/${five}`, payload: { priority: 0 } });
    expect((await s.app.inject('/queue')).json().queue.find((j: { job_id: string }) => j.job_id === five)).not.toHaveProperty('priority');
    expect((await s.app.inject(`/jobs/${five}`)).json().priority).toBe(0);
    await s.app.inject('/queue/poll');
    const running = await s.app.inject({ method: 'PATCH', url: `/jobs/${ids[2]}`, payload: { priority: 1 } });
    expect(running.statusCode).toBe(409);
    expect(running.json().message).toMatch(/running/);
    expect((await s.app.inject({ method: 'PATCH', url: '/jobs/nope', payload: { priority: 1 } })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'PATCH', url: `/jobs/${ids[0]}`, payload: { priority: 'high' } })).statusCode).toBe(400);
  });

  it('POST /jobs/{id}/retry queues the same document as a new job linked both ways, once', async () => {
    const s = await server();
    const old = await failedJob(s, 'retry me');
    const r = await s.app.inject({ method: 'POST', url: `/jobs/${old}/retry` });
    expect(r.statusCode).toBe(201);
    const { job_id, retry_of } = r.json();
    expect(retry_of).toBe(old);
    expect(job_id).not.toBe(old);
    const fresh = (await s.app.inject(`/jobs/${job_id}`)).json();
    expect(fresh).toMatchObject({ state: 'queued', job_title: 'retry me', retry_of: old, tasks: [{ module: 'cleanup' }] });
    expect((await s.app.inject(`/jobs/${old}`)).json()).toMatchObject({ state: 'failed', retried_as: job_id });
    // The queue hands out the new one with its own id.
    expect((await s.app.inject('/queue/poll')).json().job_id).toBe(job_id);
    const again = await s.app.inject({ method: 'POST', url: `/jobs/${old}/retry` });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toContain(job_id);
    const running = await s.app.inject({ method: 'POST', url: `/jobs/${job_id}/retry` });
    expect(running.statusCode).toBe(409);
    expect(running.json().message).toMatch(/only failed or cancelled/);
    expect((await s.app.inject({ method: 'POST', url: '/jobs/nope/retry' })).statusCode).toBe(404);
  });

  it('POST /jobs/retry retries every failed job of a filter once, and says how many it skipped', async () => {
    const s = await server();
    const a = await failedJob(s, 'batch one');
    const b = await failedJob(s, 'batch two');
    await failedJob(s, 'other');
    const first = (await s.app.inject({ method: 'POST', url: '/jobs/retry', payload: { title: 'batch' } })).json();
    expect(first.count).toBe(2);
    expect(first.retried.map((x: { retry_of: string }) => x.retry_of).sort()).toEqual([a, b].sort());
    const second = (await s.app.inject({ method: 'POST', url: '/jobs/retry', payload: { title: 'batch' } })).json();
    expect(second).toEqual({ retried: [], count: 0, skipped: 2 });
    const bad = await s.app.inject({ method: 'POST', url: '/jobs/retry', payload: { state: 'completed' } });
    expect(bad.statusCode).toBe(400);
    // A limit that stops it says more remain; a retry that was removed from the queue no longer counts as one.
    await s.app.inject({ method: 'DELETE', url: '/queue' }); // the retries made above, so that the next poll takes the new job
    await failedJob(s, 'other two');
    const limited = (await s.app.inject({ method: 'POST', url: '/jobs/retry', payload: { limit: 1 } })).json();
    expect(limited).toMatchObject({ count: 1, more: true });
    expect((await s.app.inject({ method: 'DELETE', url: `/jobs/${limited.retried[0].job_id}` })).statusCode).toBe(204);
    const again = (await s.app.inject({ method: 'POST', url: '/jobs/retry', payload: { title: 'other two' } })).json();
    expect(again).toMatchObject({ count: 1, skipped: 0 });
    expect((await s.app.inject({ method: 'PATCH', url: `/jobs/${again.retried[0].job_id}`, payload: { priority: 1e300 } })).statusCode).toBe(400);
  });
});

describe('POST /queue/template', () => {
  const template = 'job_title: "Clean {{ name }}"\ntasks:\n  - module: cleanup\n    data:\n      delete: ["{{ path }}"]\n      overwrite: "{{ flag }}"\n';

  it('lists the placeholders, names missing values, maps schema problems to placeholders, and submits', async () => {
    const s = await server();
    const check = (await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template, check: true } })).json();
    expect(check.placeholders).toEqual(['name', 'path', 'flag']);
    const missing = await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template, variables: { name: 'x', path: '' } } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().problems.map((p: { path: string }) => p.path)).toEqual(['variables.path', 'variables.flag']);
    const noFlag = 'job_title: "Clean {{ name }}"\ntasks:\n  - module: cleanup\n    data:\n      delete: "{{ path }}"\n';
    const wrong = await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template: noFlag, variables: { name: 'x', path: '/tmp/a' } } });
    expect(wrong.statusCode).toBe(400);
    const problem = wrong.json().problems.find((p: { path: string }) => p.path.startsWith('tasks[0].data.delete'));
    expect(problem).toMatchObject({ placeholders: ['path'] });
    const ok = await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template: noFlag.replace('delete: "{{ path }}"', 'delete: ["{{ path }}"]'), variables: { name: 'x', path: '/tmp/a' }, priority: 3 } });
    expect(ok.statusCode).toBe(200);
    const stored = (await s.app.inject(`/jobs/${ok.json().job_id}`)).json();
    expect(stored).toMatchObject({ job_title: 'Clean x', priority: 3, tasks: [{ data: { delete: ['/tmp/a'] } }] });
  });

  it('names unparsable text and a bare YAML placeholder as problems of the template', async () => {
    const s = await server();
    const broken = await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template: '{"job_title": ', check: true } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().problems[0].path).toBe('template');
    const bare = await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template: 'job_title: x\ntasks:\n  - module: cleanup\n    data:\n      overwrite: {{ ow }}\n', check: true } });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().problems[0].message).toMatch(/put quotes around a placeholder/);
    const list = await s.app.inject({ method: 'POST', url: '/queue/template', payload: { template: '[1, 2]', check: true } });
    expect(list.statusCode).toBe(400);
  });

  it('holds a template to what POST /queue holds a body to: no alias blow-up, no __proto__, no deep nesting, no size beyond the limit', async () => {
    const s = await server({ bodyLimit: 200_000 });
    const post = (payload: Record<string, unknown>) => s.app.inject({ method: 'POST', url: '/queue/template', payload });
    // A few KB of YAML aliases would expand a hundredfold.
    const item = 'x'.repeat(95);
    const aliases = `job_title: t\nlist: &l [${Array(90).fill(`"${item}"`).join(', ')}]\ntasks: [${Array(99).fill('*l').join(', ')}]\n`;
    const amplified = await post({ template: aliases, check: true });
    expect(amplified.statusCode).toBe(400);
    expect(amplified.json().problems[0].message).toMatch(/YAML aliases \(\*name\) are not accepted/);
    const proto = await post({ template: '{"__proto__": {"job_title": "ghost"}, "job_title": "x", "tasks": [{"__proto__": {"module": "cleanup"}}]}', check: true });
    expect(proto.statusCode).toBe(400);
    expect(proto.json().problems[0].message).toMatch(/forbidden key/);
    const deep = await post({ template: `${'['.repeat(5000)}${']'.repeat(5000)}`, check: true });
    expect(deep.statusCode).toBe(400);
    const deepObject = await post({ template: `{"job_title": "x", "tasks": ${'['.repeat(100)}${']'.repeat(100)}}`, check: true });
    expect(deepObject.statusCode).toBe(400);
    expect(deepObject.json().problems[0].message).toMatch(/nested deeper than 64 levels/);
    // One placeholder used many times with a long value.
    const many = `job_title: "{{ v }}"\ntasks:\n  - module: cleanup\n    data:\n      delete: [${Array(200).fill('"{{ v }}"').join(', ')}]\n`;
    const big = await post({ template: many, variables: { v: 'y'.repeat(5000) } });
    expect(big.statusCode).toBe(400);
    expect(big.json().problems[0]).toMatchObject({ path: 'variables', message: expect.stringMatching(/more than the server accepts \(200000\)/) });
    // A check answers the placeholders only.
    expect((await post({ template: many, check: true })).json()).toEqual({ placeholders: ['v'] });
  });
});

describe('GET /data', () => {
  it('lists the known modules with their record names', async () => {
    const s = await server();
    await s.app.inject({ method: 'POST', url: '/data/cleanup/set-a', payload: { any: 1 } });
    expect((await s.app.inject('/data')).json()).toEqual({ modules: [{ module: 'cleanup', names: ['set-a'] }] });
  });
});

describe('GET /events', () => {
  it('streams job, queue, worker and data changes as they happen', async () => {
    const s = await server();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const { received } = await listen(s);
    const id = await failedJob(s, 'evented');
    // The finish event (made from what the lease handed out, without reading the job again) says what the store says.
    await until(() => received.some((e) => e.type === 'job.failed'), 'job.failed');
    const stored = (await s.app.inject(`/jobs/${id}`)).json();
    const fields = ['job_id', 'job_title', 'state', 'priority', 'attempts', 'added', 'worker_id', 'started_at', 'finished_at', 'reason'];
    expect(received.find((e) => e.type === 'job.failed')!.data.job).toEqual(Object.fromEntries(fields.filter((f) => f in stored).map((f) => [f, stored[f]])));
    await s.app.inject({ method: 'PATCH', url: '/queue', payload: { disabled: true } });
    await s.app.inject({ method: 'POST', url: '/workers/w9', payload: { status: 'in_progress', hostname: 'h9', job_id: 'x', progress: 42 } });
    await s.app.inject({ method: 'PATCH', url: '/workers/w9', payload: { disabled: true } });
    await s.app.inject({ method: 'POST', url: '/data/cleanup/opt', payload: { a: 1 } });
    await s.app.inject({ method: 'POST', url: `/jobs/${id}/retry` });
    await until(() => received.some((e) => e.type === 'job.retried'), 'job.retried');
    const types = received.map((e) => e.type);
    expect(types).toEqual(['job.submitted', 'job.started', 'job.failed', 'queue.attributes', 'worker.heartbeat', 'worker.attributes', 'data.changed', 'job.submitted', 'job.retried']);
    expect(received[2]!.data).toMatchObject({ type: 'job.failed', job: { job_id: id, state: 'failed', job_title: 'evented', worker_id: 'w1' } });
    expect(received[4]!.data).toMatchObject({ worker: { worker_id: 'w9', online: true, status: { hostname: 'h9', progress: 42 } } });
    expect(typeof received[0]!.data.at).toBe('string');
    // A huge title is cut in events (every listener gets every event); the job's view has it whole.
    const huge = 'x'.repeat(50_000);
    const hugeId = (await s.app.inject({ method: 'POST', url: '/queue', payload: job(huge) })).json().job_id;
    await until(() => received.some((e) => e.data.job?.job_id === hugeId), 'the huge title event');
    const title = received.find((e) => e.data.job?.job_id === hugeId)!.data.job.job_title as string;
    expect(title).toHaveLength(1000);
    expect(title.endsWith('…')).toBe(true);
    expect((await s.app.inject(`/jobs/${hugeId}`)).json().job_title).toBe(huge);
    // Ids increase in log order.
    const ids = received.map((e) => BigInt(e.id.split(':')[1]!));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
  });

  it('resumes after Last-Event-ID with what it missed, and resets for an id it does not have', async () => {
    const path = `/tmp/sis-events-${process.pid}-${Date.now()}.db`;
    let s = await server({}, path);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const first = await listen(s);
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('one') });
    await until(() => first.received.length === 1, 'the first event');
    const lastId = first.received[0]!.id;
    first.source.close();
    // Missed while away (and the server restarted on the same file).
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('two') });
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('three') });
    await servers.pop()!.close();
    s = await server({}, path);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const back = await listen(s, { lastEventId: lastId });
    await until(() => back.received.length === 2, 'the missed events');
    expect(back.received.map((e) => (e.data.job as { job_title: string }).job_title)).toEqual(['two', 'three']);
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('four') });
    await until(() => back.received.length === 3, 'a live event after the replay');
    const stranger = await listen(s, { lastEventId: 'not-an-id' });
    await until(() => stranger.received.some((e) => e.type === 'reset'), 'reset');
  });

  it('needs a submitter or admin token when auth is on', async () => {
    const s = await server({ tokens: TOKENS });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (s.app.server.address() as { port: number }).port;
    expect((await fetch(`http://127.0.0.1:${port}/events`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/events`, { headers: bearer(WORKER) })).status).toBe(403);
    const { received } = await listen(s, { token: SUBMITTER });
    await s.app.inject({ method: 'POST', url: '/queue', payload: job('seen'), headers: bearer(SUBMITTER) });
    await until(() => received.length === 1, 'the submitted job');
  });
});
