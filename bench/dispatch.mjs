#!/usr/bin/env node
// bench:dispatch: no-op jobs through the job server (SQLite store) and N
// worker processes (the real worker loop and HTTP transport) on loopback.
//  1. latency: with idle (long-polling) workers, submit one job at a time and
//     measure submit-to-start; prints p50/p99 beside the original worker's
//     10 s poll interval (a job waits half a poll interval on average).
//  2. throughput: queue K jobs with the queue paused, resume, and time until
//     every job is reported done; prints jobs/s.
//
//  3. the same with the server on the Redis/BullMQ store, and raw BullMQ (a
//     plain BullMQ Worker per process, no-op jobs, same Redis) as the baseline
//     the Redis numbers are compared with.
//
//   npm run bench:dispatch     (BENCH_WORKERS=4, BENCH_SAMPLES=200, BENCH_JOBS=2000, BENCH_REDIS=redis://127.0.0.1:6379/0)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startServer } from '@sisyphus/server';

const workers = Number(process.env.BENCH_WORKERS ?? 4);
const samples = Number(process.env.BENCH_SAMPLES ?? 200);
const jobs = Number(process.env.BENCH_JOBS ?? 2000);
const now = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const redisUrl = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379/0';

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return NaN;
  }
}
let redisPid;
async function redisServerPid() {
  if (redisPid === undefined) {
    const redis = new Redis(redisUrl);
    redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    await redis.quit();
  }
  return redisPid;
}
/** CPU used while `fn` runs, per job: workers (children), this process (server + driver), Redis. */
async function cpuPerJob(children, count, fn) {
  const rpid = await redisServerPid();
  const before = { workers: children.reduce((t, c) => t + cpuMs(c.pid), 0), self: process.cpuUsage(), redis: cpuMs(rpid) };
  const value = await fn();
  const self = process.cpuUsage(before.self);
  const per = (ms) => ((ms / count) * 1000).toFixed(0);
  const line = `CPU per job: workers ${per(children.reduce((t, c) => t + cpuMs(c.pid), 0) - before.workers)} us, ` +
    `server+driver ${per((self.user + self.system) / 1000)} us, Redis ${per(cpuMs(rpid) - before.redis)} us (/proc, 10 ms ticks)`;
  return { value, line };
}
const prefixes = [];

async function dispatch(label, storeOptions, direct = false) {
const dir = await mkdtemp(join(tmpdir(), 'sisyphus-dispatch-'));
const server = await startServer({ port: 0, db: join(dir, 'server.db'), acceptUnknownModules: true, clientExpirySeconds: 30, ...storeOptions });
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
    const child = spawn(process.execPath, [...profile, fileURLToPath(new URL('./dispatch-worker.mjs', import.meta.url)), api, `bench-${i + 1}`, ...(direct ? [storeOptions.store, storeOptions.storePrefix] : [])], {
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
  const { line: cpuLine } = await cpuPerJob(children, jobs, async () => {
    await setPaused(false);
    while (!ids.every((id) => done.has(id))) await new Promise((r) => setTimeout(r, 20));
  });
  const seconds = (Math.max(...ids.map((id) => done.get(id))) - t0) / 1000;
  const history = await (await fetch(`${api}/jobs?state=completed&limit=1`)).json();

  console.log(`\n== ${label}: ${workers} worker processes (${direct ? 'direct Redis transport' : 'HTTP long-poll'}), loopback`);
  console.log(`submit-to-start with idle workers, ${samples} jobs one at a time:`);
  console.log(`  p50 ${pct(latencies, 50).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   (targets: p50 < 20 ms, p99 < 100 ms)`);
  console.log(`  original worker (QUEUE_POLL_INTERVAL=10 s): p50 ~5000 ms, p99 ~9900 ms  -> ratio p50 ${(5000 / pct(latencies, 50)).toFixed(0)}x faster`);
  console.log(`throughput: ${jobs} queued no-op jobs drained in ${seconds.toFixed(2)} s = ${(jobs / seconds).toFixed(0)} jobs/s (target >= 500 with 4 workers)`);
  console.log(`  ${cpuLine}`);
  if (!history.jobs?.length) throw new Error('no completed jobs in the history');
  return jobs / seconds;
} finally {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
}

/** Raw BullMQ: the same number of worker processes, each a plain BullMQ Worker; jobs/s draining `jobs` no-op jobs. */
async function rawBullmq() {
  const prefix = `sisyphus-bench-${randomUUID()}`;
  prefixes.push(prefix);
  const queue = new Queue('noop', { connection: { url: redisUrl }, prefix });
  await queue.pause();
  for (let i = 0; i < jobs; i += 500) await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  const children = [];
  const finished = new Map();
  try {
    await Promise.all(
      Array.from({ length: workers }, () => {
        const child = spawn(process.execPath, [fileURLToPath(new URL('./bullmq-worker.mjs', import.meta.url)), redisUrl, 'noop', prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        return new Promise((resolve) =>
          createInterface({ input: child.stdout }).on('line', (line) => {
            const [kind, id, at] = line.split(' ');
            if (kind === 'ready') resolve();
            else if (kind === 'done') finished.set(id, Number(at));
          }),
        );
      }),
    );
    const t0 = now();
    const { line: cpuLine } = await cpuPerJob(children, jobs, async () => {
      await queue.resume();
      while (finished.size < jobs) await new Promise((r) => setTimeout(r, 20));
    });
    const seconds = (Math.max(...finished.values()) - t0) / 1000;
    console.log(`\n== raw BullMQ: ${workers} worker processes (plain BullMQ Worker, no-op), same Redis`);
    console.log(`throughput: ${jobs} queued no-op jobs drained in ${seconds.toFixed(2)} s = ${(jobs / seconds).toFixed(0)} jobs/s`);
    console.log(`  ${cpuLine}`);
    return jobs / seconds;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await queue.close();
  }
}

async function cleanRedis() {
  const redis = new Redis(redisUrl);
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  await redis.quit();
}

// BENCH_ONLY=sqlite,redis,direct,raw runs some of the setups (the summary needs all four).
const only = new Set((process.env.BENCH_ONLY ?? 'sqlite,redis,direct,raw').split(','));
const fresh = () => {
  const prefix = `sisyphus-bench-${randomUUID()}`;
  prefixes.push(prefix);
  return prefix;
};
try {
  const sqlite = only.has('sqlite') ? await dispatch('server on SQLite', {}) : NaN;
  const redisStore = only.has('redis') ? await dispatch('server on the Redis/BullMQ store', { store: redisUrl, storePrefix: fresh() }) : NaN;
  const directRedis = only.has('direct') ? await dispatch('direct Redis workers (server only for submitting)', { store: redisUrl, storePrefix: fresh() }, true) : NaN;
  const raw = only.has('raw') ? await rawBullmq() : NaN;
  console.log(`\nsummary: SQLite server ${sqlite.toFixed(0)} jobs/s`);
  console.log(`         HTTP over the Redis store ${redisStore.toFixed(0)} jobs/s = ${(redisStore / raw).toFixed(2)}x raw BullMQ (target >= 0.3x)`);
  console.log(`         direct Redis transport ${directRedis.toFixed(0)} jobs/s = ${(directRedis / raw).toFixed(2)}x raw BullMQ (target >= 0.7x)`);
  console.log(`         raw BullMQ ${raw.toFixed(0)} jobs/s`);
} finally {
  await cleanRedis();
}
