import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';
import { CliProcesses, alive, apiCall, encodeJob, ffmpegChildren, freePort, logLines, until } from './support/processes.js';

// A whole system on one machine: a real server process and real worker
// processes, talking HTTP on loopback.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
let dir = '';
let api = '';
let port = 0;



const call = <T = any>(method: string, path: string, body?: unknown) => apiCall<T>(api, method, path, body);

const cli = new CliProcesses(bin, () => dir);
const procs = cli.list;
const start = (name: string, args: string[], env: Record<string, string> = {}) => cli.start(name, args, env);

async function startServer() {
  const server = start('server', ['server', '--config', join(dir, 'server.yaml')]);
  await until('the server', async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined);
  return server;
}

const startWorker = (id: string) =>
  start(`worker ${id}`, ['worker', '--config', join(dir, 'worker.yaml')], { HOST_UUID: id, HOSTNAME_OVERRIDE: `host-${id}`, API_URL: api });

async function stop(entry: { child: ChildProcess }, signal: NodeJS.Signals = 'SIGTERM') {
  if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
  const exited = new Promise((r) => entry.child.once('exit', r));
  entry.child.kill(signal);
  await exited;
}




type JobView = { job_id: string; state: string; worker_id?: string; attempts: number; result?: { worker_id?: string; message?: string } };
const job = async (id: string) => (await call<JobView>('GET', `/jobs/${id}`)).json;
const startsOf = (id: string) => cli.startsOf(id);

/** Wait until job `id` runs: its worker (the live process of that id) and that worker's ffmpeg pids. */
async function runningEncode(id: string) {
  const holder = await until('the encode to start', async () => {
    const j = await job(id);
    return j.state === 'running' && j.worker_id ? j.worker_id : undefined;
  });
  const worker = procs.filter((p) => p.name === `worker ${holder}` && p.child.exitCode === null && p.child.signalCode === null).at(-1)!;
  const ffmpegs = await until('its ffmpeg', () => {
    const pids = ffmpegChildren(worker.child.pid!);
    return pids.length ? pids : undefined;
  });
  return { holder, worker, ffmpegs };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-cluster-'));
  port = await freePort();
  api = `http://127.0.0.1:${port}`;
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'out'));
  await makeSample(join(dir, 'in', 'short.mkv'), { duration: 1, size: '160x120' });
  await makeSample(join(dir, 'in', 'long.mkv'), { duration: 40, size: '640x360' });
  await writeFile(join(dir, 'server.yaml'), `server:\n  port: ${port}\n  db: ${join(dir, 'server.db')}\n  leaseSeconds: 3\n  clientExpirySeconds: 10\n  maxAttempts: 5\n`);
  await writeFile(join(dir, 'worker.yaml'), `worker:\n  heartbeatInterval: 0.5\n  pollInterval: 5\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, 'state')}\n`);
  await startServer();
  startWorker('wA');
  startWorker('wB');
  await until('two workers', async () => (await call<{ count: number }>('GET', '/workers')).json.count === 2 || undefined);
}, 120_000);

afterAll(async () => {
  for (const p of [...procs].reverse()) await stop(p, 'SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a whole system on one machine', () => {
  it('20 jobs (cleanup and tiny ffmpeg) across 2 workers all complete exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const body =
        i % 4 === 3
          ? encodeJob(`encode ${i}`, join(dir, 'in', 'short.mkv'), join(dir, 'out', `enc-${i}.mkv`))
          : { job_title: `copy ${i} & co`, tasks: [{ module: 'cleanup', data: { copy: [{ source: join(dir, 'in', 'short.mkv'), destination: join(dir, 'out', `copy-${i}.mkv`) }] } }] };
      const res = await call<{ job_id: string }>('POST', '/queue', body);
      expect(res.status).toBe(200);
      ids.push(res.json.job_id);
    }
    await until('20 completed jobs', async () => (await Promise.all(ids.map(job))).every((j) => j.state === 'completed') || undefined, 90_000);
    const jobs = await Promise.all(ids.map(job));
    expect(new Set(jobs.map((j) => j.result?.worker_id))).toEqual(new Set(['wA', 'wB']));
    for (const j of jobs) {
      expect(j.attempts).toBe(1);
      expect(startsOf(j.job_id)).toBe(1);
    }
    for (let i = 0; i < 20; i++) expect(existsSync(join(dir, 'out', i % 4 === 3 ? `enc-${i}.mkv` : `copy-${i}.mkv`))).toBe(true);
    expect((await call('GET', '/queue')).json.entries).toBe(0);
  }, 120_000);

  it('kill -9 of a worker mid-encode: its ffmpeg dies with it, the job is requeued and completed by the other worker', async () => {
    const { json } = await call<{ job_id: string }>('POST', '/queue', encodeJob('long encode', join(dir, 'in', 'long.mkv'), join(dir, 'out', 'long.mkv'), 'medium'));
    const id = json.job_id;
    const { holder, worker: victim, ffmpegs } = await runningEncode(id);
    await stop(victim, 'SIGKILL');
    await until('the orphaned ffmpeg to die', () => ffmpegs.every((p) => !alive(p)) || undefined, 3000);
    const done = await until('the job to complete elsewhere', async () => {
      const j = await job(id);
      return j.state === 'completed' ? j : undefined;
    }, 90_000);
    expect(done.attempts).toBe(2);
    expect(done.result?.worker_id).not.toBe(holder);
    // Bring a worker back for the next tests.
    startWorker(holder);
  }, 120_000);

  it('a worker frozen past its lease (SIGSTOP): the job is taken over and completes; the woken worker promotes nothing and removes only its own files', async () => {
    const out = join(dir, 'out', 'frozen');
    await mkdir(out);
    const target = join(out, 'frozen.mkv');
    const { json } = await call<{ job_id: string }>('POST', '/queue', encodeJob('frozen worker', join(dir, 'in', 'long.mkv'), target, 'medium'));
    const id = json.job_id;
    const { holder, worker: zombie } = await runningEncode(id);
    zombie.child.kill('SIGSTOP');
    try {
      // The lease (3 s) runs out; the other worker takes the job over and starts its own encode.
      await until('the job to run on the other worker', async () => {
        const j = await job(id);
        return j.state === 'running' && j.worker_id && j.worker_id !== holder ? j : undefined;
      }, 30_000);
      await until('two attempt folders (the frozen one and the new one)', async () => (await readdir(out)).filter((n) => n.startsWith('.sisyphus-tmp-')).length === 2 || undefined, 20_000);
    } finally {
      zombie.child.kill('SIGCONT');
    }
    const done = await until('the job to complete', async () => {
      const j = await job(id);
      return j.state === 'completed' ? j : undefined;
    }, 120_000);
    expect(done.attempts).toBe(2);
    expect(done.result?.worker_id).not.toBe(holder);
    // Woken, it either hears from the server that the job is no longer its own (heartbeat: cancel) or
    // finds at promotion that its claim was taken over; either way it promotes nothing.
    const gaveUp = new RegExp(`the server cancelled job ${id}|output_file: this attempt lost its claim on ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} to (job ${id}|nobody: the claim file is gone)`);
    await until('the woken worker to give up', () => logLines(zombie).some((l) => gaveUp.test(l.message)) || undefined, 60_000);
    expect(logLines(zombie).filter((l) => l.message.startsWith(`job ${id} done`))).toEqual([]);
    // One complete file (40 s at 24 fps); neither attempt's folder nor the claim is left.
    const { stdout } = await execa('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', target]);
    expect(Number(stdout.trim())).toBe(960);
    await until('only the output in its folder', async () => ((await readdir(out)).join() === 'frozen.mkv') || undefined, 10_000);
  }, 240_000);

  it('a cancelled running job stops: ffmpeg killed, state cancelled', async () => {
    const { json } = await call<{ job_id: string }>('POST', '/queue', encodeJob('to cancel', join(dir, 'in', 'long.mkv'), join(dir, 'out', 'cancelled.mkv'), 'medium'));
    const id = json.job_id;
    const { ffmpegs } = await runningEncode(id);
    expect((await call('POST', `/jobs/${id}/cancel`)).json.status).toBe('requested');
    await until('the job to end cancelled', async () => (await job(id)).state === 'cancelled' || undefined, 20_000);
    expect(ffmpegs.some(alive)).toBe(false);
    expect(existsSync(join(dir, 'out', 'cancelled.mkv'))).toBe(false);
  }, 60_000);

  it('a server restart mid-run loses nothing', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await call<{ job_id: string }>('POST', '/queue', encodeJob(`restart ${i}`, join(dir, 'in', 'short.mkv'), join(dir, 'out', `restart-${i}.mkv`)))).json.job_id);
    await until('a job to run', async () => (await Promise.all(ids.map(job))).some((j) => j.state !== 'queued') || undefined);
    const server = procs.find((p) => p.name === 'server' && p.child.exitCode === null)!;
    await stop(server, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    await startServer();
    await until('every job to complete', async () => (await Promise.all(ids.map(job))).every((j) => j.state === 'completed') || undefined, 90_000);
    for (let i = 0; i < 6; i++) expect(existsSync(join(dir, 'out', `restart-${i}.mkv`))).toBe(true);
  }, 120_000);
});
