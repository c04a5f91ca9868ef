#!/usr/bin/env node
// Watch folders at scale (issue 16 §2): a tree of BENCH_WATCH_FILES files (default 10,000, in
// folders of 100) watched by one rule of a real server (this process; SQLite file, and Redis when
// BENCH_WATCH_STORES names it), measured in four phases:
//   1. first scan: every file is new, so every file is judged, fingerprinted and submitted as a job
//      (rendered from a template, checked as POST /queue checks it, queued);
//   2. rescan with nothing changed (what the scan every scan_interval_seconds costs on a quiet library);
//   3. dry run (POST /watch/rules/NAME/scan?dry_run=true): the listing of every file and why;
//   4. rescan after 1% of the files were touched (same content, new time: fingerprinted, no job)
//      and 1% changed (new jobs).
// Between 1 and 2 every job is leased and completed through the store (as workers would), and the
// settling of those 10,000 ends (the event log -> each file's record) is timed too.
// For each: wall time, files per second, jobs submitted, the process's peak RSS during the phase
// (sampled every 10 ms) and its heap after; also the RSS and heap before the server started. Phase 1
// includes the watcher's set-up (chokidar keeps one inotify watch per file: about +68 MB RSS and 2 s
// for 10,000 files on its own). Needs the built packages (npm run build).
//
//   node bench/watch-scan.mjs      (BENCH_WATCH_FILES=10000 BENCH_WATCH_STORES=sqlite[,redis]
//                                   BENCH_REDIS=redis://127.0.0.1:6379/0)
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { deleteRedisKeys } from './scale-lib.mjs';

const FILES = Number(process.env.BENCH_WATCH_FILES ?? 10_000);
const PER_FOLDER = 100;
const STORES = (process.env.BENCH_WATCH_STORES ?? 'sqlite').split(',').filter(Boolean);
const REDIS = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379/0';

const { createServer } = await import('../plugins/server/dist/index.js');
const { openSqliteStore } = await import('../plugins/server/dist/store/sqlite-store.js');

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** Run `fn`, sampling RSS every 10 ms: its result, wall ms, peak RSS. */
async function measured(fn) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const start = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - start, peak: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

async function until(what, probe, ms = 600_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function makeTree(root) {
  for (let f = 0; f < FILES; f += PER_FOLDER) {
    const folder = join(root, `show-${String(f / PER_FOLDER).padStart(4, '0')}`, 'season-1');
    await mkdir(folder, { recursive: true });
    await Promise.all(
      Array.from({ length: Math.min(PER_FOLDER, FILES - f) }, (_, i) => writeFile(join(folder, `episode-${String(f + i).padStart(6, '0')}.mkv`), `episode ${f + i} ${randomUUID()}\n`.repeat(8))),
    );
  }
}

function line(name, m, files) {
  const r = m.result;
  const rate = files / (m.ms / 1000);
  console.log(
    `  ${name.padEnd(34)} ${(m.ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(rate).toString().padStart(6)} files/s  submitted ${String(r.submitted).padStart(6)}  ` +
      `skipped ${JSON.stringify(r.skipped)}  peak RSS ${mb(m.peak)}  heap ${mb(process.memoryUsage().heapUsed)}`,
  );
}

async function bench(storeKind) {
  const dir = await mkdtemp(join(tmpdir(), 'sis-bench-watch-'));
  const root = join(dir, 'library');
  const template = join(dir, 'template.json');
  let prefix;
  try {
    await makeTree(root);
    await writeFile(template, JSON.stringify({ job_title: 'transcode {{ name }}', tasks: [{ module: 'noop', data: { source: '{{ source_file }}', output: '/out/{{ relative_path }}' } }] }));
    global.gc?.();
    const before = process.memoryUsage();
    let store;
    if (storeKind === 'redis') {
      const { BullmqStore } = await import('../plugins/redis/dist/index.js');
      prefix = `sis-bench-watch-${randomUUID().slice(0, 8)}`;
      store = await BullmqStore.open({ connection: REDIS, prefix });
    } else store = openSqliteStore(join(dir, 'server.db'));
    const rule = { name: 'library', folders: [root], template, include: ['*.mkv'], stable_seconds: 0, scan_interval_seconds: 86_400 };
    console.log(`\n${storeKind}: ${FILES} files in ${Math.ceil(FILES / PER_FOLDER)} folders; before the server: RSS ${mb(before.rss)}, heap ${mb(before.heapUsed)}`);
    let server;
    const first = await measured(async () => {
      server = await createServer(store, { watch: [rule], acceptUnknownModules: true });
      const view = await until('the first scan', async () => {
        const res = await server.app.inject({ method: 'GET', url: '/watch/rules/library' });
        return res.json().last_scan;
      });
      return view;
    });
    line('1. first scan (all new: jobs)', first, FILES);
    // Every job ends (completed), as workers would report them; the watcher settles each file's record from the event log.
    const store2 = server.context.store;
    const ids = [];
    const ends = await measured(async () => {
      for (;;) {
        const job = await store2.lease('bench-worker', 600_000, Date.now());
        if (!job) break;
        ids.push(job.job_id);
        await store2.finish(job.job_id, 'bench-worker', { state: 'completed', result: { completed: true } }, Date.now());
        // (As reports over HTTP would, each one lets the server's other work run: the event log's reader among it.)
        await new Promise((r) => setImmediate(r));
      }
      // (The log is read within about 100 ms of the last append; then the backlog is worked through.)
      await store2.flush();
      await new Promise((r) => setTimeout(r, 500));
      await server.watch.settled();
      // Ends the log trimmed before this server read them (a burst beyond EVENT_LOG_KEEP) are settled lazily, in phase 2.
      let open = 0;
      for (let i = 0; i < ids.length; i += 500) open += (await Promise.all(ids.slice(i, i + 500).map((id) => store.watch.fileOfJob(id)))).filter(Boolean).length;
      return { submitted: 0, skipped: { settled: ids.length - open, 'left to phase 2': open } };
    });
    line(`   ${FILES} jobs ended and settled`, ends, FILES);
    const inject = async (url) => {
      const res = await server.app.inject({ method: 'POST', url });
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json();
    };
    line('2. rescan, nothing changed', await measured(() => inject('/watch/rules/library/scan')), FILES);
    line('3. dry run (every file listed)', await measured(() => inject('/watch/rules/library/scan?dry_run=true&limit=100000')), FILES);
    // 1% touched (same content, new time), 1% changed.
    const later = new Date(Date.now() + 60_000);
    for (let i = 0; i < FILES; i += 100) {
      const path = join(root, `show-${String(Math.floor(i / PER_FOLDER)).padStart(4, '0')}`, 'season-1', `episode-${String(i).padStart(6, '0')}.mkv`);
      await utimes(path, later, later);
      const changed = join(root, `show-${String(Math.floor((i + 1) / PER_FOLDER)).padStart(4, '0')}`, 'season-1', `episode-${String(i + 1).padStart(6, '0')}.mkv`);
      await writeFile(changed, `changed ${randomUUID()}\n`);
    }
    line('4. rescan, 1% touched, 1% changed', await measured(() => inject('/watch/rules/library/scan')), FILES);
    // (The watcher saw the same changes: whichever judged a file first submitted it; each change is one job.)
    await until('the watcher to settle', async () => server.watch.runner('library').tracker.size.waiting === 0);
    await new Promise((r) => setTimeout(r, 500));
    const tracked = server.watch.runner('library').tracker.size;
    console.log(`  jobs queued after phase 4: ${await store2.queueLength()} (expected ${Math.ceil(FILES / 100)}); tracked files ${tracked.seen}; final RSS ${mb(process.memoryUsage().rss)}`);
    await server.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (prefix) await deleteRedisKeys(REDIS, prefix);
  }
}

for (const kind of STORES) await bench(kind);
