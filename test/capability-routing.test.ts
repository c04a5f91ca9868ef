import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CliProcesses, apiCall, freePort, until } from './support/processes.js';

// Capability routing end to end (issue 16 §1): real `sisyphus server` and
// `sisyphus worker` processes; the workers detect what they can do and add
// the tags of their config; each job lands only where it can run, a job
// nobody can run says so and blocks nothing behind it, and runs once a worker
// that can arrives. On SQLite and Redis with HTTP workers, and with direct
// Redis workers.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/plugins/fanout-plugin.mjs', import.meta.url));
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type Setup = { name: string; store: 'sqlite' | 'redis'; transport: 'http' | 'redis' };
const SETUPS: Setup[] = [
  { name: 'SQLite server, HTTP workers', store: 'sqlite', transport: 'http' },
  { name: 'Redis server, HTTP workers', store: 'redis', transport: 'http' },
  { name: 'Redis server, direct Redis workers', store: 'redis', transport: 'redis' },
];

type JobView = {
  job_id: string;
  state: string;
  worker_id?: string;
  requirements?: string[];
  eligibility?: { eligible_workers: number; needs?: string[]; message?: string };
};

describe.each(SETUPS)('capability routing: $name', (setup) => {
  let dir = '';
  let api = '';
  const prefix = `sis-routing-${randomUUID().slice(0, 8)}`;
  const cli = new CliProcesses(bin, () => dir);
  const call = <T = any>(method: string, path: string, body?: unknown) => apiCall<T>(api, method, path, body);
  const view = async (id: string) => (await call<JobView>('GET', `/jobs/${id}`)).json;
  const submit = async (title: string, requires?: Record<string, string[]>) => {
    const res = await call<{ job_id: string }>('POST', '/queue', { job_title: title, ...(requires ? { requires } : {}), tasks: [{ module: 'fanout-part', data: { n: 3 } }] });
    expect(res.status).toBe(200);
    return res.json.job_id;
  };
  const completed = (id: string) =>
    until(`job ${id} to complete`, async () => {
      const j = await view(id);
      return j.state === 'completed' ? j : undefined;
    }, 60_000);
  const startWorker = async (id: string, tags: string[]) => {
    const config = join(dir, `${id}.yaml`);
    const transport =
      setup.transport === 'redis' ? `transport:\n  name: redis\n  options:\n    connection: ${REDIS}\n    prefix: ${prefix}\n    leaseSeconds: 5\n` : '';
    await writeFile(
      config,
      `plugins:\n  - ${plugin}\nworker:\n  concurrency: 1\n  tags: [${tags.join(', ')}]\n  heartbeatInterval: 0.5\n  pollInterval: 0.5\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, `state-${id}`)}\n${transport}`,
    );
    cli.start(`worker ${id}`, ['worker', '--config', config], { HOST_UUID: id, API_URL: api });
    await until(`worker ${id}'s heartbeat with its tags`, async () => {
      const { json } = await call<{ capabilities?: { tags?: string[] } }>('GET', `/workers/${id}`);
      return json.capabilities?.tags?.length === tags.length || undefined;
    }, 60_000);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sis-routing-'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const store = setup.store === 'sqlite' ? `  db: ${join(dir, 'server.db')}\n` : `  store: ${REDIS}\n  storePrefix: ${prefix}\n`;
    await writeFile(join(dir, 'server.yaml'), `plugins:\n  - ${plugin}\nserver:\n  port: ${port}\n${store}  leaseSeconds: 5\n`);
    cli.start('server', ['server', '--config', join(dir, 'server.yaml')]);
    await until('the server', async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined, 60_000);
    await startWorker('cpu-node', ['cpu']);
    await startWorker('gpu-node', ['gpu']);
  }, 180_000);

  afterAll(async () => {
    await cli.killAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('each job lands only on a worker that has what it requires; jobs without requirements go anywhere', async () => {
    const gpu = [await submit('gpu 1', { tags: ['gpu'] }), await submit('gpu 2', { tags: ['GPU'] })];
    const cpu = [await submit('cpu 1', { tags: ['cpu'] }), await submit('cpu 2', { tags: ['cpu'], modules: ['fanout-part'] })];
    const any = await submit('anyone');
    for (const id of gpu) expect((await completed(id)).worker_id).toBe('gpu-node');
    for (const id of cpu) expect((await completed(id)).worker_id).toBe('cpu-node');
    expect(['cpu-node', 'gpu-node']).toContain((await completed(any)).worker_id);
    // What it required: its document's requires plus what its task uses.
    expect((await view(gpu[1]!)).requirements).toEqual(['module:fanout-part', 'tag:gpu']);
  }, 120_000);

  it('a job no live worker can run says so, blocks nothing behind it, and runs when such a worker arrives', async () => {
    const late = await submit('needs a late worker', { tags: ['late'] });
    const nvenc = await submit('needs NVENC', { encoders: ['hevc_nvenc'] });
    const behind = await submit('behind them');
    expect((await completed(behind)).state).toBe('completed');
    const waiting = await view(late);
    expect(waiting.state).toBe('queued');
    expect(waiting.eligibility).toEqual({ eligible_workers: 0, needs: ['tag:late'], message: 'no eligible worker: needs tag late' });
    expect((await view(nvenc)).eligibility?.message).toBe('no eligible worker: needs encoder hevc_nvenc');
    // In the listing too.
    const queued = (await call<{ jobs: JobView[] }>('GET', '/jobs?state=queued')).json.jobs;
    expect(queued.find((j) => j.job_id === late)?.eligibility?.eligible_workers).toBe(0);
    // An original client's anonymous poll advertises nothing: it does not get a job with requirements of its own.
    expect((await call('GET', '/queue/poll')).status).toBe(404);

    await startWorker('late-node', ['late']);
    const done = await completed(late);
    expect(done.worker_id).toBe('late-node');
    expect(done.eligibility).toBeUndefined();
    expect((await view(nvenc)).state).toBe('queued');
    expect((await call('POST', `/jobs/${nvenc}/cancel`)).status).toBe(200);
  }, 180_000);
});
