#!/usr/bin/env node
// bench:scale: how the job server holds up as the store grows (issue 11 §3).
// For each store (SQLite, Redis/BullMQ) and each scenario of H finished jobs
// in the history x Q queued jobs, a fresh server in a child process
// (bench/scale-server.mjs, so its RSS is its own and the load generator does
// not share its event loop) is measured from here over loopback HTTP
// (fetch, keep-alive):
//   - submit: BENCH_SUBMITS sequential `POST /queue` (p50, p99), nothing else
//     running; they alternate, in blocks of 10, with as many to an empty server
//     of the same kind started beside it, so the submit target is checked on a
//     paired ratio (the machine's other load hits both alike);
//   - heartbeats: BENCH_WORKERS simulated workers (bench/scale-heartbeats.mjs,
//     another child process), each holding a leased job and sending
//     `POST /workers/{id}` every BENCH_BEAT_MS, first with nothing else
//     running ("alone"), then while BENCH_POLLERS "dashboards" poll:
//       1. `GET /queue` (the whole queue, original shape);
//       2. `GET /queue?limit=100`, alternately the first page and a deep one
//          (cursor half-way down the queue);
//       3. `GET /jobs?state=completed&limit=50`, alternately the first page and
//          a deep one (cursor half-way down the completed history);
//       4. `GET /queue` (whole queue) "with churn": meanwhile a churner submits
//          one job (`POST /queue`) and deletes one queued job (`DELETE /jobs/{id}`,
//          from half-way down the queue) every BENCH_CHURN_MS through the same
//          server, so every listing the server sends may have to be read again
//          (it re-reads after a change, at most every four read lengths once a
//          read takes over 50 ms; 1-3 only measure its cached listing); the
//          queue length stays the same;
//     each poller makes BENCH_CALLS calls per listing, one every
//     BENCH_PHASE_MS / BENCH_CALLS ms (back to back when a call takes longer);
//   - the server's own event-loop stalls meanwhile (perf_hooks in the child;
//     they include time the OS did not run it: on a busy machine, see the next),
//     its GC pauses (PerformanceObserver 'gc': the longest one per phase, its
//     kind, the total), its CPU use, the share of the time its main thread was
//     runnable but waited for a CPU (/proc schedstat), who used the CPUs (this
//     process, the heartbeats, the server, the rest), and how long a heartbeat
//     took inside the server and in its store calls (bench/scale-server.mjs);
//   - server RSS (VmRSS at the end, peak VmHWM) from /proc/PID/status;
//   - the share of the CPUs other processes took meanwhile ("other load").
// Every value is printed with its ratio to the empty store (H = 0 and the
// smallest Q, the first scenario) of the same run, and the issue's targets are
// marked PASS/FAIL: submit flat (p50 and p99 <= 1.5x the paired empty server),
// heartbeat p99 < 20 ms during the listings, `GET /jobs` page p99 < 200 ms (first
// and deep pages), peak RSS < 1 GB. The targets are meant at 1M finished jobs;
// smaller scenarios are checked against them too. Times wobble on this shared
// 2-core machine (the server, Redis, the heartbeat process and this one share
// it, and other people's tests): before each scenario the bench waits up to
// BENCH_QUIET_S seconds for the other load to drop under 25% of the CPUs; read
// ratios, and p99 of a few dozen calls is close to their maximum.
//
// Seeding: SQLite files are written directly before the server starts (schema
// from openSqliteStore, rows as submit/finish write them, big transactions).
// On Redis, finished jobs are written with pipelines in the store's layout
// (record hash PREFIX:sis:job:ID, zsets PREFIX:sis:all and PREFIX:sis:state:<state>
// scored by finish ms; BullMQ's own copies of finished jobs are not written),
// queued jobs go through BullmqStore.submit (BullMQ needs them), many at a time.
// Scenarios of one H share one seeded history: the queue is topped up from one Q
// to the next between servers. Each H gets a fresh Redis prefix, deleted after.
// Finished jobs: 95% completed, 4% failed, 1% cancelled, ~500-byte job documents
// and ~400-byte result records, finished over the last 30 days.
//
//   npm run bench:scale        (BENCH_STORES=sqlite,redis BENCH_HISTORY=0,100000,1000000 BENCH_QUEUED=10000,100000
//                               BENCH_SUBMITS=300 BENCH_CALLS=10 BENCH_PHASE_MS=4000 BENCH_POLLERS=4
//                               BENCH_WORKERS=8 BENCH_BEAT_MS=100 BENCH_IDLE_MS=2000 BENCH_QUIET_S=30
//                               BENCH_CHURN_MS=100 BENCH_REDIS=redis://127.0.0.1:6379/0)
//   BENCH_QUICK=1 npm run bench:scale   (BENCH_HISTORY=0,20000 BENCH_QUEUED=2000,10000 BENCH_CALLS=6
//                                        BENCH_PHASE_MS=2500 BENCH_IDLE_MS=1500 BENCH_QUIET_S=10; about 2-3 minutes)
// BENCH_KEEP=1 keeps the SQLite files (their directory is printed).
// BENCH_PARTS=queue,dashboard,routing (default all three): `queue` is everything above; `dashboard` (issue 14,
// bench/scale-dashboard.mjs, after it) measures the dashboard's requests on 100,000 finished and 10,000
// queued jobs against 1,000: the history page (GET /jobs with a state, a title, a worker, a time range,
// and a deep cursor) and GET /status/overview (p99 < 200 ms), the events route's throughput to 20
// connected clients while heartbeats with progress flow, and the server's RSS (< 1 GB); its own knobs
// (BENCH_DASH_*, BENCH_SSE_*) are described there. `BENCH_PARTS=dashboard npm run bench:scale` runs it alone.
// `routing` (issue 16, bench/scale-routing.mjs): a worker's polls behind 10,000 queued jobs only an absent
// worker could run, against the same polls with nothing blocking (BENCH_ROUTING_BLOCKED, BENCH_ROUTING_POLLS).
// `watch` (issue 16, bench/watch-scan.mjs in a child process, so its RSS is its own): a watch rule over
// 10,000 files in a tree: first scan, settle, rescan, dry run, rescan after changes; time and peak RSS.
// BENCH_STALLS=queue,queue-churn prints, for those phases, the server's stalls over 20 ms and how much of them its
// main thread ran, waited for a CPU, and GC covered (a 5 ms timer in the server: a little load of its own).
// BENCH_PROFILE=queue-churn (phase names: idle, queue, queue-paged, jobs, queue-churn; comma-separated)
// writes a CPU profile of the server over those phases (bench/scale-server.mjs; BENCH_PROFILE_DIR, else a
// directory that is printed; BENCH_PROFILE_US sampling interval, default 200).
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openSqliteStore, prepareSubmission } from '@sisyphus/server';
import {
  call, children, cores, cpuTicks, cursorAt, deleteRedisKeys as deleteKeysUnder, fmtMB, fmtMs, fmtN, jobBody, log, machineTicks, memoryOf, nextMessage,
  now, pct, progress, rate, sleep, startChild, startServerChild, timedGet, waitForQuiet,
} from './scale-lib.mjs';
import { reportDashboard, runDashboardBench } from './scale-dashboard.mjs';
import { reportRouting, runRoutingBench } from './scale-routing.mjs';
import { runWatchBench } from './scale-watch.mjs';

const quick = process.env.BENCH_QUICK === '1';
const list = (name, fallback) => (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const num = (name, fallback) => Number(process.env[name] ?? fallback);
const stores = list('BENCH_STORES', 'sqlite,redis');
const histories = list('BENCH_HISTORY', quick ? '0,20000' : '0,100000,1000000').map(Number).sort((a, b) => a - b);
const queueds = list('BENCH_QUEUED', quick ? '2000,10000' : '10000,100000').map(Number).sort((a, b) => a - b);
const submits = num('BENCH_SUBMITS', 300);
const calls = num('BENCH_CALLS', quick ? 6 : 10);
const phaseMs = num('BENCH_PHASE_MS', quick ? 2500 : 4000);
const idleMs = num('BENCH_IDLE_MS', quick ? 1500 : 2000);
const pollers = num('BENCH_POLLERS', 4);
const workerCount = num('BENCH_WORKERS', 8);
const beatMs = num('BENCH_BEAT_MS', 100);
const redisUrl = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379/0';
const keep = process.env.BENCH_KEEP === '1';
const quietS = num('BENCH_QUIET_S', quick ? 10 : 30);
const churnMs = num('BENCH_CHURN_MS', 100);
const parts = list('BENCH_PARTS', 'queue,dashboard,routing,watch');

const TARGET = { submitRatio: 1.5, heartbeatMs: 20, jobsPageMs: 200, rssBytes: 1024 ** 3 };
const DAY = 86_400_000;
const deleteRedisKeys = (prefix) => deleteKeysUnder(redisUrl, prefix);
/** The longest GC pause of a phase, its kind, and all GC pauses of the phase (count, total). */
const fmtGc = (gc) => (gc ? `${fmtMs(gc.max)} ms ${gc.maxKind} (${gc.count} GCs, ${fmtMs(gc.ms)} ms)` : '-');
const fmtInside = (t) => (t?.http ? `${fmtMs(t.http.p99)} (${['heartbeat', 'renew', 'get'].map((k) => fmtMs(t[k]?.p99)).join('/')})` : '-');
/** BENCH_STALLS: the stalls of a phase, and how much of them the server's main thread ran, waited for a CPU, and GC covered. */
const fmtStalls = (x) => {
  if (!x) return '-';
  const parts = (y) => `ran ${fmtMs(y.runMs)}, waited for a CPU ${fmtMs(y.waitMs)}, GC ${fmtMs(y.gcMs)}`;
  return `${x.n} stalls, ${fmtMs(x.ms)} ms (${parts(x)})${x.longest ? `, longest ${fmtMs(x.longest.ms)} (${parts(x.longest)})` : ''}`;
};
const fmtCpu = (c) => (c?.main !== undefined ? ['main', 'hb', 'server', 'rest'].map((k) => c[k].toFixed(0)).join('/') : '-');

// ---- what the jobs look like (jobBody: scale-lib.mjs) ----

const STATES = (i) => (i % 100 < 95 ? 'completed' : i % 100 < 99 ? 'failed' : 'cancelled');

/** A finished job as submit + finish leave it: document (~500 B), result record (~400 B) and times. */
function historyJob(i, h, base) {
  const jobId = randomUUID();
  const body = jobBody(i);
  const finishedMs = base + Math.floor((i * 30 * DAY) / Math.max(1, h));
  const runtime = 5 + (i % 600);
  const startedMs = finishedMs - runtime * 1000;
  const addedMs = startedMs - 1000 * (1 + (i % 300));
  const added = new Date(addedMs).toISOString();
  const state = STATES(i);
  const worker = `encoder-${i % 16}`;
  const result = {
    start_time: new Date(startedMs).toISOString(),
    end_time: new Date(finishedMs).toISOString(),
    runtime,
    worker: `${worker}.media.lan`,
    worker_id: worker,
    version: '0.1.0',
    completed: state === 'completed',
    ...(state !== 'completed' ? { module: 'cleanup', message: state === 'failed' ? 'cleanup: EACCES: permission denied, unlink sample.mkv' : 'cancelled' } : {}),
    job_id: jobId,
    job_title: body.job_title,
    failed: state !== 'completed',
    cancelled: state === 'cancelled',
    tasks: [{ index: 0, module: 'cleanup', status: state === 'completed' ? 'done' : state, durations: { init: 1, validate: 0, run: runtime * 1000, cleanup: 2 } }],
  };
  return {
    job_id: jobId,
    job_title: body.job_title,
    document: JSON.stringify({ ...body, job_id: jobId, added }),
    state,
    added,
    addedMs,
    worker,
    started_at: new Date(startedMs).toISOString(),
    finished_at: new Date(finishedMs).toISOString(),
    finishedMs,
    result: JSON.stringify(result),
    reason: state === 'cancelled' ? 'cancelled' : null,
  };
}

/** A queued job exactly as `POST /queue` makes it (NewJob). */
const queuedJob = (n, addedMs) => prepareSubmission(jobBody(n), undefined, true, new Date(addedMs));

// ---- seeding: SQLite ----

async function sqliteSeedHistory(file, h) {
  const store = openSqliteStore(file);
  try {
    const db = store.db;
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288'); // 512 MB, this connection only
    if (h === 0) return;
    const insert = db.prepare(
      `INSERT INTO jobs (job_id, job_title, job, state, priority, seq, added, attempts, worker_id, started_at, finished_at, result, reason)
       VALUES (?, ?, ?, ?, 0, ?, ?, 1, ?, ?, ?, ?, ?)`,
    );
    const base = Date.now() - 31 * DAY;
    const bar = progress('history rows (SQLite)', h);
    const BATCH = 20_000;
    for (let from = 0; from < h; from += BATCH) {
      db.transaction(() => {
        for (let i = from; i < Math.min(h, from + BATCH); i++) {
          const j = historyJob(i, h, base);
          insert.run(j.job_id, j.job_title, j.document, j.state, i + 1, j.added, j.worker, j.started_at, j.finished_at, j.result, j.reason);
        }
      })();
      bar.tick(Math.min(h, from + BATCH));
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    bar.end(h);
  } finally {
    await store.close();
  }
}

/** Add queued jobs until `target` are queued; returns how many were added. */
async function sqliteTopUpQueue(file, target) {
  const store = openSqliteStore(file);
  try {
    const db = store.db;
    db.pragma('synchronous = OFF');
    const have = db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'`).get().n;
    const add = target - have;
    if (add <= 0) return 0;
    let seq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM jobs').get().s;
    const insert = db.prepare(`INSERT INTO jobs (job_id, job_title, job, state, priority, seq, added, attempts) VALUES (?, ?, ?, 'queued', ?, ?, ?, 0)`);
    const bar = progress('queued rows (SQLite)', add);
    const t = Date.now() - add;
    const BATCH = 20_000;
    for (let from = 0; from < add; from += BATCH) {
      db.transaction(() => {
        for (let i = from; i < Math.min(add, from + BATCH); i++) {
          const job = queuedJob(have + i, t + i);
          insert.run(job.job_id, job.job_title, JSON.stringify(job.job), job.priority, ++seq, job.added);
        }
      })();
      bar.tick(Math.min(add, from + BATCH));
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    bar.end(add);
    return add;
  } finally {
    await store.close();
  }
}

// ---- seeding: Redis ----

async function redisSeedHistory(prefix, h) {
  if (h === 0) return;
  const redis = new Redis(redisUrl);
  try {
    const base = Date.now() - 31 * DAY;
    const key = (s) => `${prefix}:sis:${s}`;
    const bar = progress('history records (Redis)', h);
    const BATCH = 5000;
    const inFlight = new Set();
    for (let from = 0; from < h; from += BATCH) {
      const pipeline = redis.pipeline();
      const byState = { completed: [], failed: [], cancelled: [] };
      const all = [];
      for (let i = from; i < Math.min(h, from + BATCH); i++) {
        const j = historyJob(i, h, base);
        // The fields the SUBMIT, LEASE and FINISH scripts leave on a finished job's record.
        const fields = ['job_title', j.job_title, 'job', j.document, 'state', j.state, 'priority', '0', 'added', j.added, 'added_ms', String(j.addedMs),
          'attempts', '1', 'worker_id', j.worker, 'started_at', j.started_at, 'finished_at', j.finished_at, 'result', j.result];
        if (j.reason !== null) fields.push('reason', j.reason);
        pipeline.hset(key(`job:${j.job_id}`), ...fields);
        byState[j.state].push(j.finishedMs, j.job_id);
        all.push(j.finishedMs, j.job_id);
      }
      for (const [state, members] of Object.entries(byState)) if (members.length) pipeline.zadd(key(`state:${state}`), ...members);
      pipeline.zadd(key('all'), ...all);
      const p = pipeline.exec().then((replies) => {
        const failed = replies?.find(([error]) => error);
        if (failed) throw failed[0];
      });
      inFlight.add(p);
      p.finally(() => inFlight.delete(p)).catch(() => undefined);
      if (inFlight.size >= 2) await Promise.race(inFlight);
      bar.tick(Math.min(h, from + BATCH));
    }
    await Promise.all(inFlight);
    bar.end(h);
  } finally {
    await redis.quit();
  }
}

/** Queued jobs through the store's real submit (BullMQ's queue and our records), `concurrency` at a time. */
async function redisTopUpQueue(prefix, target) {
  const { BullmqStore } = await import('@sisyphus/redis');
  const store = await BullmqStore.open({ connection: redisUrl, prefix, stalledCheck: false });
  try {
    const have = await store.queueLength();
    const add = target - have;
    if (add <= 0) return 0;
    const bar = progress('queued jobs (Redis, BullmqStore.submit x64)', add);
    const t = Date.now() - add;
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < add) {
          const i = next++;
          await store.submit(queuedJob(have + i, t + i));
          if (i % 1000 === 0) bar.tick(i);
        }
      }),
    );
    bar.end(add);
    return add;
  } finally {
    await store.close();
  }
}

async function redisMemory() {
  const redis = new Redis(redisUrl);
  try {
    return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  } finally {
    await redis.quit();
  }
}

// ---- polling dashboards and churn (the server child, /proc readings and HTTP calls: scale-lib.mjs) ----

/**
 * `pollers` dashboards, each making `calls` GETs of `pathOf(i)` (label, path),
 * one every `phaseMs / calls` ms or back to back when slower. Latencies by label.
 */
async function dashboards(api, pathOf) {
  const period = phaseMs / calls;
  const byLabel = {};
  let bytes = 0;
  await Promise.all(
    Array.from({ length: pollers }, async (_, p) => {
      await sleep((p * period) / pollers);
      for (let i = 0; i < calls; i++) {
        const t0 = now();
        const { label, path } = pathOf(i, p);
        const r = await timedGet(api, path);
        (byLabel[label] ??= []).push(r.ms);
        bytes = Math.max(bytes, r.bytes);
        const left = t0 + period - now();
        if (left > 0) await sleep(left);
      }
    }),
  );
  return { byLabel, bytes };
}

/**
 * Until stop() is called: every `churnMs`, submit one job and delete one queued job (`victims`, queued ids
 * from the middle of the queue; then the jobs it submitted itself), one request after the other, as a
 * submitter tidying the queue would (the next round starts at once when one took longer). stop() waits
 * for the round under way, so the queue ends as long as it started, and answers the counts and latencies.
 */
function churner(api, victims) {
  let running = true;
  const submitted = [];
  const submitMs = [];
  const deleteMs = [];
  const errors = [];
  const t0 = now();
  const loop = (async () => {
    let next = now();
    for (let n = 0; running; n++) {
      try {
        let t = now();
        const { job_id: id } = await call(api, 'POST', '/queue', jobBody(3_000_000 + n));
        submitMs.push(now() - t);
        submitted.push(id);
        const victim = victims.shift() ?? submitted.shift();
        t = now();
        await call(api, 'DELETE', `/jobs/${encodeURIComponent(victim)}`);
        deleteMs.push(now() - t);
      } catch (error) {
        if (errors.length < 5) errors.push(error.message);
      }
      next = Math.max(next + churnMs, now());
      await sleep(next - now());
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { submitMs, deleteMs, errors, ms: now() - t0 };
    },
  };
}

// ---- one scenario ----

/** An empty store of the same kind, for the paired submit measurement. */
async function referenceServer(storeName) {
  if (storeName === 'sqlite') {
    const file = join(dir, `reference-${randomUUID()}.db`);
    const server = await startServerChild({ db: file });
    return { ...server, async stop() { await server.stop(); await rm(file, { force: true }); await rm(`${file}-wal`, { force: true }); await rm(`${file}-shm`, { force: true }); } };
  }
  const prefix = `sisyphus-bench-scale-${randomUUID()}`;
  prefixes.add(prefix);
  const server = await startServerChild({ store: redisUrl, storePrefix: prefix });
  return { ...server, async stop() { await server.stop(); await deleteRedisKeys(prefix); prefixes.delete(prefix); } };
}

async function runScenario(storeName, serverOptions, h, q, jobsCursorCache) {
  const label = `[${storeName} H=${fmtN(h)} Q=${fmtN(q)}]`;
  if (quietS > 0) await waitForQuiet(label, quietS);
  log(`${label} starting the server (and an empty one of the same kind for paired submits)`);
  const server = await startServerChild(serverOptions);
  let reference = await referenceServer(storeName);
  const hb = startChild('./scale-heartbeats.mjs');
  const api = server.url;
  const row = { store: storeName, h, q, load: loadavg()[0] };
  const ours = () => cpuTicks(process.pid) + cpuTicks(server.pid) + cpuTicks(hb.pid) + (reference ? cpuTicks(reference.pid) : 0);
  let ourTicks = -ours();
  const machine0 = machineTicks();
  try {
    row.rssStart = memoryOf(server.pid).rss;
    // Is the store what we seeded?
    const head = await call(api, 'GET', '/queue?limit=1');
    if (head.entries !== q) throw new Error(`${label} GET /queue says ${head.entries} entries, seeded ${q}`);
    const completed = Math.floor(h / 100) * 95 + Math.min(h % 100, 95); // see STATES
    // Warm-up (not counted): JIT, schema compilation, statement caches.
    for (const target of [api, reference.url]) for (let i = 0; i < 30; i++) await call(target, 'POST', '/queue', jobBody(1_000_000 + i));
    for (let i = 0; i < 10; i++) await call(api, 'GET', '/jobs?state=completed&limit=50');
    for (let i = 0; i < 5; i++) await call(api, 'GET', '/queue?limit=100');

    // Blocks of 10, alternating with the empty server (which goes first alternates too), so the
    // machine's other load hits both alike: the paired ratio is what the target is checked on.
    log(`${label} ${submits} sequential submits, alternating in blocks of 10 with ${submits} to an empty ${storeName} server`);
    const submitMs = [];
    const referenceMs = [];
    const submitTo = async (target, into, n) => {
      const t0 = now();
      await call(target, 'POST', '/queue', jobBody(2_000_000 + n));
      into.push(now() - t0);
    };
    for (let i = 0; i < submits; i += 10) {
      const order = (i / 10) % 2 ? [[reference.url, referenceMs], [api, submitMs]] : [[api, submitMs], [reference.url, referenceMs]];
      for (const [target, into] of order) for (let k = i; k < Math.min(submits, i + 10); k++) await submitTo(target, into, k);
    }
    row.submitP50 = pct(submitMs, 50);
    row.submitP99 = pct(submitMs, 99);
    row.refP50 = pct(referenceMs, 50);
    row.refP99 = pct(referenceMs, 99);
    ourTicks += cpuTicks(reference.pid);
    await reference.stop();
    reference = undefined;

    const queuedNow = q + 30 + submits;
    log(`${label} finding deep cursors (limit=1000 pages)`);
    const queueDeep = await cursorAt(api, '/queue', Math.floor(queuedNow / 2), 'queue');
    let jobsDeep = jobsCursorCache.get(h);
    if (!jobsDeep && h > 0) {
      jobsDeep = await cursorAt(api, '/jobs?state=completed', Math.floor(completed / 2), 'jobs');
      log(`  /jobs cursor ${jobsDeep.seen} completed jobs down in ${(jobsDeep.ms / 1000).toFixed(1)} s`);
      jobsCursorCache.set(h, jobsDeep);
    }

    // Queued jobs for the churner to delete, from half-way down the queue (1000 rounds; then its own).
    const victims = (await call(api, 'GET', `/queue?limit=1000${queueDeep.cursor ? `&cursor=${encodeURIComponent(queueDeep.cursor)}` : ''}`)).queue.map((j) => j.job_id);
    // The simulated workers hold running jobs, as busy workers do: their heartbeats renew those leases
    // (leased after the cursor walks, which may take longer than a lease).
    const workers = [];
    for (let i = 0; i < workerCount; i++) {
      const id = `bench-worker-${i + 1}`;
      const job = await call(api, 'GET', `/queue/poll?worker_id=${id}`);
      workers.push({ id, jobId: job.job_id });
    }
    // Who had the CPUs in each phase: ticks of this process, the heartbeats, the server, the whole machine.
    const cpuAt = {};
    let current;
    const cpuNow = () => ({ main: cpuTicks(process.pid), hb: cpuTicks(hb.pid), server: cpuTicks(server.pid), machine: machineTicks() });
    const phase = (name) => {
      hb.send({ type: 'phase', name });
      server.phase(name);
      const at = cpuNow();
      if (current) {
        const from = cpuAt[current];
        const total = (at.machine.total - from.machine.total) / cores; // ticks of one core
        const share = (k) => ((at[k] - from[k]) / total) * 100;
        cpuAt[current] = { main: share('main'), hb: share('hb'), server: share('server'), rest: Math.max(0, ((at.machine.busy - from.machine.busy) / total) * 100 - share('main') - share('hb') - share('server')) };
      }
      cpuAt[name] = at;
      current = name;
    };
    hb.send({ type: 'start', url: api, workers, beatMs });
    phase('idle');
    log(`${label} ${workerCount} workers heartbeating every ${beatMs} ms; ${idleMs} ms alone, then ${pollers} dashboards x ${calls} calls per listing`);
    await sleep(idleMs);

    phase('queue');
    const whole = await dashboards(api, () => ({ label: 'whole', path: '/queue' }));
    phase('queue-paged');
    const paged = await dashboards(api, (i) =>
      i % 2 === 0 || !queueDeep.cursor
        ? { label: 'first', path: '/queue?limit=100' }
        : { label: 'deep', path: `/queue?limit=100&cursor=${encodeURIComponent(queueDeep.cursor)}` },
    );
    phase('jobs');
    const jobs = await dashboards(api, (i) =>
      i % 2 === 0 || !jobsDeep?.cursor
        ? { label: 'first', path: '/jobs?state=completed&limit=50' }
        : { label: 'deep', path: `/jobs?state=completed&limit=50&cursor=${encodeURIComponent(jobsDeep.cursor)}` },
    );
    // Last, so that the garbage of its re-read listings does not land in the other phases.
    phase('queue-churn');
    const churn = churner(api, victims);
    const churned = await dashboards(api, () => ({ label: 'whole', path: '/queue' }));
    const churnDone = await churn.stop();
    phase('after');
    ourTicks += ours();
    const machine1 = machineTicks();
    const beats = nextMessage(hb, 'result');
    hb.send({ type: 'stop' });
    const { phases, errors } = await beats;
    if (errors.length) throw new Error(`${label} heartbeats failed: ${errors.join('; ')}`);
    if (churnDone.errors.length) throw new Error(`${label} churn failed: ${churnDone.errors.join('; ')}`);
    const loop = await server.loop();
    // Share of the machine's CPU that went to anything but this bench's node processes (other users, Redis).
    row.otherCpu = Math.max(0, ((machine1.busy - machine0.busy - ourTicks) / (machine1.total - machine0.total)) * 100);

    row.queueP99 = pct(whole.byLabel.whole, 99);
    row.queueP50 = pct(whole.byLabel.whole, 50);
    row.queueBytes = whole.bytes;
    row.pagedP99 = pct([...(paged.byLabel.first ?? []), ...(paged.byLabel.deep ?? [])], 99);
    row.pagedFirstP99 = pct(paged.byLabel.first ?? [], 99);
    row.pagedDeepP99 = pct(paged.byLabel.deep ?? [], 99);
    row.jobsP99 = pct([...(jobs.byLabel.first ?? []), ...(jobs.byLabel.deep ?? [])], 99);
    row.jobsFirstP99 = pct(jobs.byLabel.first ?? [], 99);
    row.jobsDeepP99 = pct(jobs.byLabel.deep ?? [], 99);
    row.churnQueueP99 = pct(churned.byLabel.whole, 99);
    row.churnQueueP50 = pct(churned.byLabel.whole, 50);
    row.churnRounds = churnDone.deleteMs.length;
    row.churnMs = churnDone.ms;
    row.churnSubmitP99 = pct(churnDone.submitMs, 99);
    row.churnDeleteP99 = pct(churnDone.deleteMs, 99);
    row.hbIdleP99 = pct(phases.idle ?? [], 99);
    const during = [...(phases.queue ?? []), ...(phases['queue-paged'] ?? []), ...(phases.jobs ?? []), ...(phases['queue-churn'] ?? [])];
    row.hbP99 = pct(during, 99);
    row.hbMax = Math.max(...during);
    row.hbQueueP99 = pct(phases.queue ?? [], 99);
    row.hbPagedP99 = pct(phases['queue-paged'] ?? [], 99);
    row.hbJobsP99 = pct(phases.jobs ?? [], 99);
    row.hbChurnP99 = pct(phases['queue-churn'] ?? [], 99);
    row.hbSamples = during.length;
    row.stallIdle = loop.idle?.max;
    row.stallQueue = loop.queue?.max;
    row.stallPaged = loop['queue-paged']?.max;
    row.stallJobs = loop.jobs?.max;
    row.stallChurn = loop['queue-churn']?.max;
    row.stallMax = Math.max(row.stallQueue ?? 0, row.stallPaged ?? 0, row.stallJobs ?? 0, row.stallChurn ?? 0);
    const cpuShare = (l) => (l?.wallMs ? (l.cpuMs / l.wallMs) * 100 : NaN);
    row.cpuQueue = cpuShare(loop.queue);
    row.cpuChurn = cpuShare(loop['queue-churn']);
    const waitShare = (l) => (l?.wallMs ? (l.mainWaitMs / l.wallMs) * 100 : NaN);
    row.waitQueue = waitShare(loop.queue);
    row.waitChurn = waitShare(loop['queue-churn']);
    row.cpuBy = cpuAt;
    row.stallsBy = { queue: loop.queue?.stalls, churn: loop['queue-churn']?.stalls };
    row.inside = { idle: loop.idle?.heartbeats, queue: loop.queue?.heartbeats, churn: loop['queue-churn']?.heartbeats };
    row.gc = Object.fromEntries(['idle', 'queue', 'queue-paged', 'jobs', 'queue-churn'].map((name) => [name, loop[name]?.gc]));

    // The leased jobs end as completed history (8 more finished jobs), so the next scenario starts clean.
    for (const w of workers) {
      await call(api, 'PATCH', `/jobs/${w.jobId}/completed`, { failed: false, info: { worker_id: w.id, completed: true } });
    }
    const mem = memoryOf(server.pid);
    row.rss = mem.rss;
    row.hwm = mem.hwm;
    if (storeName === 'redis') row.redisMem = await redisMemory();
    log(
      `${label} submit p50 ${fmtMs(row.submitP50)} p99 ${fmtMs(row.submitP99)} ms (empty server meanwhile ${fmtMs(row.refP50)} / ${fmtMs(row.refP99)})` +
        ` | GET /queue p99 ${fmtMs(row.queueP99)} ms (${fmtMB(row.queueBytes)} MB), with churn ${fmtMs(row.churnQueueP99)} ms` +
        ` | paged p99 first ${fmtMs(row.pagedFirstP99)} deep ${fmtMs(row.pagedDeepP99)} ms | /jobs p99 first ${fmtMs(row.jobsFirstP99)} deep ${fmtMs(row.jobsDeepP99)} ms` +
        ` | heartbeat p99 alone ${fmtMs(row.hbIdleP99)}, during /queue ${fmtMs(row.hbQueueP99)}, paged ${fmtMs(row.hbPagedP99)}, /jobs ${fmtMs(row.hbJobsP99)}, /queue with churn ${fmtMs(row.hbChurnP99)} ms (max ${fmtMs(row.hbMax)})` +
        ` | server stalls max ${fmtMs(row.stallIdle)}/${fmtMs(row.stallQueue)}/${fmtMs(row.stallPaged)}/${fmtMs(row.stallJobs)}/${fmtMs(row.stallChurn)} ms` +
        ` | churn ${row.churnRounds} rounds in ${(row.churnMs / 1000).toFixed(1)} s, longest GC pause with churn ${fmtGc(row.gc['queue-churn'])}` +
        ` | RSS start ${fmtMB(row.rssStart)} end ${fmtMB(row.rss)} peak ${fmtMB(row.hwm)} MB | other load ${row.otherCpu.toFixed(0)}% of ${cores} cores`,
    );
    return row;
  } finally {
    if (hb.exitCode === null) hb.kill();
    await reference?.stop();
    await server.stop();
  }
}

// ---- the report ----

function report(storeName, rows) {
  const base = rows[0];
  const ratio = (v, b) => (Number.isFinite(v) && Number.isFinite(b) && b > 0 ? `${(v / b).toFixed(2)}x` : '-');
  const cell = (key, fmt = fmtMs) => (r) => `${fmt(r[key])} ${ratio(r[key], base[key])}`;
  const paired = (r) => `${ratio(r.submitP50, r.refP50)} ${ratio(r.submitP99, r.refP99)}`;
  const columns = [
    ['finished', (r) => fmtN(r.h)],
    ['queued', (r) => fmtN(r.q)],
    ['submit p50 ms', cell('submitP50')],
    ['submit p99 ms', cell('submitP99')],
    ['submit/empty p50 p99', paired],
    ['GET /queue p99 ms', cell('queueP99')],
    ['churn: GET /queue p99', cell('churnQueueP99')],
    ['churn: heartbeat p99', cell('hbChurnP99')],
    ['churn: stall ms', cell('stallChurn')],
    ['/queue?limit=100 p99', cell('pagedP99')],
    ['/jobs page p99 ms', cell('jobsP99')],
    ['heartbeat p99 ms', cell('hbP99')],
    ['server stall ms', cell('stallMax')],
    ['RSS end MB', cell('rss', fmtMB)],
    ['RSS peak MB', cell('hwm', fmtMB)],
    ['other load', (r) => `${r.otherCpu.toFixed(0)}%`],
  ];
  if (storeName === 'redis') columns.push(['Redis used MB', (r) => fmtMB(r.redisMem)]);
  const table = [columns.map(([name]) => name), ...rows.map((r) => columns.map(([, f]) => f(r)))];
  const widths = table[0].map((_, c) => Math.max(...table.map((line) => line[c].length)));
  console.log(`\n${storeName}: each value with its ratio to the empty store (first row: H=${fmtN(base.h)}, Q=${fmtN(base.q)}) of this run`);
  for (const [i, line] of table.entries()) {
    console.log(`  ${line.map((v, c) => (c < 2 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ')}`);
    if (i === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
  console.log(
    '  submit/empty: submit p50 and p99 over those of an empty server of the same kind, submits alternating in blocks of 10 (paired, same moment).\n' +
      `  churn: the GET /queue phase again while a submit and a delete of a queued job go through the server every ${churnMs} ms.\n` +
      '  heartbeat p99: during all four listings (churn too). server stall: the server\'s longest event-loop stall during the listings\n' +
      '  (perf_hooks). other load: share of all CPUs used by anything but this bench\'s node processes while the scenario ran (other users; Redis too).',
  );
  console.log(
    '  details (p99 ms): /queue?limit=100 first/deep | /jobs first/deep | heartbeat alone/during GET /queue/paged//jobs/churn (max, samples) |\n' +
      '    server stall max alone/GET /queue/paged//jobs/churn | churn rounds (submit + delete), their p99; GET /queue p50 | longest server GC pause\n' +
      '    (kind; GCs and their total ms) during GET /queue, and with churn | server CPU (all its threads) in % of one core, the same | share of\n' +
      '    the time its main thread was runnable but waited for a CPU (taken by other processes or its own threads), the same |\n' +
      `    who used the ${cores} CPUs meanwhile, in % of one core: this process (dashboards, churner), heartbeats, server, anything else (Redis, others) |\n` +
      '    heartbeat p99 inside the server (request event to last byte written; its store calls heartbeat/renew/get), alone and the same',
  );
  for (const r of rows) {
    console.log(
      `    H=${fmtN(r.h)} Q=${fmtN(r.q)}: ${fmtMs(r.pagedFirstP99)}/${fmtMs(r.pagedDeepP99)} | ${fmtMs(r.jobsFirstP99)}/${fmtMs(r.jobsDeepP99)} | ` +
        `${fmtMs(r.hbIdleP99)}/${fmtMs(r.hbQueueP99)}/${fmtMs(r.hbPagedP99)}/${fmtMs(r.hbJobsP99)}/${fmtMs(r.hbChurnP99)} (max ${fmtMs(r.hbMax)}, ${r.hbSamples}) | ` +
        `${fmtMs(r.stallIdle)}/${fmtMs(r.stallQueue)}/${fmtMs(r.stallPaged)}/${fmtMs(r.stallJobs)}/${fmtMs(r.stallChurn)} | ` +
        `churn ${r.churnRounds} rounds in ${(r.churnMs / 1000).toFixed(1)} s, submit ${fmtMs(r.churnSubmitP99)} delete ${fmtMs(r.churnDeleteP99)}; GET /queue p50 ${fmtMs(r.churnQueueP50)} ms |\n` +
        `      GC GET /queue ${fmtGc(r.gc.queue)}, with churn ${fmtGc(r.gc['queue-churn'])} | CPU ${r.cpuQueue.toFixed(0)}%, ${r.cpuChurn.toFixed(0)}% | waiting ${r.waitQueue.toFixed(0)}%, ${r.waitChurn.toFixed(0)}% |\n` +
        `      CPU GET /queue ${fmtCpu(r.cpuBy.queue)}, with churn ${fmtCpu(r.cpuBy['queue-churn'])} | inside alone ${fmtInside(r.inside.idle)}, GET /queue ${fmtInside(r.inside.queue)}, with churn ${fmtInside(r.inside.churn)} |\n` +
        (r.stallsBy.queue || r.stallsBy.churn ? `      event-loop gaps over 20 ms (BENCH_STALLS, 5 ms timer): GET /queue ${fmtStalls(r.stallsBy.queue)}; with churn ${fmtStalls(r.stallsBy.churn)} |\n` : '') +
        `      GET /queue p50 ${fmtMs(r.queueP50)} ms, ${fmtMB(r.queueBytes)} MB; RSS at start ${fmtMB(r.rssStart)} MB; load avg ${r.load.toFixed(1)}`,
    );
  }
  console.log(
    `  targets (issue 11 §3; meant at 1M finished jobs): submit p50 and p99 <= ${TARGET.submitRatio}x the empty server (paired), heartbeat p99 < ${TARGET.heartbeatMs} ms during listings, /jobs page p99 < ${TARGET.jobsPageMs} ms, peak RSS < 1 GB`,
  );
  const mark = (ok, detail) => `${ok ? 'PASS' : 'FAIL'} ${detail}`;
  const over = (v, target) => (v >= target ? `, ${(v / target).toFixed(1)}x the target` : '');
  for (const r of rows) {
    const s50 = r.submitP50 / r.refP50;
    const s99 = r.submitP99 / r.refP99;
    console.log(
      `    H=${fmtN(r.h)} Q=${fmtN(r.q)}: ` +
        [
          `submit ${mark(s50 <= TARGET.submitRatio && s99 <= TARGET.submitRatio, `(p50 ${s50.toFixed(2)}x, p99 ${s99.toFixed(2)}x)`)}`,
          `heartbeat ${mark(r.hbP99 < TARGET.heartbeatMs, `(${fmtMs(r.hbP99)} ms${over(r.hbP99, TARGET.heartbeatMs)}; GET /queue with churn alone ${fmtMs(r.hbChurnP99)} ms${over(r.hbChurnP99, TARGET.heartbeatMs)}; server stall max ${fmtMs(r.stallMax)} ms)`)}`,
          `/jobs ${mark(r.jobsP99 < TARGET.jobsPageMs, `(${fmtMs(r.jobsP99)} ms${over(r.jobsP99, TARGET.jobsPageMs)})`)}`,
          `RSS ${mark(r.hwm < TARGET.rssBytes, `(peak ${fmtMB(r.hwm)} MB)`)}`,
        ].join(', '),
    );
  }
}

// ---- main ----

const dir = await mkdtemp(join(tmpdir(), 'sisyphus-scale-'));
const prefixes = new Set();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  console.error('interrupted: cleaning up');
  for (const child of children) child.kill();
});

if (process.env.BENCH_PROFILE) {
  // The server children inherit these (bench/scale-server.mjs writes the profiles).
  process.env.BENCH_PROFILE_DIR ??= join(tmpdir(), `sisyphus-scale-profiles-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(process.env.BENCH_PROFILE_DIR, { recursive: true });
  log(`CPU profiles of the server during ${process.env.BENCH_PROFILE} go to ${process.env.BENCH_PROFILE_DIR} (server-PID-PHASE.cpuprofile)`);
}
const t0 = now();
const results = {};
const failures = [];
log(
  `bench:scale${quick ? ' (quick)' : ''}: parts ${parts.join(', ')}; stores ${stores.join(', ')}` +
    (parts.includes('queue')
      ? `; finished ${histories.map(fmtN).join(', ')} x queued ${queueds.map(fmtN).join(', ')}; ` +
        `${submits} submits; ${pollers} dashboards x ${calls} calls over >= ${phaseMs} ms per listing; ${workerCount} workers beating every ${beatMs} ms`
      : ''),
);
let dashboard;
let routing;
let watch;
try {
  for (const part of parts) if (!['queue', 'dashboard', 'routing', 'watch'].includes(part)) throw new Error(`BENCH_PARTS: unknown part ${part} (queue, dashboard, routing, watch)`);
  for (const storeName of stores) if (!['sqlite', 'redis'].includes(storeName)) throw new Error(`BENCH_STORES: unknown store ${storeName} (sqlite, redis)`);
  for (const storeName of parts.includes('queue') ? stores : []) {
    const rows = (results[storeName] = []);
    for (const h of histories) {
      if (interrupted) break;
      const jobsCursorCache = new Map();
      let serverOptions;
      let prefix;
      if (storeName === 'sqlite') {
        const file = join(dir, `scale-h${h}.db`);
        log(`[sqlite H=${fmtN(h)}] seeding ${file}`);
        await sqliteSeedHistory(file, h);
        serverOptions = { db: file };
      } else {
        prefix = `sisyphus-bench-scale-${randomUUID()}`;
        prefixes.add(prefix);
        log(`[redis H=${fmtN(h)}] seeding prefix ${prefix}`);
        await redisSeedHistory(prefix, h);
        serverOptions = { store: redisUrl, storePrefix: prefix };
      }
      try {
        for (const q of queueds) {
          if (interrupted) break;
          log(`[${storeName} H=${fmtN(h)} Q=${fmtN(q)}] topping the queue up to ${fmtN(q)}`);
          if (storeName === 'sqlite') await sqliteTopUpQueue(serverOptions.db, q);
          else await redisTopUpQueue(prefix, q);
          try {
            rows.push(await runScenario(storeName, serverOptions, h, q, jobsCursorCache));
          } catch (error) {
            failures.push(`${storeName} H=${fmtN(h)} Q=${fmtN(q)}: ${error.message}`);
            log(`[${storeName} H=${fmtN(h)} Q=${fmtN(q)}] FAILED: ${error.stack}`);
          }
        }
      } finally {
        if (storeName === 'sqlite') {
          const size = (await stat(serverOptions.db)).size;
          log(`[sqlite H=${fmtN(h)}] file ${fmtMB(size)} MB`);
          if (!keep) await rm(serverOptions.db, { force: true });
        } else {
          const n = await deleteRedisKeys(prefix);
          prefixes.delete(prefix);
          log(`[redis H=${fmtN(h)}] deleted ${n} keys`);
        }
      }
    }
  }
  if (parts.includes('dashboard') && !interrupted) dashboard = await runDashboardBench(stores, { dir, redisUrl, prefixes, quietS, quick, failures });
  if (parts.includes('routing') && !interrupted) routing = await runRoutingBench(stores, { redisUrl, prefixes, quietS, failures });
  if (parts.includes('watch') && !interrupted) watch = await runWatchBench(stores, { redisUrl, quietS, failures });
} finally {
  for (const child of children) child.kill();
  for (const prefix of prefixes) await deleteRedisKeys(prefix).catch((error) => console.error(`deleting ${prefix}:*: ${error.message}`));
  if (!keep) await rm(dir, { recursive: true, force: true });
  else console.log(`SQLite files kept in ${dir}`);
}
for (const [storeName, rows] of Object.entries(results)) if (rows.length) report(storeName, rows);
if (dashboard) reportDashboard(dashboard);
if (routing?.length) reportRouting(routing);
if (watch) console.log(`\n== watch folders: a rule over a tree of files (bench/watch-scan.mjs, its own process) ==\n${watch}`);
for (const failure of failures) console.log(`\nscenario failed: ${failure}`);
if (process.env.BENCH_PROFILE) console.log(`\nCPU profiles of the server: ${process.env.BENCH_PROFILE_DIR}`);
console.log(`\ntotal ${((now() - t0) / 1000).toFixed(0)} s`);
if (failures.length) process.exitCode = 1;
