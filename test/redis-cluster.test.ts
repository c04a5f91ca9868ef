import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';
import { CliProcesses, alive, apiCall, encodeJob, ffmpegChildren, freePort, until } from './support/processes.js';
import { deleteKeys } from './support/redis-keys.js';

// Scale-out on one machine: two server processes on one Redis (BullMQ store),
// two HTTP workers (one per server) and a worker linked to Redis directly.
const REDIS = 'redis://127.0.0.1:6379/0';
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const prefix = `sis-test-${randomUUID()}`;
let dir = '';
const apis: string[] = [];



const call = apiCall;

const cli = new CliProcesses(bin, () => dir);
const procs = cli.list;
const start = (name: string, args: string[], env: Record<string, string> = {}) => cli.start(name, args, env);

const job = async (id: string) => (await call<{ state: string; worker_id?: string; attempts: number; result?: { worker_id?: string } }>(apis[0]!, 'GET', `/jobs/${id}`)).json;
const startsOf = (id: string) => cli.startsOf(id);



beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-redis-cluster-'));
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'out'));
  await makeSample(join(dir, 'in', 'short.mkv'), { duration: 1, size: '160x120' });
  await makeSample(join(dir, 'in', 'long.mkv'), { duration: 40, size: '640x360' });
  for (const n of [1, 2]) {
    const port = await freePort();
    apis.push(`http://127.0.0.1:${port}`);
    // Server 1 names its store in the config, server 2 with the flags.
    const store = n === 1 ? `  store: ${REDIS}\n  storePrefix: ${prefix}\n` : '';
    await writeFile(join(dir, `server${n}.yaml`), `server:\n  port: ${port}\n${store}  leaseSeconds: 3\n  maxAttempts: 5\n`);
    start(`server ${n}`, ['server', '--config', join(dir, `server${n}.yaml`), ...(n === 2 ? ['--store', REDIS, '--store-prefix', prefix] : [])]);
  }
  for (const api of apis) await until(`server ${api}`, async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined);
  await writeFile(join(dir, 'http-worker.yaml'), `worker:\n  heartbeatInterval: 0.5\n  pollInterval: 5\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, 'state-http')}\n`);
  await writeFile(
    join(dir, 'redis-worker.yaml'),
    `worker:\n  heartbeatInterval: 0.5\n  pollInterval: 5\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, 'state-redis')}\ntransport:\n  name: redis\n  options:\n    connection: ${REDIS}\n    prefix: ${prefix}\n    leaseSeconds: 3\n`,
  );
  start('worker h1', ['worker', '--config', join(dir, 'http-worker.yaml')], { HOST_UUID: 'h1', API_URL: apis[0]! });
  start('worker h2', ['worker', '--config', join(dir, 'http-worker.yaml')], { HOST_UUID: 'h2', API_URL: apis[1]! });
  start('worker r1', ['worker', '--config', join(dir, 'redis-worker.yaml')], { HOST_UUID: 'r1' });
  await until('three workers on both servers', async () => {
    const [a, b] = await Promise.all(apis.map(async (api) => (await call<{ workers: Array<{ worker_id: string }> }>(api, 'GET', '/workers')).json.workers.map((w) => w.worker_id).sort().join()));
    return a === 'h1,h2,r1' && b === a;
  });
}, 120_000);

afterAll(async () => {
  await cli.killAll();
  await deleteKeys(REDIS, prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scale-out on Redis: two servers, HTTP workers and a direct Redis worker', () => {
  it('50 jobs submitted to both servers all complete exactly once, on both kinds of worker', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const body =
        i % 5 === 4
          ? encodeJob(`encode ${i}`, join(dir, 'in', 'short.mkv'), join(dir, 'out', `enc-${i}.mkv`))
          : { job_title: `copy ${i}`, tasks: [{ module: 'cleanup', data: { copy: [{ source: join(dir, 'in', 'short.mkv'), destination: join(dir, 'out', `copy-${i}.mkv`) }] } }] };
      const res = await call<{ job_id: string }>(apis[i % 2]!, 'POST', '/queue', body);
      expect(res.status).toBe(200);
      ids.push(res.json.job_id);
    }
    await until('50 completed jobs', async () => (await Promise.all(ids.map(job))).every((j) => j.state === 'completed') || undefined, 120_000);
    const jobs = await Promise.all(ids.map(job));
    for (const j of jobs) expect(j.attempts).toBe(1);
    for (const id of ids) expect(startsOf(id)).toBe(1);
    const by = new Set(jobs.map((j) => j.result?.worker_id));
    expect(by.has('r1')).toBe(true);
    expect(by.has('h1') || by.has('h2')).toBe(true);
    // Both servers tell the same history.
    const [a, b] = await Promise.all(apis.map(async (api) => (await call<{ jobs: Array<{ job_id: string }> }>(api, 'GET', '/jobs?state=completed&limit=1000')).json.jobs.map((j) => j.job_id).sort()));
    expect(a).toEqual(b);
    expect(a).toEqual([...ids].sort());
  }, 180_000);

  it('kill -9 of the direct Redis worker mid-encode: its ffmpeg dies, the job is requeued and completed by another worker', async () => {
    // Let only the direct worker take the next job.
    await call(apis[0]!, 'PATCH', '/workers/h1', { disabled: true });
    await call(apis[0]!, 'PATCH', '/workers/h2', { disabled: true });
    const id = (await call<{ job_id: string }>(apis[1]!, 'POST', '/queue', encodeJob('long', join(dir, 'in', 'long.mkv'), join(dir, 'out', 'long.mkv'), 'medium'))).json.job_id;
    const victim = procs.find((p) => p.name === 'worker r1')!;
    await until('r1 to run it', async () => (await job(id)).worker_id === 'r1' || undefined);
    const ffmpegs = await until('its ffmpeg', () => {
      const pids = ffmpegChildren(victim.child.pid!);
      return pids.length ? pids : undefined;
    });
    const exited = new Promise((r) => victim.child.once('exit', r));
    victim.child.kill('SIGKILL');
    await exited;
    await until('the orphaned ffmpeg to die', () => ffmpegs.every((p) => !alive(p)) || undefined, 3000);
    await call(apis[0]!, 'PATCH', '/workers/h1', { disabled: false });
    await call(apis[1]!, 'PATCH', '/workers/h2', { disabled: false });
    const done = await until('the job to complete elsewhere', async () => {
      const j = await job(id);
      return j.state === 'completed' ? j : undefined;
    }, 120_000);
    expect(done.attempts).toBe(2);
    expect(['h1', 'h2']).toContain(done.result?.worker_id);
    expect(existsSync(join(dir, 'out', 'long.mkv'))).toBe(true);
  }, 180_000);
});
