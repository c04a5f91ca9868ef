#!/usr/bin/env node
// bench:dispatch: no-op jobs through the job server (SQLite store) and N
// worker processes (the real worker loop and HTTP transport) on loopback.
//  1. latency: with idle (long-polling) workers, submit one job at a time and
//     measure submit-to-start; prints p50/p99 beside the original worker's
//     10 s poll interval (a job waits half a poll interval on average).
//  2. throughput: queue K jobs with the queue paused, resume, and time until
//     every job is reported done; prints jobs/s.
//
//   npm run bench:dispatch     (BENCH_WORKERS=4, BENCH_SAMPLES=200, BENCH_JOBS=2000)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@sisyphus/server';

const workers = Number(process.env.BENCH_WORKERS ?? 4);
const samples = Number(process.env.BENCH_SAMPLES ?? 200);
const jobs = Number(process.env.BENCH_JOBS ?? 2000);
const now = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const dir = await mkdtemp(join(tmpdir(), 'sisyphus-dispatch-'));
const server = await startServer({ port: 0, db: join(dir, 'server.db'), acceptUnknownModules: true, clientExpirySeconds: 30 });
const api = server.url;
const children = [];
let stopping = false;
const started = new Map();
const done = new Map();
const waiting = new Map();

async function post(path, body) {
  const res = await fetch(`${api}${path}`, { method: body === undefined ? 'PATCH' : 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
const submit = (i) => post('/queue', { job_title: `noop ${i}`, tasks: [{ module: 'noop', data: {} }] });
const setPaused = (disabled) =>
  fetch(`${api}/queue`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ disabled }) });

try {
  const ready = [];
  for (let i = 0; i < workers; i++) {
    // BENCH_PROFILE=DIR writes a CPU profile of each worker process there.
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const child = spawn(process.execPath, [...profile, fileURLToPath(new URL('./dispatch-worker.mjs', import.meta.url)), api, `bench-${i + 1}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.once('exit', (code) => {
      if (code && !stopping) console.error(`worker ${i + 1} exited with ${code}`);
    });
    children.push(child);
    ready.push(
      new Promise((resolve) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const [kind, id, a, b] = line.split(' ');
          if (kind === 'ready') resolve();
          else if (kind === 'start') {
            started.set(id, Number(a));
            waiting.get(id)?.();
          } else if (kind === 'done') done.set(id, Number(b ?? a));
        });
      }),
    );
  }
  await Promise.all(ready);
  await new Promise((r) => setTimeout(r, 500)); // let every worker settle into its long-poll

  // 1. Latency with idle workers.
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const t0 = now();
    const { job_id } = await submit(i);
    if (!started.has(job_id)) await new Promise((resolve) => waiting.set(job_id, resolve));
    latencies.push(started.get(job_id) - t0);
    while (!done.has(job_id)) await new Promise((r) => setTimeout(r, 1));
  }

  // 2. Throughput: queue K jobs while paused, then let the workers drain it.
  await setPaused(true);
  const ids = [];
  for (let i = 0; i < jobs; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, jobs - i) }, (_, k) => submit(samples + i + k)));
    ids.push(...batch.map((b) => b.job_id));
  }
  const t0 = now();
  await setPaused(false);
  while (!ids.every((id) => done.has(id))) await new Promise((r) => setTimeout(r, 20));
  const seconds = (Math.max(...ids.map((id) => done.get(id))) - t0) / 1000;
  const history = await (await fetch(`${api}/jobs?state=completed&limit=1`)).json();

  console.log(`workers: ${workers} (separate processes, HTTP long-poll), server: SQLite file, loopback`);
  console.log(`submit-to-start with idle workers, ${samples} jobs one at a time:`);
  console.log(`  p50 ${pct(latencies, 50).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   (targets: p50 < 20 ms, p99 < 100 ms)`);
  console.log(`  original worker (QUEUE_POLL_INTERVAL=10 s): p50 ~5000 ms, p99 ~9900 ms  -> ratio p50 ${(5000 / pct(latencies, 50)).toFixed(0)}x faster`);
  console.log(`throughput: ${jobs} queued no-op jobs drained in ${seconds.toFixed(2)} s = ${(jobs / seconds).toFixed(0)} jobs/s (target >= 500 with 4 workers)`);
  if (!history.jobs?.length) throw new Error('no completed jobs in the history');
} finally {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
