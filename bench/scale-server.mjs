#!/usr/bin/env node
// Child process of bench/scale.mjs: one job server (startServer from
// @sisyphus/server) in a process of its own, so that its RSS can be read from
// /proc and the load generator does not share its event loop.
//   argv[2]: startServer options as JSON (port 0 is added).
// IPC: sends {type: 'ready', url} once listening (or {type: 'error', message}).
//   {type: 'phase', name}: from now on, event-loop delay and GC pauses count under `name`;
//   {type: 'loop'}: answers {type: 'loop', phases: {name: {p99, max, gc, cpuMs, wallMs, mainRunMs, mainWaitMs,
//     heartbeats[, stalls]}}} (ms): p99 and max of
//     the server's event-loop delay (perf_hooks, 10 ms resolution, less the 10 ms): how long the
//     server itself stalled (its own work, or the OS not running it: the machine is shared);
//     gc: the V8 collections that started during the phase (PerformanceObserver 'gc'): {count, ms,
//     max, maxKind, kinds: {minor|major|incremental|weakcb: {count, ms, max}}}; cpuMs: the CPU
//     time the server process used (all its threads: user + system) over wallMs; mainRunMs and
//     mainWaitMs: the time its main thread (the event loop) ran on a CPU, and waited for one while
//     runnable (/proc/self/task/PID/schedstat: other processes, or its own GC threads, had the CPUs);
//     heartbeats: {http, heartbeat, renew, get: {p50, p99, max, n}}: how long a heartbeat (`POST /workers/ID`)
//     took inside the server, from its request event to its last byte handed to the socket, and the three store
//     calls it makes (recordHeartbeat: store.heartbeat, store.renew, store.get; timed by wrapping the store's
//     methods, so store.get counts every caller);
//   {type: 'stop'}: closes the server and exits.
// BENCH_STALLS=phase[,phase...]: the stalls of over 20 ms in those phases, seen by a 5 ms timer (a little load
//   of its own): the loop answer's phases[name].stalls = {n, ms, runMs, waitMs, gcMs, longest: {ms, runMs,
//   waitMs, gcMs}}: how long of them the main thread ran, waited for a CPU, and GC pauses covered.
// BENCH_PROFILE=phase[,phase...] (with BENCH_PROFILE_DIR): a CPU profile of the server (node:inspector,
//   BENCH_PROFILE_US sampling interval, default 200 us) over each such phase, written to
//   BENCH_PROFILE_DIR/server-PID-PHASE.cpuprofile when the phase ends (open in Chrome DevTools), and
//   server-PID-PHASE.stalls.json: the stalls (as BENCH_STALLS) meanwhile, each with fromUs and toUs on the
//   profile's clock (CLOCK_MONOTONIC in us), to look them up in the profile.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '@sisyphus/server';

let server;
try {
  server = await startServer({ port: 0, ...JSON.parse(process.argv[2] ?? '{}') });
  process.send({ type: 'ready', url: server.url });
} catch (error) {
  process.send({ type: 'error', message: error?.stack ?? String(error) });
  process.exit(1);
}

// Heartbeats inside the server: the HTTP exchange, and the store calls.
let timings = {};
const timed = (name, ms) => (timings[name] ??= []).push(ms);
server.app.server.prependListener('request', (req, res) => {
  if (req.method !== 'POST' || !req.url.startsWith('/workers/')) return;
  const t0 = performance.now();
  res.once('finish', () => timed('http', performance.now() - t0));
});
const store = server.context.store;
for (const name of ['heartbeat', 'renew', 'get']) {
  const call = store[name].bind(store);
  store[name] = async (...args) => {
    const t0 = performance.now();
    try {
      return await call(...args);
    } finally {
      timed(name, performance.now() - t0);
    }
  };
}
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { p50: at(50), p99: at(99), max: s[s.length - 1], n: s.length };
};

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let phase = 'start';
const phases = {};
let cpu0 = process.cpuUsage();
let wall0 = performance.now();
/** The main thread's time on a CPU and waiting for one (ms), since it started. */
function schedstat() {
  try {
    const [run, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return { runMs: NaN, waitMs: NaN };
  }
}
let sched0 = schedstat();

// GC pauses, by the phase they started in (entries arrive a little later than they happen).
const GC_KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const timeline = [{ name: phase, from: 0 }];
const gcOf = {};
function countGc(entry) {
  let at = timeline.length - 1;
  while (at > 0 && timeline[at].from > entry.startTime) at--;
  const gc = (gcOf[timeline[at].name] ??= { count: 0, ms: 0, max: 0, maxKind: '-', kinds: {} });
  const kind = GC_KINDS[entry.detail?.kind ?? entry.kind] ?? String(entry.detail?.kind);
  if (watched.has(timeline[at].name)) gcSpans.push({ from: entry.startTime, to: entry.startTime + entry.duration, kind });
  const k = (gc.kinds[kind] ??= { count: 0, ms: 0, max: 0 });
  gc.count++;
  gc.ms += entry.duration;
  k.count++;
  k.ms += entry.duration;
  k.max = Math.max(k.max, entry.duration);
  if (entry.duration > gc.max) {
    gc.max = entry.duration;
    gc.maxKind = kind;
  }
}
const gcObserver = new PerformanceObserver((list) => list.getEntries().forEach(countGc));
gcObserver.observe({ entryTypes: ['gc'] });

// Optional CPU profiles of some phases.
const profileDir = process.env.BENCH_PROFILE_DIR;
const profiled = new Set(profileDir ? (process.env.BENCH_PROFILE ?? '').split(',').map((s) => s.trim()).filter(Boolean) : []);
let session;
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
let profiling;
async function profileSwitch(from, to) {
  if (!profileDir || !profiled.size) return;
  if (profiling) {
    profiling = undefined;
    const { profile } = await post('Profiler.stop');
    writeFileSync(join(profileDir, `server-${process.pid}-${from}.cpuprofile`), JSON.stringify(profile));
    setTimeout(() => writeStalls(from), 50); // (after the last GC entries came in)
  }
  if (profiled.has(to)) {
    if (!session) {
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_PROFILE_US ?? 200) });
    }
    await post('Profiler.start');
    profiling = to;
    // Starting the profiler (the first time above all) stalls the server for tens of ms: not counted.
    delay.reset();
    if (phase === to) watchStalls(to);
  }
}

// Stalls of some phases (BENCH_STALLS and BENCH_PROFILE): gaps of over 20 ms between the ticks of a 5 ms timer,
// with how long the main thread ran and waited for a CPU meanwhile, and how much of them GC pauses cover.
const watched = new Set([...profiled, ...(process.env.BENCH_STALLS ?? '').split(',').map((s) => s.trim()).filter(Boolean)]);
const stallsOf = {};
const gcSpans = [];
/** performance.now() + this = CLOCK_MONOTONIC in ms (the CPU profile's clock). */
const monotonicOffset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
let watching;
function watchStalls(name) {
  watching = name;
  const list = (stallsOf[name] ??= []);
  let last = performance.now();
  let lastSched = schedstat();
  const tick = () => {
    if (watching !== name) return;
    const t = performance.now();
    const sched = schedstat();
    if (t - last > 20) list.push({ from: last, to: t, ms: t - last, runMs: sched.runMs - lastSched.runMs, waitMs: sched.waitMs - lastSched.waitMs });
    last = t;
    lastSched = sched;
    setTimeout(tick, 5);
  };
  setTimeout(tick, 5);
}
function gcWithin(from, to) {
  let ms = 0;
  for (const g of gcSpans) ms += Math.max(0, Math.min(to, g.to) - Math.max(from, g.from));
  return ms;
}
function stallSummary(list) {
  const sum = (k) => list.reduce((a, x) => a + x[k], 0);
  const gcMs = list.map((x) => gcWithin(x.from, x.to));
  const at = list.reduce((best, x, i) => (x.ms > (list[best]?.ms ?? 0) ? i : best), 0);
  const longest = list[at] ? { ms: list[at].ms, runMs: list[at].runMs, waitMs: list[at].waitMs, gcMs: gcMs[at] } : undefined;
  return { n: list.length, ms: sum('ms'), runMs: sum('runMs'), waitMs: sum('waitMs'), gcMs: gcMs.reduce((a, b) => a + b, 0), longest };
}
function writeStalls(name) {
  if (!profileDir || !profiled.has(name)) return;
  const file = join(profileDir, `server-${process.pid}-${name}.stalls.json`);
  const us = (ms) => Math.round((ms + monotonicOffset) * 1000);
  writeFileSync(file, JSON.stringify((stallsOf[name] ?? []).map((x) => ({ ...x, fromUs: us(x.from), toUs: us(x.to), gcMs: gcWithin(x.from, x.to) }))));
}
let profileQueue = Promise.resolve();

function closePhase() {
  // The histogram holds the intervals (ns) between ticks of a 10 ms timer: the stall is what exceeds 10 ms.
  const stall = (ns) => Math.max(0, ns / 1e6 - 10);
  const cpu = process.cpuUsage(cpu0);
  const sched = schedstat();
  phases[phase] = {
    p99: stall(delay.percentile(99)),
    max: stall(delay.max),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - wall0,
    mainRunMs: sched.runMs - sched0.runMs,
    mainWaitMs: sched.waitMs - sched0.waitMs,
    heartbeats: Object.fromEntries(Object.entries(timings).map(([name, xs]) => [name, summary(xs)])),
  };
  timings = {};
  delay.reset();
  cpu0 = process.cpuUsage();
  wall0 = performance.now();
  sched0 = sched;
}

async function stop() {
  try {
    await server.close();
  } finally {
    process.exit(0);
  }
}
process.on('message', (message) => {
  if (message?.type === 'phase') {
    closePhase();
    const from = phase;
    phase = message.name;
    timeline.push({ name: phase, from: performance.now() });
    watching = undefined;
    if (watched.has(phase) && !profiled.has(phase)) watchStalls(phase); // (a profiled phase: once the profiler runs)
    profileQueue = profileQueue.then(() => profileSwitch(from, message.name)).catch((error) => console.error(`scale-server: profile: ${error.message}`));
  } else if (message?.type === 'loop') {
    closePhase();
    // GC entries are delivered asynchronously: let the last ones in first.
    setTimeout(() => {
      for (const [name, gc] of Object.entries(gcOf)) if (phases[name]) phases[name].gc = gc;
      for (const [name, list] of Object.entries(stallsOf)) if (phases[name]) phases[name].stalls = stallSummary(list);
      process.send({ type: 'loop', phases });
    }, 50);
  } else if (message?.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
