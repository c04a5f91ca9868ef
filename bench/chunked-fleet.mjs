// The fleet of bench:chunked: a real job server (startServer, SQLite in the
// run's temp dir, a free port) in this process, and real worker processes
// (`node core/dist/cli/bin.js worker --config FILE`, concurrency 1 each), each
// pinned to one core with `taskset -c CORE`; its ffmpeg inherits the pinning,
// so one worker is one core. Jobs go in through POST /queue; their records,
// children and timings come back through GET /jobs/{id} and
// GET /jobs/{id}/children, as any client sees them.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@sisyphus/server';

const CLI = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (iso) => Date.parse(iso);
const FINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Start the server and one worker per entry of `cores` (worker `chunked-K`
 * pinned to `cores[K - 1]`), every path a job names inside `roots`. Logs of
 * the workers go to `dir/worker-K.log`. Resolves once every worker has sent
 * a heartbeat.
 */
export async function startFleet({ dir, cores, roots }) {
  const server = await startServer({ port: 0, db: join(dir, 'server.db'), clientExpirySeconds: 30 });
  const api = server.url;
  const call = async (method, path, body) => {
    const res = await fetch(`${api}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const workers = [];
  for (const [i, core] of cores.entries()) {
    const id = `chunked-${i + 1}`;
    const config = join(dir, `worker-${i + 1}.json`);
    await mkdir(join(dir, `state-${i + 1}`), { recursive: true });
    await writeFile(
      config,
      JSON.stringify({
        allowedRoots: roots,
        worker: { id, concurrency: 1, stateDir: join(dir, `state-${i + 1}`), heartbeatInterval: 2 },
        transport: { options: { apiUrl: api } },
      }),
    );
    const log = createWriteStream(join(dir, `worker-${i + 1}.log`));
    // setpriv --pdeathsig: a worker dies with this process (and its ffmpeg with it), so no worker outlives a killed bench.
    const child = spawn('taskset', ['-c', String(core), 'setpriv', '--pdeathsig', 'KILL', process.execPath, CLI, 'worker', '--config', config, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    workers.push({ id, core, child, log: join(dir, `worker-${i + 1}.log`) });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const online = new Set((await call('GET', '/workers')).workers.map((w) => w.worker_id));
    if (workers.every((w) => online.has(w.id))) break;
    const dead = workers.find((w) => w.child.exitCode !== null);
    if (dead) throw new Error(`worker ${dead.id} exited with ${dead.child.exitCode} before its first heartbeat (see ${dead.log})`);
    if (Date.now() > deadline) throw new Error(`workers not online after 60 s (see ${workers.map((w) => w.log).join(', ')})`);
    await sleep(200);
  }
  return {
    api,
    call,
    workers,
    /** Let only the first `n` workers take jobs (the others are disabled: PATCH /workers/{id} {disabled}). */
    async use(n) {
      for (const [i, w] of workers.entries()) await call('PATCH', `/workers/${w.id}`, { disabled: i >= n });
    },
    /** Submit `job` and wait for its end; see {@link collect} for what it answers. Throws when it did not complete. */
    async runJob(job) {
      const { job_id } = await call('POST', '/queue', job);
      let waiting;
      for (;;) {
        const view = await call('GET', `/jobs/${job_id}`);
        // The first run's record of a chunked job is there only while it waits for its children.
        if (view.state === 'waiting-children' && !waiting) waiting = view;
        if (FINAL.has(view.state)) {
          if (view.state !== 'completed') throw new Error(`job ${job_id} (${job.job_title}) ${view.state}: ${view.reason ?? view.result?.message ?? '?'}`);
          return collect(call, view, waiting);
        }
        await sleep(waiting ? 250 : 100);
      }
    },
    /** Stop the workers (SIGTERM: nothing runs by now, so they exit at once; SIGKILL after 10 s) and the server. */
    async close() {
      await Promise.all(
        workers.map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }),
      );
      await server.close();
    },
  };
}

/**
 * A finished job's timings (ms; server times, from its record):
 *   - `total`: submitted (`added`) to finished; `start`: its (last) start;
 *   - for a chunked job also `plan` (its first run, the waiting result's
 *     `runtime`), `resume` (the resumed run: resumed start to finish),
 *     `toFirstChild` (first run's end to the first child's start),
 *     `toResume` (last child's end to the resumed start), and `chunks`: per
 *     child in timeline order {frames, start, end (epoch ms), worker, run
 *     (the child's result `runtime`, ms), phases (its task's `durations`),
 *     data (its task's data)}.
 */
async function collect(call, view, waiting) {
  const out = { job_id: view.job_id, total: ms(view.finished_at) - ms(view.added), added: ms(view.added), start: ms(view.started_at), finished: ms(view.finished_at), result: view.result };
  if (!waiting) return out;
  const first = waiting.result;
  const firstEnd = ms(first.end_time);
  const listing = await call('GET', `/jobs/${view.job_id}/children`);
  const chunks = [];
  for (const summary of listing.all) {
    if (summary.job_id === listing.flow?.finally_id) continue;
    const child = await call('GET', `/jobs/${summary.job_id}`);
    const video = child.tasks[0].data.output_maps.find((m) => m.options?.frames !== undefined);
    const index = Number(/chunk (\d+) of/.exec(child.job_title)?.[1] ?? chunks.length + 1);
    chunks.push({
      index,
      job_id: child.job_id,
      frames: Number(video.options.frames),
      start: ms(child.started_at),
      end: ms(child.finished_at),
      worker: child.worker_id,
      run: child.result.runtime * 1000,
      phases: child.result.tasks[0].durations,
      data: child.tasks[0].data,
    });
  }
  chunks.sort((a, b) => a.index - b.index);
  const resumedStart = ms(view.started_at);
  return {
    ...out,
    plan: first.runtime * 1000,
    planPhases: first.tasks.at(-1).durations,
    firstStart: ms(first.start_time),
    resume: ms(view.finished_at) - resumedStart,
    resumePhases: view.result.tasks.at(-1).durations,
    toFirstChild: Math.min(...chunks.map((c) => c.start)) - firstEnd,
    toResume: resumedStart - Math.max(...chunks.map((c) => c.end)),
    chunks,
  };
}
