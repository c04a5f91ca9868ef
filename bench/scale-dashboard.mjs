// bench:scale, the dashboard's part (issue 14), run by bench/scale.mjs (BENCH_PARTS=dashboard
// runs it alone). For each store (a SQLite file; Redis/BullMQ under a fresh prefix), two stores
// are seeded through the store API itself (submit, lease and finish with the times passed in, so
// every index and counter the store keeps is as the server would leave it):
//   - "small": BENCH_DASH_SMALL finished jobs (1,000) and a tenth as many queued;
//   - "large": BENCH_DASH_HISTORY finished jobs (100,000) and BENCH_DASH_QUEUED queued (10,000);
// finished jobs: 95% completed, 4% failed, 1% cancelled, 16 workers, finished over the last 30
// days (jobBody of scale-lib.mjs: "Tidy show-N-sXXeYY after remux #n"). Then a server child
// (bench/scale-server.mjs) on each store is measured from here over loopback HTTP:
//   - the history page: BENCH_DASH_CALLS of each request below, interleaved, one at a time:
//       state     GET /jobs?state=completed&limit=50 (the first page)
//       all       GET /jobs?limit=50 (every state)
//       title     GET /jobs?title=show-123-&limit=50 (matches ~0.1% of the titles)
//       no match  GET /jobs?title=no-such-title&limit=50 (the whole history is searched)
//       worker    GET /jobs?worker=encoder-3&limit=50 (1/16 of the jobs)
//       range     GET /jobs?since=D14&until=D15&limit=50 (one day of the 30)
//       deep      GET /jobs?state=completed&limit=50&cursor=C (C: half-way down the completed jobs,
//                 found by following `next` with limit=1000)
//     and GET /status/overview (counts of the last hour, workers);
//     p50 and p99 of each, and the p99's ratio to the same request on the small store (same run);
//   - the events route: BENCH_SSE_CLIENTS (20) clients on `GET /events` (fetch, the stream parsed
//     here), while BENCH_SSE_WORKERS (20) simulated workers, each holding a leased job, heartbeat
//     (`POST /workers/{id}` with progress and info) and a submitter queues a job every
//     BENCH_SSE_SUBMIT_MS (100) ms; "steady": each worker beats every BENCH_SSE_BEAT_MS (100) ms for
//     BENCH_SSE_MS (10,000) ms; "peak": each beats again as soon as its last beat was answered (the
//     server sets the pace: its capacity) for BENCH_SSE_PEAK_MS (5,000; 0 leaves it out) ms, with
//     fresh clients. Events per second delivered to every client and in all, and the latency from
//     sending the HTTP request that caused an event (heartbeat or submit, told apart by a marker in
//     info / the title) to its arrival at the last (20th) client: p50, p99, max; events that did
//     not reach every client within 2 s of the end are counted as missing;
//   - server RSS at the end and its peak (VmRSS, VmHWM).
// Targets printed beside the figures: p99 < 200 ms (history requests, overview, event latency at
// the steady rate), peak RSS < 1 GB.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openSqliteStore, prepareSubmission } from '@sisyphus/server';
import { call, cursorAt, deleteRedisKeys, fmtMB, fmtMs, fmtN, jobBody, log, memoryOf, now, pct, progress, sleep, startServerChild, timedGet, waitForQuiet } from './scale-lib.mjs';

const num = (name, fallback) => Number(process.env[name] ?? fallback);
const DAY = 86_400_000;
const TARGET = { p99Ms: 200, rssBytes: 1024 ** 3 };
const STATES = (i) => (i % 100 < 95 ? 'completed' : i % 100 < 99 ? 'failed' : 'cancelled');

/** The settings, from the environment (BENCH_QUICK=1: smaller and shorter). */
export function dashboardSettings(quick) {
  return {
    small: num('BENCH_DASH_SMALL', 1000),
    history: num('BENCH_DASH_HISTORY', quick ? 20_000 : 100_000),
    queued: num('BENCH_DASH_QUEUED', quick ? 2000 : 10_000),
    calls: num('BENCH_DASH_CALLS', quick ? 20 : 50),
    clients: num('BENCH_SSE_CLIENTS', 20),
    workers: num('BENCH_SSE_WORKERS', 20),
    beatMs: num('BENCH_SSE_BEAT_MS', 100),
    submitMs: num('BENCH_SSE_SUBMIT_MS', 100),
    sseMs: num('BENCH_SSE_MS', quick ? 5000 : 10_000),
    peakMs: num('BENCH_SSE_PEAK_MS', quick ? 3000 : 5000),
  };
}

// ---- seeding through the store API ----

/** What finished job `i` of `h` looks like: its worker, state, times (spread over 30 days) and result. */
function finishedJob(i, h, base) {
  const finishedMs = base + Math.floor((i * 30 * DAY) / Math.max(1, h));
  const runtime = 5 + (i % 600);
  const startedMs = finishedMs - runtime * 1000;
  const addedMs = startedMs - 1000 * (1 + (i % 300));
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
    failed: state !== 'completed',
    cancelled: state === 'cancelled',
    ...(state !== 'completed' ? { module: 'cleanup', message: state === 'failed' ? 'cleanup: EACCES: permission denied, unlink sample.mkv' : 'cancelled' } : {}),
    tasks: [{ index: 0, module: 'cleanup', status: state === 'completed' ? 'done' : state, durations: { init: 1, validate: 0, run: runtime * 1000, cleanup: 2 } }],
  };
  const job = prepareSubmission(jobBody(i), undefined, true, new Date(addedMs));
  return { job, worker, startedMs, finishedMs, outcome: { state, result, ...(state === 'cancelled' ? { reason: 'cancelled' } : {}) } };
}

/**
 * `h` finished jobs (submit, lease, finish with their own times), then `q` queued jobs, through
 * `store`'s API, `concurrency` at a time (1 for SQLite: its calls are synchronous underneath).
 */
async function seed(store, label, h, q, concurrency) {
  const base = Date.now() - 31 * DAY;
  const bar = progress(`${label}: ${fmtN(h)} finished jobs (submit + lease + finish)`, h);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < h) {
        const i = next++;
        const f = finishedJob(i, h, base);
        await store.submit(f.job);
        // Another lane's job may be leased here: each job still gets a lease and a finish of its own.
        const leased = await store.lease(f.worker, 3_600_000, f.startedMs);
        if (!leased) throw new Error(`${label}: nothing to lease after a submit`);
        const r = await store.finish(leased.job_id, f.worker, f.outcome, f.finishedMs);
        if (r !== 'ok') throw new Error(`${label}: finish of ${leased.job_id} answered ${r}`);
        if (i % 1000 === 0) bar.tick(i);
      }
    }),
  );
  bar.end(h);
  const queued = progress(`${label}: ${fmtN(q)} queued jobs (submit)`, q);
  next = 0;
  const t = Date.now() - q;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < q) {
        const i = next++;
        await store.submit(prepareSubmission(jobBody(h + i), undefined, true, new Date(t + i)));
        if (i % 1000 === 0) queued.tick(i);
      }
    }),
  );
  queued.end(q);
}

/** A seeded store of `storeName` with `h` finished and `q` queued jobs: the server options, and how to drop it. */
async function seededStore(storeName, h, q, { dir, redisUrl, prefixes }) {
  const label = `[dashboard ${storeName} H=${fmtN(h)} Q=${fmtN(q)}]`;
  if (storeName === 'sqlite') {
    const file = join(dir, `dashboard-${randomUUID()}.db`);
    const store = openSqliteStore(file);
    try {
      store.db.pragma('synchronous = OFF');
      await seed(store, label, h, q, 1);
      store.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      await store.close();
    }
    return { options: { db: file }, drop: () => Promise.all(['', '-wal', '-shm'].map((s) => rm(`${file}${s}`, { force: true }))) };
  }
  const prefix = `sisyphus-bench-dashboard-${randomUUID()}`;
  prefixes.add(prefix);
  const { BullmqStore } = await import('@sisyphus/redis');
  const store = await BullmqStore.open({ connection: redisUrl, prefix, stalledCheck: false });
  try {
    await seed(store, label, h, q, 64);
  } finally {
    await store.close();
  }
  return {
    options: { store: redisUrl, storePrefix: prefix },
    drop: async () => {
      await deleteRedisKeys(redisUrl, prefix);
      prefixes.delete(prefix);
    },
  };
}

// ---- the history page and the overview ----

/** Each request `calls` times, interleaved, one at a time; latencies by label. */
async function historyRequests(api, h, calls) {
  const base = Date.now() - 31 * DAY;
  const iso = (ms) => encodeURIComponent(new Date(ms).toISOString());
  const deep = await cursorAt(api, '/jobs?state=completed', Math.floor((h * 0.95) / 2), 'jobs');
  const requests = [
    ['state', '/jobs?state=completed&limit=50'],
    ['all', '/jobs?limit=50'],
    ['title', '/jobs?title=show-123-&limit=50'],
    ['no match', '/jobs?title=no-such-title&limit=50'],
    ['worker', '/jobs?worker=encoder-3&limit=50'],
    ['range', `/jobs?since=${iso(base + 14 * DAY)}&until=${iso(base + 15 * DAY)}&limit=50`],
    ['deep', `/jobs?state=completed&limit=50${deep.cursor ? `&cursor=${encodeURIComponent(deep.cursor)}` : ''}`],
    ['overview', '/status/overview'],
  ];
  // Warm-up (not counted): JIT, statement caches.
  for (const [, path] of requests) for (let i = 0; i < 3; i++) await timedGet(api, path);
  const byLabel = Object.fromEntries(requests.map(([label]) => [label, []]));
  const rows = {};
  for (let i = 0; i < calls; i++) {
    for (const [label, path] of requests) {
      const r = await timedGet(api, path);
      byLabel[label].push(r.ms);
      if (i === 0 && label !== 'overview') rows[label] = JSON.parse(Buffer.from(r.body).toString('utf8')).jobs.length;
    }
  }
  return { byLabel, rows, deepSeen: deep.seen };
}

// ---- the events route ----

/**
 * A client of `GET /events`: calls `onEvent(data, at)` for each event (data parsed) as it
 * arrives; `ready` resolves once the stream has started.
 */
function sseClient(api, onEvent) {
  const abort = new AbortController();
  let started;
  const ready = new Promise((r) => (started = r));
  const done = (async () => {
    const res = await fetch(`${api}/events`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    if (!res.ok) throw new Error(`GET /events: ${res.status} ${await res.text()}`);
    started();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        const at = now();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).replace(/^ /, ''))
            .join('\n');
          if (data) onEvent(JSON.parse(data), at);
        }
      }
    } catch (error) {
      if (error.name !== 'AbortError') throw error;
    }
  })();
  return { ready, done, close: () => abort.abort() };
}

/**
 * One phase: `s.clients` fresh clients on `GET /events` for `ms` ms while `workers` heartbeat
 * every `beatMs` ms (0: each as soon as its previous one was answered, so the server sets the
 * pace) and a job is submitted every `s.submitMs` ms. Delivery rates and latencies.
 */
async function eventPhase(api, s, workers, name, beatMs, ms) {
  const sent = new Map(); // marker -> send time
  const arrivals = new Map(); // marker -> [arrival times]
  const perClient = Array.from({ length: s.clients }, () => ({ events: 0, heartbeats: 0, submits: 0 }));
  let measuring = false;
  const clients = perClient.map((counts) =>
    sseClient(api, (data, at) => {
      if (!measuring) return;
      counts.events++;
      const marker = data.type === 'worker.heartbeat' ? data.worker?.status?.info?.bench : data.type === 'job.submitted' ? data.job?.job_title : undefined;
      if (marker === undefined || !sent.has(marker)) return;
      if (data.type === 'worker.heartbeat') counts.heartbeats++;
      else counts.submits++;
      (arrivals.get(marker) ?? arrivals.set(marker, []).get(marker)).push(at);
    }),
  );
  await Promise.all(clients.map((c) => c.ready));
  measuring = true;
  const t0 = now();
  const errors = [];
  let running = true;
  const onlineAt = new Date().toISOString();
  const beat = async (w, i) => {
    await sleep((i * beatMs) / workers.length);
    let next = now();
    for (let n = 0; running; n++) {
      const marker = `${name}-hb-${i}-${n}`;
      const body = {
        status: 'in_progress', hostname: `sse-host-${i + 1}`, version: '0.1.0', online_at: onlineAt, job_id: w.jobId, job_title: w.title,
        task: 1, progress: Math.min(99.9, n / 10), info: { fps: 48.2, speed: '2.01x', eta: 600 - n, frame: n * 10, bench: marker },
      };
      sent.set(marker, now());
      try {
        const res = await fetch(`${api}/workers/${w.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`heartbeat ${res.status}`);
      } catch (error) {
        if (errors.length < 5) errors.push(`${w.id}: ${error.message}`);
      }
      next = Math.max(next + beatMs, now());
      await sleep(next - now());
    }
  };
  const submitter = async () => {
    let next = now();
    for (let n = 0; running; n++) {
      const body = jobBody(5_000_000 + n);
      body.job_title = `${name}-submit-${n}`;
      sent.set(body.job_title, now());
      try {
        await call(api, 'POST', '/queue', body);
      } catch (error) {
        if (errors.length < 5) errors.push(`submit: ${error.message}`);
      }
      next = Math.max(next + s.submitMs, now());
      await sleep(next - now());
    }
  };
  const loops = [...workers.map(beat), submitter()];
  await sleep(ms);
  running = false;
  await Promise.all(loops);
  const sendMs = now() - t0;
  await sleep(2000); // the last events on their way
  measuring = false;
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.done.catch((error) => errors.push(`client: ${error.message}`))));

  const latency = { hb: [], submit: [] };
  const missing = { hb: 0, submit: 0 };
  const count = { hb: 0, submit: 0 };
  for (const [marker, at] of sent) {
    const kind = marker.startsWith(`${name}-hb-`) ? 'hb' : 'submit';
    count[kind]++;
    const got = arrivals.get(marker) ?? [];
    if (got.length < s.clients) missing[kind]++;
    else latency[kind].push(Math.max(...got) - at);
  }
  const events = perClient.map((c) => c.events);
  const max = (xs) => (xs.length ? Math.max(...xs) : NaN);
  return {
    errors,
    sendMs,
    hbSent: count.hb,
    submitSent: count.submit,
    missing,
    perClientRate: (pct(events, 50) / sendMs) * 1000,
    minClientRate: (Math.min(...events) / sendMs) * 1000,
    totalRate: (events.reduce((a, b) => a + b, 0) / sendMs) * 1000,
    hbDeliveredShare: perClient.reduce((a, c) => a + c.heartbeats, 0) / Math.max(1, count.hb * s.clients),
    hbP50: pct(latency.hb, 50),
    hbP99: pct(latency.hb, 99),
    hbMax: max(latency.hb),
    submitP50: pct(latency.submit, 50),
    submitP99: pct(latency.submit, 99),
    submitMax: max(latency.submit),
  };
}

/**
 * The events phases: steady (heartbeats every `s.beatMs`), then peak (back to back) when
 * `s.peakMs` > 0; each with the server's longest event-loop stall meanwhile (its `loop` answer).
 */
async function eventsThroughput(server, s) {
  const api = server.url;
  // Workers hold running jobs, as busy ones do.
  const workers = [];
  for (let i = 0; i < s.workers; i++) {
    const id = `sse-worker-${i + 1}`;
    const job = await call(api, 'GET', `/queue/poll?worker_id=${id}`);
    workers.push({ id, jobId: job.job_id, title: job.job_title });
  }
  server.phase('events-steady');
  const steady = await eventPhase(api, s, workers, 'steady', s.beatMs, s.sseMs);
  server.phase('events-peak');
  const peak = s.peakMs > 0 ? await eventPhase(api, s, workers, 'peak', 0, s.peakMs) : undefined;
  server.phase('events-done');
  const loop = await server.loop();
  steady.stallMs = loop['events-steady']?.max;
  steady.gc = loop['events-steady']?.gc;
  if (peak) {
    peak.stallMs = loop['events-peak']?.max;
    peak.gc = loop['events-peak']?.gc;
  }
  for (const w of workers) await call(api, 'PATCH', `/jobs/${w.jobId}/completed`, { failed: false, info: { worker_id: w.id, completed: true } });
  return { steady, peak, errors: [...steady.errors, ...(peak?.errors ?? [])] };
}

// ---- one store size ----

async function measure(storeName, size, h, q, s, env) {
  const label = `[dashboard ${storeName} ${size} H=${fmtN(h)} Q=${fmtN(q)}]`;
  const seeded = await seededStore(storeName, h, q, env);
  try {
    if (env.quietS > 0) await waitForQuiet(label, env.quietS);
    const server = await startServerChild(seeded.options);
    try {
      const row = { store: storeName, size, h, q, rssStart: memoryOf(server.pid).rss };
      const head = await call(server.url, 'GET', '/queue?limit=1');
      if (head.entries !== q) throw new Error(`${label} GET /queue says ${head.entries} entries, seeded ${q}`);
      log(`${label} history page and overview: ${s.calls} of each request, interleaved`);
      const history = await historyRequests(server.url, h, s.calls);
      row.p50 = Object.fromEntries(Object.entries(history.byLabel).map(([k, xs]) => [k, pct(xs, 50)]));
      row.p99 = Object.fromEntries(Object.entries(history.byLabel).map(([k, xs]) => [k, pct(xs, 99)]));
      row.rows = history.rows;
      log(`${label} ${Object.entries(row.p99).map(([k, v]) => `${k} p99 ${fmtMs(v)}`).join(', ')} ms`);
      log(
        `${label} events: ${s.clients} clients, ${s.workers} workers heartbeating every ${s.beatMs} ms for ${s.sseMs} ms, then back to back for ${s.peakMs} ms; a submit every ${s.submitMs} ms`,
      );
      const events = await eventsThroughput(server, s);
      if (events.errors.length) throw new Error(`${label} events: ${events.errors.join('; ')}`);
      row.sse = events.steady;
      row.peak = events.peak;
      for (const [phase, e] of [['steady', events.steady], ['peak', events.peak]]) {
        if (!e) continue;
        log(
          `${label} events, ${phase}: delivered ${e.perClientRate.toFixed(0)}/s per client (slowest ${e.minClientRate.toFixed(0)}/s), ${e.totalRate.toFixed(0)}/s in all;` +
            ` latency to the ${s.clients}th client: heartbeat p99 ${fmtMs(e.hbP99)} ms, submit p99 ${fmtMs(e.submitP99)} ms; missing ${e.missing.hb}/${e.hbSent} heartbeats, ${e.missing.submit}/${e.submitSent} submits;` +
            ` server stall max ${fmtMs(e.stallMs)} ms`,
        );
      }
      const mem = memoryOf(server.pid);
      row.rss = mem.rss;
      row.hwm = mem.hwm;
      return row;
    } finally {
      await server.stop();
    }
  } finally {
    await seeded.drop();
  }
}

/**
 * The dashboard's part of bench:scale, for each store in `stores`: rows of the small and the
 * large store. `env`: {dir (for SQLite files), redisUrl, prefixes (Redis prefixes in use, for
 * clean-up on an interrupt), quietS, quick, failures (messages are pushed)}.
 */
export async function runDashboardBench(stores, env) {
  const s = dashboardSettings(env.quick);
  log(
    `bench:scale dashboard: stores ${stores.join(', ')}; ${fmtN(s.small)} vs ${fmtN(s.history)} finished (+ a tenth / ${fmtN(s.queued)} queued); ` +
      `${s.calls} calls per request; ${s.clients} event clients, ${s.workers} workers every ${s.beatMs} ms, a submit every ${s.submitMs} ms for ${s.sseMs} ms`,
  );
  const results = {};
  for (const storeName of stores) {
    const rows = (results[storeName] = []);
    for (const [size, h, q] of [['small', s.small, Math.round(s.small / 10)], ['large', s.history, s.queued]]) {
      try {
        rows.push(await measure(storeName, size, h, q, s, env));
      } catch (error) {
        env.failures.push(`dashboard ${storeName} ${size}: ${error.message}`);
        log(`[dashboard ${storeName} ${size}] FAILED: ${error.stack}`);
      }
    }
  }
  return { results, settings: s };
}

/** Print the tables: each figure of the large store with its ratio to the small one, and the targets. */
export function reportDashboard({ results, settings: s }) {
  const labels = ['state', 'all', 'title', 'no match', 'worker', 'range', 'deep', 'overview'];
  const mark = (ok) => (ok ? 'PASS' : 'FAIL');
  for (const [storeName, rows] of Object.entries(results)) {
    if (!rows.length) continue;
    const small = rows.find((r) => r.size === 'small');
    const ratio = (v, b) => (Number.isFinite(v) && Number.isFinite(b) && b > 0 ? `${(v / b).toFixed(2)}x` : '-');
    console.log(`\ndashboard, ${storeName}: p99 (p50) in ms of each request, the p99's ratio to the small store (${small ? `H=${fmtN(small.h)} Q=${fmtN(small.q)}` : 'missing'}) of this run`);
    const table = [['store', ...labels.map((l) => (l === 'overview' ? 'GET /status/overview' : `/jobs ${l}`)), 'RSS end/peak MB']];
    for (const r of rows) {
      table.push([
        `${r.size} H=${fmtN(r.h)} Q=${fmtN(r.q)}`,
        ...labels.map((l) => `${fmtMs(r.p99[l])} (${fmtMs(r.p50[l])}) ${r === small ? '' : ratio(r.p99[l], small?.p99[l])}`.trim()),
        `${fmtMB(r.rss)}/${fmtMB(r.hwm)}`,
      ]);
    }
    const widths = table[0].map((_, c) => Math.max(...table.map((line) => line[c].length)));
    for (const [i, line] of table.entries()) {
      console.log(`  ${line.map((v, c) => v.padEnd(widths[c])).join('  ')}`);
      if (i === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
    }
    console.log(`  rows answered (of 50): ${rows.map((r) => `${r.size}: ${labels.filter((l) => l !== 'overview').map((l) => `${l} ${r.rows?.[l] ?? '-'}`).join(', ')}`).join(' | ')}`);
    console.log(
      `  events (${s.clients} clients on GET /events; ${s.workers} workers heartbeating with progress, steady: every ${s.beatMs} ms; peak: each as soon as the last was answered; a submit every ${s.submitMs} ms):`,
    );
    const eventLine = (e, base) =>
      `delivered ${e.perClientRate.toFixed(0)}/s per client (slowest ${e.minClientRate.toFixed(0)}/s), ${e.totalRate.toFixed(0)}/s to all ${s.clients};` +
      ` sent ${((e.hbSent / e.sendMs) * 1000).toFixed(0)} heartbeats/s + ${((e.submitSent / e.sendMs) * 1000).toFixed(0)} submits/s;` +
      ` heartbeats reaching every client ${(e.hbDeliveredShare * 100).toFixed(0)}% (missing at one or more: ${e.missing.hb}/${e.hbSent}), submits missing ${e.missing.submit}/${e.submitSent};` +
      ` latency request -> ${s.clients}th client: heartbeat p50 ${fmtMs(e.hbP50)} p99 ${fmtMs(e.hbP99)} max ${fmtMs(e.hbMax)} ms,` +
      ` submit p50 ${fmtMs(e.submitP50)} p99 ${fmtMs(e.submitP99)} max ${fmtMs(e.submitMax)} ms${base ? ` (p99 ${ratio(e.hbP99, base.hbP99)} / ${ratio(e.submitP99, base.submitP99)} the small store's)` : ''};` +
      ` server: longest event-loop stall ${fmtMs(e.stallMs)} ms, longest GC pause ${fmtMs(e.gc?.max)} ms`;
    for (const r of rows) {
      console.log(`    ${r.size} steady: ${eventLine(r.sse, r === small ? undefined : small?.sse)}`);
      if (r.peak) console.log(`    ${r.size} peak:   ${eventLine(r.peak, r === small ? undefined : small?.peak)}`);
    }
    console.log(`  targets (issue 14): p99 < ${TARGET.p99Ms} ms (history page, overview, event latency at the steady rate), peak RSS < 1 GB`);
    for (const r of rows) {
      const worst = labels.reduce((w, l) => (r.p99[l] > (r.p99[w] ?? -1) ? l : w), labels[0]);
      const eventP99 = Math.max(r.sse.hbP99, r.sse.submitP99);
      console.log(
        `    ${r.size} H=${fmtN(r.h)} Q=${fmtN(r.q)}: ` +
          [
            `history/overview ${mark(labels.every((l) => r.p99[l] < TARGET.p99Ms))} (worst ${worst} p99 ${fmtMs(r.p99[worst])} ms)`,
            `events ${mark(eventP99 < TARGET.p99Ms && !r.sse.missing.submit)} (p99 ${fmtMs(eventP99)} ms${r.sse.missing.submit ? `, ${r.sse.missing.submit} submits missing` : ''})`,
            `RSS ${mark(r.hwm < TARGET.rssBytes)} (peak ${fmtMB(r.hwm)} MB)`,
          ].join(', '),
      );
    }
  }
}
