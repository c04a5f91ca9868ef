import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';
import { CliProcesses, alive, apiCall, encodeJob, freePort, logLines, outputTail, taskRuns, until, type CliProcess } from './support/processes.js';
import { PrivateRedis } from './support/redis-server.js';

// Workers linked to Redis directly (transport: redis) while their Redis is
// SIGKILLed mid-run and started again on its AOF: jobs keep running and
// finishing while it is away, their results are delivered once it is back,
// and every job completes exactly once. One job server on the same private
// Redis is the API the test looks through.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const prefix = `sis-test-${randomUUID()}`;
const WORKERS = ['d1', 'd2'];
const JOBS = 12;
/** Far longer than the outage: no lease may expire, so every job is leased and run exactly once. */
const LEASE_SECONDS = 60;
/** Short, so a worker listed some seconds after the restart must have sent a heartbeat since. */
const CLIENT_EXPIRY_SECONDS = 4;

let dir = '';
let api = '';
let redis: PrivateRedis | undefined;
const cli = new CliProcesses(bin, () => dir);
const workers: CliProcess[] = [];
let server: CliProcess | undefined;

type Job = { job_id: string; state: string; attempts: number; worker_id?: string; result?: { worker_id?: string; completed?: boolean } };
const job = async (id: string) => (await apiCall<Job>(api, 'GET', `/jobs/${id}`)).json;
const listed = async (state: string) => (await apiCall<{ jobs: Job[] }>(api, 'GET', `/jobs?state=${state}&limit=1000`)).json.jobs;

const workerLines = () => workers.flatMap(logLines);
const count = (text: string) => workerLines().filter((l) => l.message.includes(text)).length;

/** Job states and the tail of every process's output, for a failure message. */
async function diagnostics(ids: string[]): Promise<string> {
  const states = await Promise.all(ids.map((id) => job(id).then((j) => `${id} ${j.state} attempts=${j.attempts} worker=${j.worker_id ?? '-'}`, (e: unknown) => `${id} ? (${String(e)})`)));
  const tails = cli.list.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'})\n${outputTail(p, 80)}`);
  return [...states, ...tails, `--- redis-server\n${redis?.output.join('').split('\n').slice(-30).join('\n') ?? ''}`].join('\n');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-redis-restart-'));
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'out'));
  // About 1-2 s of x264 "medium" each (more with both workers encoding at once on two cores).
  await makeSample(join(dir, 'in', 'clip.mkv'), { duration: 5, size: '640x360' });
  redis = await PrivateRedis.start();
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  await writeFile(
    join(dir, 'server.yaml'),
    `server:\n  port: ${port}\n  store: ${redis.url}\n  storePrefix: ${prefix}\n  leaseSeconds: ${LEASE_SECONDS}\n  maxAttempts: 5\n`,
  );
  server = cli.start('server', ['server', '--config', join(dir, 'server.yaml')]);
  await until('the server', async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined, 60_000);
  for (const id of WORKERS) {
    await writeFile(
      join(dir, `${id}.yaml`),
      `worker:\n  heartbeatInterval: 0.5\n  pollInterval: 5\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, `state-${id}`)}\n` +
        `transport:\n  name: redis\n  options:\n    connection: ${redis.url}\n    prefix: ${prefix}\n    leaseSeconds: ${LEASE_SECONDS}\n    clientExpirySeconds: ${CLIENT_EXPIRY_SECONDS}\n`,
    );
    workers.push(cli.start(`worker ${id}`, ['worker', '--config', join(dir, `${id}.yaml`)], { HOST_UUID: id }));
  }
  await until('both workers listed', async () => {
    const { workers: seen } = (await apiCall<{ workers: Array<{ worker_id: string }> }>(api, 'GET', '/workers')).json;
    return seen.map((w) => w.worker_id).sort().join() === WORKERS.join();
  }, 60_000);
}, 120_000);

afterAll(async () => {
  await cli.killAll();
  await redis?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('direct Redis workers across a Redis restart (kill -9, AOF replay)', () => {
  it('every job completes exactly once; results finished while Redis was away are delivered after; workers stay up', async () => {
    const ids: string[] = [];
    // Whatever fails below, show the job states and every process's log.
    onTestFailed(async () => console.log(await diagnostics(ids)));
    for (let i = 0; i < JOBS; i++) {
      const res = await apiCall<{ job_id: string }>(api, 'POST', '/queue', encodeJob(`enc ${i}`, join(dir, 'in', 'clip.mkv'), join(dir, 'out', `enc-${i}.mkv`), 'medium'));
      expect(res.status).toBe(200);
      ids.push(res.json.job_id);
    }

    // Kill Redis while a job is running and others still wait in the queue.
    const atKill = await until('a running job', async () => {
      const [running, queued] = await Promise.all([listed('running'), listed('queued')]);
      return running.length >= 1 && queued.length >= 2 ? { running: running.map((j) => j.job_id), queued: queued.length } : undefined;
    }, 60_000);
    const killAt = Date.now();
    await redis!.kill('SIGKILL');

    // Redis stays away at least 2.5 s and until a worker has finished a job in the meantime (encodes go on without it).
    const doneWhileAway = () => workerLines().filter((l) => l.at >= killAt && / done in /.test(l.message));
    await until('a job finished while Redis is away', () => (Date.now() - killAt >= 2500 && doneWhileAway().length > 0) || undefined, 30_000);
    const restartAt = Date.now();
    await redis!.start();
    const upAt = Date.now();

    await until(`${JOBS} completed jobs`, async () => (await Promise.all(ids.map(job))).every((j) => j.state === 'completed') || undefined, 180_000);
    const allDoneAt = Date.now();

    // The scenario happened as meant: jobs running at the kill, finished while Redis was away, reported only after it was back.
    expect(atKill.running.length).toBeGreaterThanOrEqual(1);
    const finishedAway = doneWhileAway().filter((l) => l.at < restartAt);
    expect(finishedAway.length).toBeGreaterThanOrEqual(1);
    for (const line of finishedAway) {
      const id = / job (\S+) done in /.exec(` ${line.message}`)![1]!;
      const reported = workerLines().filter((l) => l.message.startsWith(`job ${id} reported`));
      expect(reported, `the report of job ${id}, finished while Redis was away`).toHaveLength(1);
      expect(reported[0]!.at).toBeGreaterThanOrEqual(restartAt);
    }

    // Exactly once: each job leased once (attempts), started once, its one task run once,
    // its result reported once and accepted, completed with the result of one of our workers.
    const jobs = await Promise.all(ids.map(job));
    for (const j of jobs) {
      expect(j.state, j.job_id).toBe('completed');
      expect(j.attempts, `attempts of ${j.job_id}`).toBe(1);
      expect(j.result?.completed, j.job_id).toBe(true);
      expect(WORKERS).toContain(j.result?.worker_id);
      expect(cli.startsOf(j.job_id), `starts of ${j.job_id}`).toBe(1);
      expect(taskRuns(workerLines(), j.job_id, 1, 'ffmpeg'), `task runs of ${j.job_id}`).toBe(1);
      expect(count(`job ${j.job_id} reported`), `reports of ${j.job_id}`).toBe(1);
      expect(existsSync(join(dir, 'out', `enc-${ids.indexOf(j.job_id)}.mkv`))).toBe(true);
    }
    expect(count('refused the result')).toBe(0);
    // A heartbeat sent while the job ran but answered after its report (Redis was away) asks to cancel it: moot, ignored.
    expect(count('the server cancelled job')).toBe(0);
    expect(count('result dropped')).toBe(0);
    expect(new Set(jobs.map((j) => j.result?.worker_id)).size).toBe(WORKERS.length);
    // The history has each job once, and nothing else is left in the queue.
    expect((await listed('completed')).map((j) => j.job_id).sort()).toEqual([...ids].sort());
    expect(await listed('queued')).toEqual([]);
    expect(await listed('running')).toEqual([]);

    // Both workers heartbeat again: a heartbeat lives CLIENT_EXPIRY_SECONDS, so a listing
    // later than that after the restart shows workers that sent one since.
    await new Promise((r) => setTimeout(r, Math.max(0, upAt + (CLIENT_EXPIRY_SECONDS + 1) * 1000 - Date.now())));
    await until('both workers listed, idle, after the restart', async () => {
      const { workers: seen } = (await apiCall<{ workers: Array<{ worker_id: string; status: string }> }>(api, 'GET', '/workers')).json;
      return seen.map((w) => `${w.worker_id}:${w.status}`).sort().join() === WORKERS.map((w) => `${w}:idle`).join() || undefined;
    }, 20_000);

    // No process crashed; the workers stop cleanly on SIGTERM.
    expect(alive(server!.child.pid!)).toBe(true);
    for (const w of workers) expect(w.child.exitCode, `${w.name} still running`).toBeNull();
    const codes = await Promise.all(
      workers.map(async (w) => {
        const exited = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
        w.child.kill('SIGTERM');
        return Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('no exit within 30 s'), 30_000))]);
      }),
    );
    expect(codes).toEqual(WORKERS.map(() => 0));
    console.log(
      `redis down ${((upAt - killAt) / 1000).toFixed(1)} s (restart took ${((upAt - restartAt) / 1000).toFixed(1)} s); ` +
        `${atKill.running.length} running and ${atKill.queued} queued at the kill; ${finishedAway.length} finished while away; ` +
        `all ${JOBS} completed ${((allDoneAt - upAt) / 1000).toFixed(1)} s after Redis was back`,
    );
  }, 300_000);

  // ioredis prints this for a connection without an 'error' listener when Redis dies; the store listens
  // on each of its connections and logs the outage once instead.
  it('the workers print no "Unhandled error event" (ioredis) while Redis is away', () => {
    for (const w of workers) {
      const noisy = w.err.join('').split('\n').filter((l) => l.includes('Unhandled error event'));
      expect(noisy, `${w.name} stderr`).toEqual([]);
    }
  });
});
