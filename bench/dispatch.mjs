#!/usr/bin/env node
// bench:dispatch: no-op jobs through real worker processes (the real worker
// loop and engine) on loopback, in four setups:
//   - the job server on SQLite, HTTP workers;
//   - the job server on the Redis/BullMQ store, HTTP workers;
//   - direct Redis workers (transport `redis`; the server only takes submits);
//   - raw BullMQ: a plain BullMQ Worker per process, no-op jobs, same Redis:
//     the baseline the two Redis setups are compared with.
// For each Sisyphus setup:
//  1. latency: with idle workers, submit one job at a time and measure
//     submit-to-start; printed beside the original worker's 10 s poll.
//  2. throughput: queue K jobs with the queue paused, resume, and time until
//     every job is reported done; jobs/s, and CPU per job from /proc.
// The three Redis setups stay up together and their throughput rounds are
// interleaved (Redis-store, direct, raw, then the other way round, and so
// on), so a background save or a busy neighbour on this shared machine hits
// all of them alike. After one uncounted warm-up drain each, every round
// gives each setup a rate and a ratio to the raw BullMQ drain of the same
// round; the medians count.
//
//   npm run bench:dispatch     (BENCH_WORKERS=4, BENCH_SAMPLES=200, BENCH_JOBS=2000, BENCH_ROUNDS=5,
//                               BENCH_REDIS=redis://127.0.0.1:6379/0, BENCH_ONLY=sqlite,redis,direct,raw)
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
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const only = new Set((process.env.BENCH_ONLY ?? 'sqlite,redis,direct,raw').split(','));
const redisUrl = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379/0';
/** Jobs of the uncounted first drain of each setup: the JIT, V8's heap sizing and compiled schema checks settle within a few thousand jobs. */
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 4000);

const now = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const prefixes = [];
const freshPrefix = () => {
  const prefix = `sisyphus-bench-${randomUUID()}`;
  prefixes.push(prefix);
  return prefix;
};

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

/**
 * Time a drain of `ids` (reported done in `done`, id -> epoch ms) started by
 * `start()`: jobs/s, and CPU per job of the workers, this process (server and
 * driver) and Redis while it ran.
 */
async function drain(children, ids, done, start) {
  const rpid = await redisServerPid();
  const before = { workers: children.reduce((t, c) => t + cpuMs(c.pid), 0), self: process.cpuUsage(), redis: cpuMs(rpid) };
  const t0 = now();
  await start();
  while (!ids.every((id) => done.has(id))) await sleep(20);
  const rate = ids.length / ((Math.max(...ids.map((id) => done.get(id))) - t0) / 1000);
  const self = process.cpuUsage(before.self);
  const per = (ms) => ((ms / ids.length) * 1000).toFixed(0);
  const cpu =
    `CPU per job: workers ${per(children.reduce((t, c) => t + cpuMs(c.pid), 0) - before.workers)} us, ` +
    `server+driver ${per((self.user + self.system) / 1000)} us, Redis ${per(cpuMs(rpid) - before.redis)} us (/proc, 10 ms ticks)`;
  return { rate, cpu };
}

/** Start worker processes running `script args`; resolves once each printed `ready`. */
async function startWorkers(script, argsOf, onLine) {
  const children = [];
  let stopping = false;
  const ready = [];
  for (let i = 0; i < workers; i++) {
    // BENCH_PROFILE=DIR writes a CPU profile of each worker process there.
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const child = spawn(process.execPath, [...profile, fileURLToPath(new URL(script, import.meta.url)), ...argsOf(i)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('exit', (code) => {
      if (code && !stopping) console.error(`worker ${i + 1} exited with ${code}`);
    });
    children.push(child);
    ready.push(
      new Promise((resolve) =>
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line === 'ready') resolve();
          else onLine(line.split(' '));
        }),
      ),
    );
  }
  await Promise.all(ready);
  return {
    children,
    async stop() {
      stopping = true;
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
    },
  };
}

/** A Sisyphus setup: a job server (and its store) plus worker processes on HTTP or, `direct`, on Redis. */
async function sisyphusSetup(label, storeOptions, direct = false) {
  const dir = await mkdtemp(join(tmpdir(), 'sisyphus-dispatch-'));
  const server = await startServer({ port: 0, db: join(dir, 'server.db'), acceptUnknownModules: true, clientExpirySeconds: 30, ...storeOptions });
  const api = server.url;
  const started = new Map();
  const done = new Map();
  const waiting = new Map();
  const call = async (method, path, body) => {
    const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const submit = (title) => call('POST', '/queue', { job_title: `noop ${title}`, tasks: [{ module: 'noop', data: {} }] });
  const setPaused = (disabled) => call('PATCH', '/queue', { disabled });
  const pool = await startWorkers(
    './dispatch-worker.mjs',
    (i) => [api, `bench-${i + 1}`, ...(direct ? [storeOptions.store, storeOptions.storePrefix] : [])],
    ([kind, id, a, b]) => {
      if (kind === 'start') {
        started.set(id, Number(a));
        waiting.get(id)?.();
      } else if (kind === 'done') done.set(id, Number(b ?? a));
    },
  );
  await sleep(500); // let every worker settle into its long-poll
  const rates = [];
  let cpu = '';
  return {
    label: `${label}: ${workers} worker processes (${direct ? 'direct Redis transport' : 'HTTP long-poll'}), loopback`,
    rates,
    /** Submit-to-start with idle workers, one job at a time. */
    async latency() {
      const latencies = [];
      for (let i = 0; i < samples; i++) {
        const t0 = now();
        const { job_id } = await submit(`latency ${i}`);
        if (!started.has(job_id)) await new Promise((resolve) => waiting.set(job_id, resolve));
        latencies.push(started.get(job_id) - t0);
        while (!done.has(job_id)) await sleep(1);
      }
      return latencies;
    },
    /** One throughput round: queue `count` jobs while paused, resume, drain (a warm-up round is not counted). */
    async round(n, count = jobs) {
      await setPaused(true);
      const ids = [];
      for (let i = 0; i < count; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => submit(`${n}-${i + k}`)));
        ids.push(...batch.map((b) => b.job_id));
      }
      const result = await drain(pool.children, ids, done, () => setPaused(false));
      if (n === 'warm-up') return;
      rates.push(result.rate);
      cpu = result.cpu;
      const history = await (await fetch(`${api}/jobs?state=completed&limit=1`)).json();
      if (!history.jobs?.length) throw new Error('no completed jobs in the history');
    },
    cpu: () => cpu,
    async close() {
      await pool.stop();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Raw BullMQ: the same number of worker processes, each a plain BullMQ Worker running no-op jobs. */
async function rawSetup() {
  const prefix = freshPrefix();
  const queue = new Queue('noop', { connection: { url: redisUrl }, prefix });
  await queue.pause();
  const done = new Map();
  const pool = await startWorkers('./bullmq-worker.mjs', () => [redisUrl, 'noop', prefix], ([kind, id, at]) => {
    if (kind === 'done') done.set(id, Number(at));
  });
  const rates = [];
  let cpu = '';
  return {
    label: `raw BullMQ: ${workers} worker processes (plain BullMQ Worker, no-op), same Redis`,
    rates,
    async round(n, count = jobs) {
      await queue.pause();
      const ids = [];
      for (let i = 0; i < count; i += 500) {
        const added = await queue.addBulk(Array.from({ length: Math.min(500, count - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
        ids.push(...added.map((job) => job.id));
      }
      const result = await drain(pool.children, ids, done, () => queue.resume());
      if (n === 'warm-up') return;
      rates.push(result.rate);
      cpu = result.cpu;
    },
    cpu: () => cpu,
    async close() {
      await pool.stop();
      await queue.close();
    },
  };
}

function report(setup, latencies) {
  console.log(`\n== ${setup.label}`);
  if (latencies) {
    console.log(`submit-to-start with idle workers, ${samples} jobs one at a time:`);
    console.log(`  p50 ${pct(latencies, 50).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   (targets: p50 < 20 ms, p99 < 100 ms)`);
    console.log(`  original worker (QUEUE_POLL_INTERVAL=10 s): p50 ~5000 ms, p99 ~9900 ms  -> ratio p50 ${(5000 / pct(latencies, 50)).toFixed(0)}x faster`);
  }
  const rates = setup.rates.map((r) => r.toFixed(0)).join(', ');
  console.log(`throughput: ${jobs} queued no-op jobs, ${setup.rates.length} rounds: ${rates} jobs/s; median ${median(setup.rates).toFixed(0)} jobs/s`);
  console.log(`  ${setup.cpu()} (last round)`);
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

const result = { sqlite: NaN, redis: NaN, direct: NaN, raw: NaN };
const open = [];
try {
  if (only.has('sqlite')) {
    const sqlite = await sisyphusSetup('server on SQLite', {});
    open.push(sqlite);
    const latencies = await sqlite.latency();
    await sqlite.round('warm-up', WARM_UP);
    for (let n = 0; n < rounds; n++) await sqlite.round(n);
    report(sqlite, latencies);
    result.sqlite = median(sqlite.rates);
    await sqlite.close();
    open.pop();
  }
  const setups = [];
  if (only.has('redis')) setups.push(['redis', await sisyphusSetup('server on the Redis/BullMQ store', { store: redisUrl, storePrefix: freshPrefix() })]);
  if (only.has('direct')) setups.push(['direct', await sisyphusSetup('direct Redis workers (server only for submitting)', { store: redisUrl, storePrefix: freshPrefix() }, true)]);
  if (only.has('raw')) setups.push(['raw', await rawSetup()]);
  open.push(...setups.map(([, s]) => s));
  const latencies = new Map();
  for (const [name, setup] of setups) if (setup.latency) latencies.set(name, await setup.latency());
  for (const [, setup] of setups) await setup.round('warm-up', WARM_UP);
  // Every other round runs the setups in reverse order, so none always goes first (or right after another).
  for (let n = 0; n < rounds; n++) for (const [, setup] of n % 2 ? [...setups].reverse() : setups) await setup.round(n);
  for (const [name, setup] of setups) {
    report(setup, latencies.get(name));
    result[name] = median(setup.rates);
  }
  const raw = setups.find(([name]) => name === 'raw')?.[1];
  /** `name`'s rate over raw BullMQ's, round by round (the two drains ran minutes apart at most): the median, and each. */
  const ratio = (name) => {
    const setup = setups.find(([n]) => n === name)?.[1];
    if (!setup || !raw) return 'NaN';
    const each = setup.rates.map((rate, i) => rate / raw.rates[i]);
    return `${median(each).toFixed(2)}x raw BullMQ (rounds: ${each.map((r) => r.toFixed(2)).join(', ')})`;
  };
  console.log(`\nsummary (medians of ${rounds} rounds; Redis setups interleaved):`);
  console.log(`  SQLite server ${result.sqlite.toFixed(0)} jobs/s (target >= 500)`);
  console.log(`  HTTP over the Redis store ${result.redis.toFixed(0)} jobs/s = ${ratio('redis')} (target >= 0.3x)`);
  console.log(`  direct Redis transport ${result.direct.toFixed(0)} jobs/s = ${ratio('direct')} (target >= 0.7x)`);
  console.log(`  raw BullMQ ${result.raw.toFixed(0)} jobs/s`);
} finally {
  for (const setup of open) await setup.close().catch((error) => console.error(`closing: ${error.message}`));
  await cleanRedis();
}
