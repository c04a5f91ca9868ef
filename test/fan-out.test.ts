import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CliProcesses, apiCall, freePort, until } from './support/processes.js';

// Fan-out end to end: a task hands the server child jobs through the SDK
// (ctx.children.wait), the job waits in `waiting-children` holding no
// worker, and resumes on a worker with the children's results. One worker
// with concurrency 1 must finish a job of 20 children. Real server and
// worker processes, on SQLite and on Redis (HTTP worker and direct worker).
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/plugins/fanout-plugin.mjs', import.meta.url));
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type Setup = { name: string; store: 'sqlite' | 'redis'; transport: 'http' | 'redis' };
const SETUPS: Setup[] = [
  { name: 'SQLite server, HTTP worker', store: 'sqlite', transport: 'http' },
  { name: 'Redis server, HTTP worker', store: 'redis', transport: 'http' },
  { name: 'Redis server, direct Redis worker', store: 'redis', transport: 'redis' },
];

type JobView = {
  job_id: string;
  job_title: string;
  state: string;
  reason?: string;
  parent_id?: string;
  worker_hostname?: string;
  flow?: { task_index: number; round: number; children: number; pending: number };
  live?: { progress?: number; children?: Record<string, number> };
  result?: { completed?: boolean; message?: string; tasks?: Array<{ status: string; returnvalue?: { sum: number; count: number; round: number; state: unknown } }> };
};

describe.each(SETUPS)('fan-out: $name', (setup) => {
  let dir = '';
  let api = '';
  let serverYaml = '';
  const prefix = `sis-fanout-${randomUUID().slice(0, 8)}`;
  const cli = new CliProcesses(bin, () => dir);
  let server: { child: ChildProcess } | undefined;
  const call = <T = any>(method: string, path: string, body?: unknown) => apiCall<T>(api, method, path, body);
  const view = async (id: string) => (await call<JobView>('GET', `/jobs/${id}`)).json;
  const submit = async (title: string, data: Record<string, unknown>) => {
    const res = await call<{ job_id: string }>('POST', '/queue', { job_title: title, tasks: [{ module: 'fanout', data }] });
    expect(res.status).toBe(200);
    return res.json.job_id;
  };
  const ended = (id: string, ms = 60_000) =>
    until(`job ${id} to end`, async () => {
      const j = await view(id);
      return ['completed', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
    }, ms);

  async function startServer() {
    server = cli.start('server', ['server', '--config', serverYaml]);
    await until('the server', async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined, 60_000);
  }
  async function stopServer(signal: NodeJS.Signals) {
    const child = server!.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sis-fanout-'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    serverYaml = join(dir, 'server.yaml');
    const store = setup.store === 'sqlite' ? `  db: ${join(dir, 'server.db')}\n` : `  store: ${REDIS}\n  storePrefix: ${prefix}\n`;
    await writeFile(serverYaml, `plugins:\n  - ${plugin}\nserver:\n  port: ${port}\n${store}  leaseSeconds: 5\n  maxAttempts: 3\n`);
    const transport =
      setup.transport === 'redis'
        ? `transport:\n  name: redis\n  options:\n    connection: ${REDIS}\n    prefix: ${prefix}\n    leaseSeconds: 5\n`
        : '';
    await writeFile(
      join(dir, 'worker.yaml'),
      `plugins:\n  - ${plugin}\nworker:\n  concurrency: 1\n  heartbeatInterval: 0.5\n  pollInterval: 1\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, 'state')}\n${transport}`,
    );
    await startServer();
    cli.start('worker w1', ['worker', '--config', join(dir, 'worker.yaml')], { HOST_UUID: 'w1', API_URL: api });
    await until('the worker', async () => (await call<{ count: number }>('GET', '/workers')).json.count === 1 || undefined, 60_000);
  }, 120_000);

  afterAll(async () => {
    await cli.killAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('one worker with concurrency 1 completes a job of 20 children; it waits in waiting-children, resumes once, runs each child once', async () => {
    const runs = join(dir, 'runs-20');
    await mkdir(runs);
    const id = await submit('twenty parts', { children: 20, sleep_ms: 150, runs_dir: runs });
    const waiting = await until('the job to wait for its children', async () => {
      const j = await view(id);
      return j.state === 'waiting-children' ? j : undefined;
    });
    expect(waiting.flow).toMatchObject({ task_index: 0, round: 1, children: 20 });
    expect(waiting.live?.progress).toBeGreaterThanOrEqual(0);
    const listed = await call<{ job_id: string; state: string }>('GET', '/jobs?state=waiting-children');
    expect((listed.json as unknown as { jobs: JobView[] }).jobs.map((j) => j.job_id)).toContain(id);
    const done = await ended(id);
    expect(done.state).toBe('completed');
    const task = done.result!.tasks![0]!;
    expect(task.status).toBe('done');
    expect(task.returnvalue).toEqual({ sum: Array.from({ length: 20 }, (_, n) => n * n).reduce((a, b) => a + b, 0), count: 20, round: 1, state: { children: 20, asked_at: 'first run' } });
    expect((await readFile(join(runs, 'parent-runs'), 'utf8')).trim().split('\n')).toEqual(['first', 'resumed']);
    for (let n = 0; n < 20; n++) expect(await readFile(join(runs, `part-${n}`), 'utf8')).toBe('run\n');
    const { json } = await call<{ progress: number; children: JobView[]; all: JobView[] }>('GET', `/jobs/${id}/children`);
    expect(json.children).toHaveLength(20);
    expect(json.children.every((c) => c.state === 'completed' && c.parent_id === id)).toBe(true);
    // Each names the host of the worker that ran it, in the round's list and in the list of every child alike.
    const hosts = new Map(json.children.map((c) => [c.job_id, c.worker_hostname]));
    expect(json.children.every((c) => typeof c.worker_hostname === 'string' && c.worker_hostname !== '')).toBe(true);
    for (const c of json.all) if (hosts.has(c.job_id)) expect(c.worker_hostname, c.job_id).toBe(hosts.get(c.job_id));
    expect(json.children.map((c) => c.job_title)).toEqual(Array.from({ length: 20 }, (_, n) => `twenty parts · part ${n + 1}/20`));
    expect(json.progress).toBe(100);
    // History shows the children with their parent.
    const history = (await call<{ jobs: JobView[] }>('GET', '/jobs?state=completed&limit=100')).json.jobs;
    expect(history.filter((j) => j.parent_id === id)).toHaveLength(20);
  }, 120_000);

  it('a child that fails fails the parent with its reason; its siblings are cancelled', async () => {
    const id = await submit('one part fails', { children: 4, fail_at: 1 });
    const done = await ended(id);
    expect(done.state).toBe('failed');
    expect(done.reason).toMatch(/^child \S+ \(one part fails · part 2\/4\) failed: .*part 1 was told to fail/);
    const { json } = await call<{ all: JobView[] }>('GET', `/jobs/${id}/children`);
    const states = json.all.map((c) => c.state);
    expect(states[0]).toBe('completed');
    expect(states[1]).toBe('failed');
    expect(states.slice(2).every((s) => s === 'cancelled')).toBe(true);
    expect(await call('GET', `/jobs?state=queued`).then((r) => (r.json as { jobs: unknown[] }).jobs.length)).toBe(0);
  }, 120_000);

  it('cancelling the waiting parent cancels its children, the running one within seconds', async () => {
    const id = await submit('cancel me', { children: 3, sleep_ms: 60_000 });
    const child = await until('a child to run', async () => {
      const { json } = await call<{ children: JobView[] }>('GET', `/jobs/${id}/children`);
      return json.children.find((c) => c.state === 'running');
    });
    const res = await call('POST', `/jobs/${id}/cancel`);
    expect(res.status).toBe(200);
    expect((await view(id)).state).toBe('cancelled');
    const started = Date.now();
    await until('the running child to end cancelled', async () => (await view(child.job_id)).state === 'cancelled' || undefined, 10_000);
    expect(Date.now() - started).toBeLessThan(5000);
    const { json } = await call<{ all: JobView[] }>('GET', `/jobs/${id}/children`);
    expect(json.all.every((c) => c.state === 'cancelled')).toBe(true);
  }, 120_000);

  it('a server restart mid-flow loses nothing and runs no finished child again', async () => {
    const runs = join(dir, 'runs-restart');
    await mkdir(runs);
    const id = await submit('across a restart', { children: 6, sleep_ms: 400, runs_dir: runs });
    await until('two children done', async () => {
      const { json } = await call<{ states: Record<string, number> }>('GET', `/jobs/${id}/children`).catch(() => ({ json: { states: {} } }));
      return (json.states.completed ?? 0) >= 2 || undefined;
    });
    await stopServer('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await startServer();
    const done = await ended(id, 90_000);
    expect(done.state).toBe('completed');
    expect(done.result!.tasks![0]!.returnvalue!.sum).toBe(0 + 1 + 4 + 9 + 16 + 25);
    const parts = (await readdir(runs)).filter((n) => n.startsWith('part-'));
    expect(parts).toHaveLength(6);
    // A child running when the server died may run again (its lease ran out); finished ones never do.
    let again = 0;
    for (const p of parts) again += (await readFile(join(runs, p), 'utf8')).split('\n').filter(Boolean).length - 1;
    expect(again).toBeLessThanOrEqual(1);
  }, 150_000);
});
