// bench:scale, part `routing` (issue 16 §1): does a queue full of jobs nobody
// polling can run slow down the poll of a worker that can run the jobs behind
// them? For each store, a real server (createServer on port 0, in this
// process) and a worker that heartbeats its capabilities (ffmpeg, libx264, no
// GPU) and then polls `GET /queue/poll?worker_id=` over loopback HTTP, each
// poll leasing one job:
//   - baseline: BENCH_ROUTING_JOBS jobs it can run, nothing else queued;
//   - blocked: the same behind BENCH_ROUTING_BLOCKED (default 10,000) jobs at a
//     higher priority that only an absent GPU worker could run
//     (`requires: {encoders: [hevc_nvenc], tags: [gpu]}`), in 50 requirement
//     sets (one per tag gpu-0..gpu-49) so the lease has several heads to look at.
// The two alternate in blocks of 25 polls on two servers of the same kind, so
// the machine's other load hits both alike; printed: p50 and p99 of each and
// the ratio blocked/baseline (target: about 1; a lease that walked past the
// blocked jobs would be hundreds of times slower). Jobs are queued with
// store.submit (the requirements as the server's submission derives them).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, openSqliteStore } from '@sisyphus/server';
import { fmtMs, fmtN, log, now, pct, waitForQuiet } from './scale-lib.mjs';

const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const RUNNABLE = { all: ['binary:ffmpeg', 'encoder:libx264', 'module:ffmpeg'], explicit: false };
const blockedSet = (i) => ({ all: ['binary:ffmpeg', 'encoder:hevc_nvenc', 'module:ffmpeg', `tag:gpu-${i % 50}`], explicit: true });
const CAPABILITIES = { modules: ['ffmpeg'], binaries: { ffmpeg: '5.1' }, encoders: ['libx264', 'aac'], hwaccels: [], gpus: [], tags: ['cpu'] };

function newJob(requires, priority) {
  const id = randomUUID();
  const added = new Date().toISOString();
  const doc = { job_title: `routing ${id.slice(0, 8)}`, tasks: [{ module: 'ffmpeg', data: { input: 'a.mkv', output: 'b.mkv' } }] };
  return { job_id: id, job_title: doc.job_title, priority, added, job: { ...doc, job_id: id, added }, requires };
}

async function openStore(kind, dir, redisUrl, prefixes) {
  if (kind === 'sqlite') return openSqliteStore(join(dir, `routing-${randomUUID()}.db`));
  const { BullmqStore } = await import('@sisyphus/redis');
  const prefix = `sisyphus-bench-routing-${randomUUID()}`;
  prefixes.add(prefix);
  return BullmqStore.open({ connection: redisUrl, prefix });
}

async function startOne(kind, dir, redisUrl, prefixes, blocked, runnable) {
  const store = await openStore(kind, dir, redisUrl, prefixes);
  for (let i = 0; i < blocked; i += 200) await Promise.all(Array.from({ length: Math.min(200, blocked - i) }, (_, k) => store.submit(newJob(blockedSet(i + k), 5))));
  for (let i = 0; i < runnable; i += 200) await Promise.all(Array.from({ length: Math.min(200, runnable - i) }, () => store.submit(newJob(RUNNABLE, 0))));
  const server = await createServer(store, { acceptUnknownModules: true });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const api = `http://127.0.0.1:${server.app.server.address().port}`;
  const workerId = `bench-cpu-${randomUUID().slice(0, 8)}`;
  const beat = await fetch(`${api}/workers/${workerId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'idle', hostname: 'bench', version: '0', online_at: new Date().toISOString(), capabilities: CAPABILITIES }),
  });
  if (!beat.ok) throw new Error(`heartbeat: ${beat.status}`);
  return { server, api, workerId };
}

/** One poll that must lease a job: its time in ms. */
async function pollOnce({ api, workerId }) {
  const t = now();
  const res = await fetch(`${api}/queue/poll?worker_id=${workerId}`);
  const ms = now() - t;
  const body = await res.json();
  if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${JSON.stringify(body)}`);
  if (body.tasks?.[0]?.module !== 'ffmpeg' || !String(body.job_title).startsWith('routing')) throw new Error('poll handed out something unexpected');
  return ms;
}

/** Run the routing part for each store; the results for {@link reportRouting}. */
export async function runRoutingBench(stores, { redisUrl, prefixes, quietS, failures }) {
  const blocked = num('BENCH_ROUTING_BLOCKED', 10_000);
  const polls = num('BENCH_ROUTING_POLLS', 300);
  const dir = await mkdtemp(join(tmpdir(), 'sisyphus-routing-'));
  const results = [];
  try {
    for (const kind of stores) {
      let base;
      let full;
      try {
        log(`[routing ${kind}] queueing ${fmtN(polls)} runnable jobs, and ${fmtN(blocked)} only an absent GPU worker could run ahead of them on the second server`);
        base = await startOne(kind, dir, redisUrl, prefixes, 0, polls);
        full = await startOne(kind, dir, redisUrl, prefixes, blocked, polls);
        await waitForQuiet(`routing ${kind}`, quietS);
        for (let i = 0; i < 5; i++) {
          // warm-up (connections, statement caches); their jobs are not counted
          await pollOnce(base);
          await pollOnce(full);
        }
        const times = { base: [], full: [] };
        for (let done = 5; done < polls; done += 25) {
          const n = Math.min(25, polls - done);
          for (let i = 0; i < n; i++) times.base.push(await pollOnce(base));
          for (let i = 0; i < n; i++) times.full.push(await pollOnce(full));
        }
        const left = await full.server.context.store.queueLength();
        results.push({ kind, blocked, polls: times.base.length, base: times.base, full: times.full, left });
      } catch (error) {
        failures.push(`routing ${kind}: ${error.message}`);
        log(`[routing ${kind}] FAILED: ${error.stack}`);
      } finally {
        await base?.server.close();
        await full?.server.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/** Print the routing part's table. */
export function reportRouting(results) {
  console.log(`\n== routing: polls of a worker that can run the jobs behind ${fmtN(results[0]?.blocked ?? 0)} queued jobs it cannot run (ms; ratio to the same polls with nothing blocking) ==`);
  console.log('store    polls  baseline p50  p99   blocked p50  p99   ratio p50  p99   blocked jobs left queued');
  for (const r of results) {
    const b50 = pct(r.base, 50), b99 = pct(r.base, 99), f50 = pct(r.full, 50), f99 = pct(r.full, 99);
    const ratio = (x, y) => (x / y).toFixed(2);
    console.log(
      `${r.kind.padEnd(8)} ${String(r.polls).padStart(5)}  ${fmtMs(b50).padStart(12)} ${fmtMs(b99).padStart(5)}   ${fmtMs(f50).padStart(11)} ${fmtMs(f99).padStart(5)}   ${ratio(f50, b50).padStart(9)} ${ratio(f99, b99).padStart(5)}   ${fmtN(r.left)}` +
        `  ${f50 / b50 <= 1.5 ? 'PASS' : 'FAIL'} (p50 ratio <= 1.5)`,
    );
  }
}
