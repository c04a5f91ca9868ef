import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';
import { CliProcesses, alive, apiCall, ffmpegChildren, freePort, logLines, outputTail, taskRuns, until, type CliProcess, type LogLine } from './support/processes.js';
import { PrivateRedis } from './support/redis-server.js';

// Issue 11 §1: an outage never drops a finished result. Real `sisyphus server`
// and `sisyphus worker` processes, times scaled down from the defaults (lease
// 30 s, heartbeat 5 s, retry 20 s) to lease 3 s, heartbeat 0.5 s, retry 1 s.
// Every job is one real ffmpeg encode read at its native rate (`-re`), so it
// takes as long as its source (ENCODE_SECONDS) whatever the machine's load.
// Each outage lasts twice the lease and the job finishes inside it: every
// lease has run out by the time the server (or its store) is back, and the
// worker's report of the finished job fails at least once (or hangs). An idle
// second worker would take (and re-run) any job that went back to the queue.
//
// Scaled down, a worker heartbeats (every 0.5 s) sooner after an outage than
// the server's first lease sweep (every 1 s, not configurable), while with the
// defaults (5 s) the sweep comes first. So the "silent" variants freeze the
// holder (SIGSTOP) across the end of the outage for half a lease: without the
// grace period its lease expires meanwhile; and the "requeued" variants keep it
// frozen past the grace period, so the sweep requeues the job, to show that
// its last holder's result is still accepted.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const LEASE_SECONDS = 3;
const OUTAGE_MS = 2 * LEASE_SECONDS * 1000;
/** Length of the source, so of a `-re` encode of it. */
const ENCODE_SECONDS = 5;
/** How long the job runs before the outage begins. */
const RUN_BEFORE_OUTAGE_MS = 1000;
const WORKER_SETTINGS = `  heartbeatInterval: 0.5\n  pollInterval: 5\n  networkRetryInterval: 1\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type JobView = {
  job_id: string;
  state: string;
  attempts: number;
  worker_id?: string;
  result?: { worker_id?: string; completed?: boolean; runtime?: number };
};

/** A one-task job: ffmpeg re-encodes the video of `source`, reading it at its native rate (`-re`). */
function slowEncode(title: string, source: string, out: string) {
  return {
    job_title: title,
    tasks: [
      {
        module: 'ffmpeg',
        data: {
          input_options: { re: true },
          sources: [source],
          source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
          output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast' } }],
          output_file: out,
          overwrite: true,
        },
      },
    ],
  };
}


async function kill(p: CliProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
  p.child.kill(signal);
  await exited;
}

/**
 * Everything one describe block needs: its processes, their logs, its API,
 * and the checks every case makes.
 */
class Rig {
  dir = '';
  api = '';
  readonly cli = new CliProcesses(bin, () => this.dir);
  server: CliProcess | undefined;

  call<T = any>(method: string, path: string, body?: unknown) {
    return apiCall<T>(this.api, method, path, body);
  }

  async job(id: string): Promise<JobView> {
    return (await this.call<JobView>('GET', `/jobs/${id}`)).json;
  }

  async submit(title: string): Promise<{ id: string; out: string }> {
    const out = join(this.dir, 'out', `${title.replace(/\W+/g, '-')}.mkv`);
    const res = await this.call<{ job_id: string }>('POST', '/queue', slowEncode(title, join(this.dir, 'in', 'clip.mkv'), out));
    expect(res.status).toBe(200);
    return { id: res.json.job_id, out };
  }

  /** Start the server with `config`; resolves once it answers (the time it did). */
  async startServer(config: string): Promise<number> {
    this.server = this.cli.start('server', ['server', '--config', join(this.dir, config)]);
    const server = this.server;
    await until('the server', async () => {
      if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}): ${server.out.join('')}`);
      return (await fetch(`${this.api}/status/health`).then((r) => r.ok, () => false)) || undefined;
    }, 60_000);
    return Date.now();
  }

  worker(id: string): CliProcess {
    return this.cli.list.filter((p) => p.name === `worker ${id}` && p.child.exitCode === null && p.child.signalCode === null).at(-1)!;
  }

  workerLines(): LogLine[] {
    return this.cli.list.filter((p) => p.name.startsWith('worker')).flatMap(logLines);
  }

  count(text: string): number {
    return this.workerLines().filter((l) => l.message.includes(text)).length;
  }

  /** Wait until job `id` runs on a worker and its ffmpeg is up; the holder's id. */
  async running(id: string): Promise<string> {
    const holder = await until(`job ${id} to run`, async () => {
      const j = await this.job(id);
      return j.state === 'running' && j.worker_id ? j.worker_id : undefined;
    }, 30_000);
    const worker = this.worker(holder);
    await until(`the ffmpeg of job ${id}`, () => ffmpegChildren(worker.child.pid!).length > 0 || undefined, 15_000);
    return holder;
  }

  /** Wait until job `id` has left `running` and its worker has logged what became of its report. */
  async settled(id: string, ms = 30_000): Promise<number> {
    const at = await until(`job ${id} to complete`, async () => ((await this.job(id)).state !== 'running' ? Date.now() : undefined), ms);
    const outcome = [`job ${id} reported`, `refused the result of job ${id}`, `cannot report job ${id}`];
    await until(`the worker to log the report of job ${id}`, () => this.workerLines().some((l) => outcome.some((o) => l.message.includes(o))) || undefined, 10_000);
    return at;
  }

  /** When a worker (any, or the one named) logged `job ID done in ...` (undefined before). */
  doneAt(id: string, worker?: string): number | undefined {
    return this.lineOf(`job ${id} done in `, worker)?.at;
  }

  /** The first log line of a worker (any, or the one named) that starts with `text`. */
  lineOf(text: string, worker?: string): LogLine | undefined {
    const procs = this.cli.list.filter((p) => (worker ? p.name === `worker ${worker}` : p.name.startsWith('worker')));
    return procs.flatMap(logLines).find((l) => l.message.startsWith(text));
  }

  /**
   * The job ran exactly once, on `holder`, and its result was accepted: completed, leased once,
   * started once, its task run once, reported once and never refused; the result record stored.
   */
  async expectRanOnce(id: string, holder: string, out: string): Promise<JobView> {
    const j = await this.job(id);
    expect(this.cli.startsOf(id), `starts of ${id}`).toBe(1);
    expect(j.attempts, `attempts of ${id}`).toBe(1);
    expect(this.count(`refused the result of job ${id}`), `refusals of ${id}`).toBe(0);
    expect(j.state, `state of ${id}`).toBe('completed');
    expect(j.result?.completed, `result.completed of ${id}`).toBe(true);
    expect(j.result?.worker_id, `result.worker_id of ${id}`).toBe(holder);
    // The encode ran its full length (read at the native rate): the stored runtime is the worker's.
    expect(j.result?.runtime, `result.runtime of ${id}`).toBeGreaterThanOrEqual(ENCODE_SECONDS - 1);
    expect(taskRuns(this.workerLines(), id, 1, 'ffmpeg'), `task runs of ${id}`).toBe(1);
    expect(this.count(`job ${id} reported`), `reports of ${id}`).toBe(1);
    expect(this.count(`cannot report job ${id}`), `lost reports of ${id}`).toBe(0);
    expect(this.count(`the server cancelled job ${id}`), `cancels of ${id}`).toBe(0);
    expect(existsSync(out), `output of ${id}`).toBe(true);
    return j;
  }

  /** Job states and the tail of every process's output, for a failure message. */
  async diagnostics(ids: string[], extra = ''): Promise<string> {
    const states = await Promise.all(
      ids.map((id) => this.job(id).then((j) => `${id} ${j.state} attempts=${j.attempts} worker=${j.worker_id ?? '-'} result=${JSON.stringify(j.result ?? null)}`, (e: unknown) => `${id} ? (${String(e)})`)),
    );
    const tails = this.cli.list.map(
      (p) => `--- ${p.name} (pid ${p.child.pid}, exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'})\n${outputTail(p, 60)}`,
    );
    return [...states, ...tails, extra].join('\n');
  }

  async close(): Promise<void> {
    for (const p of [...this.cli.list].reverse()) await kill(p);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Outage timings of one case, printed at its end. */
function timings(label: string, t: Record<string, number>, origin: number): void {
  console.log(`${label}: ${Object.entries(t).map(([k, v]) => `${k} +${((v - origin) / 1000).toFixed(1)} s`).join(', ')}`);
}

describe('SQLite server: an outage never drops a finished result', () => {
  const rig = new Rig();
  const WORKERS = ['wA', 'wB'];

  const startWorker = (id: string) =>
    rig.cli.start(`worker ${id}`, ['worker', '--config', join(rig.dir, 'worker.yaml')], { HOST_UUID: id, HOSTNAME_OVERRIDE: `host-${id}`, API_URL: rig.api });

  beforeAll(async () => {
    rig.dir = await mkdtemp(join(tmpdir(), 'sis-outage-'));
    const port = await freePort();
    rig.api = `http://127.0.0.1:${port}`;
    await mkdir(join(rig.dir, 'out'));
    await makeSample(join(rig.dir, 'in', 'clip.mkv'), { duration: ENCODE_SECONDS, size: '320x240' });
    await writeFile(
      join(rig.dir, 'server.yaml'),
      `server:\n  port: ${port}\n  db: ${join(rig.dir, 'server.db')}\n  leaseSeconds: ${LEASE_SECONDS}\n  clientExpirySeconds: 10\n  maxAttempts: 5\n`,
    );
    await writeFile(join(rig.dir, 'worker.yaml'), `worker:\n${WORKER_SETTINGS}  stateDir: ${join(rig.dir, 'state')}\n`);
    await rig.startServer('server.yaml');
    for (const id of WORKERS) startWorker(id);
    await until('both workers', async () => (await rig.call<{ count: number }>('GET', '/workers')).json.count === 2 || undefined, 30_000);
  }, 60_000);

  afterAll(() => rig.close(), 30_000);

  /**
   * Kill the server mid-encode, keep it down for twice the lease while the job finishes (its report
   * fails and is kept), start it again on the same db and port. With `silentMs`, the holder is frozen
   * (SIGSTOP) from just after its failed report until that long after the server is back: it cannot
   * heartbeat or report then, as with the default heartbeat (5 s) against the sweep (every second).
   */
  async function serverKilled(label: string, silentMs: number) {
    const { id, out } = await rig.submit(label);
    onTestFailed(async () => console.log(await rig.diagnostics([id])));
    const holder = await rig.running(id);
    const worker = rig.worker(holder);
    await sleep(RUN_BEFORE_OUTAGE_MS);
    const t0 = Date.now();
    await kill(rig.server, 'SIGKILL');
    const downAt = Date.now();
    // The other worker (idle, polling) would take the job if it went back to the queue.
    const kept = join(rig.dir, 'state', 'outbox', holder, `${id}.json`);
    await until('the job to finish while the server is down, its report failing', () => (rig.doneAt(id, holder) && existsSync(kept)) || undefined, 30_000);
    const doneAt = rig.doneAt(id, holder)!;
    const t: Record<string, number> = { killed: downAt, 'job done': doneAt };
    if (silentMs) {
      worker.child.kill('SIGSTOP');
      t['worker frozen'] = Date.now();
    }
    try {
      await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
      const upAt = await rig.startServer('server.yaml');
      t['server up'] = upAt;
      if (silentMs) {
        await sleep(silentMs);
        worker.child.kill('SIGCONT');
        t['worker thawed'] = Date.now();
      }
      t.completed = await rig.settled(id);

      await rig.expectRanOnce(id, holder, out);
      // The scenario happened as meant: finished while the server was away, reported after it was back, after failed attempts.
      expect(doneAt).toBeGreaterThan(downAt);
      expect(doneAt).toBeLessThan(upAt);
      expect(upAt - downAt).toBeGreaterThanOrEqual(OUTAGE_MS);
      const reported = rig.lineOf(`job ${id} reported`, holder)!;
      expect(reported.message).toMatch(/reported after \d+ attempts/);
      expect(reported.at).toBeGreaterThanOrEqual(upAt - 1000);
      if (silentMs) expect(reported.at).toBeGreaterThanOrEqual(t['worker thawed']! - 1000);
      expect((await rig.call('GET', '/queue')).json.entries).toBe(0);
      timings(`sqlite, ${label}`, t, t0);
    } finally {
      worker.child.kill('SIGCONT');
    }
  }

  it('server killed for twice the lease while the job finishes, started again on the same db: no re-run, the result is accepted', () =>
    serverKilled('server down', 0), 60_000);

  it('the same, the holder silent for half a lease after the server is back (past its first sweeps): the grace period keeps its lease', () =>
    serverKilled('server down, worker silent', (LEASE_SECONDS * 1000) / 2), 60_000);

  it('the last holder of a job requeued meanwhile (not leased again) still delivers its result: accepted, the job leaves the queue', async () => {
    // Only wA may take jobs: nobody else can lease the job once it is requeued.
    expect((await rig.call('PATCH', '/workers/wB', { disabled: true })).status).toBe(200);
    const { id, out } = await rig.submit('last holder');
    onTestFailed(async () => console.log(await rig.diagnostics([id])));
    const holder = await rig.running(id);
    expect(holder).toBe('wA');
    const worker = rig.worker('wA');
    await sleep(RUN_BEFORE_OUTAGE_MS);
    const t0 = Date.now();
    await kill(rig.server, 'SIGKILL');
    const downAt = Date.now();
    // The job finishes, its report fails and is kept in the outbox; then the worker is frozen, so it
    // cannot heartbeat or report when the server is back.
    const kept = join(rig.dir, 'state', 'outbox', 'wA', `${id}.json`);
    await until('the kept result in the outbox', () => existsSync(kept) || undefined, 30_000);
    worker.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    let contAt = 0;
    try {
      await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
      const upAt = await rig.startServer('server.yaml');
      // The grace period (one lease from start-up) passes without a heartbeat: the sweep requeues the job.
      const requeuedAt = await until('the sweep to requeue the job', async () => ((await rig.job(id)).state === 'queued' ? Date.now() : undefined), 20_000);
      expect(requeuedAt - upAt, 'requeued after the grace period').toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
      expect(requeuedAt - upAt, 'requeued soon after the grace period').toBeLessThan(LEASE_SECONDS * 1000 + 4000);
      expect((await rig.call('GET', '/queue')).json.entries).toBe(1);
      worker.child.kill('SIGCONT');
      contAt = Date.now();
      const completedAt = await rig.settled(id);
      // Nothing of it is left to hand out: a worker that may take jobs again does not get it.
      expect((await rig.call('PATCH', '/workers/wB', { disabled: false })).status).toBe(200);
      await sleep(1500);
      await rig.expectRanOnce(id, holder, out);
      expect((await rig.call('GET', '/queue')).json.entries).toBe(0);
      expect((await rig.call<{ jobs: JobView[] }>('GET', '/jobs?state=queued')).json.jobs).toEqual([]);
      timings('sqlite, last holder', { killed: downAt, frozen: frozenAt, 'server up': upAt, requeued: requeuedAt, thawed: contAt, completed: completedAt }, t0);
    } finally {
      if (!contAt) worker.child.kill('SIGCONT');
      await rig.call('PATCH', '/workers/wB', { disabled: false }).catch(() => undefined);
    }
  }, 60_000);

  it('server frozen (SIGSTOP) for twice the lease while the job finishes, then SIGCONT: no re-run, the result is accepted', async () => {
    const { id, out } = await rig.submit('server frozen');
    onTestFailed(async () => console.log(await rig.diagnostics([id])));
    const holder = await rig.running(id);
    await sleep(RUN_BEFORE_OUTAGE_MS);
    const server = rig.server!;
    const t0 = Date.now();
    server.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    let contAt = 0;
    try {
      await until('the job to finish while the server is frozen', () => (rig.doneAt(id, holder) && Date.now() - frozenAt >= OUTAGE_MS) || undefined, 30_000);
    } finally {
      server.child.kill('SIGCONT');
      contAt = Date.now();
    }
    const doneAt = rig.doneAt(id, holder)!;
    const completedAt = await rig.settled(id);
    await rig.expectRanOnce(id, holder, out);
    expect(doneAt).toBeGreaterThan(frozenAt);
    expect(contAt - frozenAt).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(rig.lineOf(`job ${id} reported`, holder)!.at).toBeGreaterThanOrEqual(contAt - 1000);
    expect(alive(server.child.pid!)).toBe(true);
    expect((await rig.call('GET', '/queue')).json.entries).toBe(0);
    timings('sqlite, server frozen', { frozen: frozenAt, 'job done': doneAt, thawed: contAt, completed: completedAt }, t0);
  }, 60_000);

  it('negative control: a worker that really died (SIGKILL) during a server outage loses its job after the grace period; another worker runs it', async () => {
    const { id, out } = await rig.submit('dead worker');
    onTestFailed(async () => console.log(await rig.diagnostics([id])));
    const holder = await rig.running(id);
    const other = WORKERS.find((w) => w !== holder)!;
    const victim = rig.worker(holder);
    const ffmpegs = ffmpegChildren(victim.child.pid!);
    await sleep(RUN_BEFORE_OUTAGE_MS);
    const t0 = Date.now();
    await kill(rig.server, 'SIGKILL');
    await kill(victim, 'SIGKILL');
    await until('its ffmpeg to die with it', () => ffmpegs.every((p) => !alive(p)) || undefined, 5000);
    await sleep(1000);
    const upAt = await rig.startServer('server.yaml');
    const takenAt = await until('the other worker to take the job over', async () => {
      const j = await rig.job(id);
      return j.attempts === 2 && j.worker_id === other ? Date.now() : undefined;
    }, 20_000);
    // Not before the grace period (one lease from start-up), and not much later either.
    expect(takenAt - upAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
    expect(takenAt - upAt).toBeLessThan(LEASE_SECONDS * 1000 + 4000);
    const done = await until('the job to complete', async () => {
      const j = await rig.job(id);
      return j.state === 'completed' ? j : undefined;
    }, 30_000);
    expect(done.attempts).toBe(2);
    expect(done.result?.worker_id).toBe(other);
    expect(existsSync(out)).toBe(true);
    timings('sqlite, dead worker', { 'server up': upAt, 'taken over': takenAt, completed: Date.now() }, t0);
    startWorker(holder);
  }, 60_000);
});

describe('Redis store: Redis down for twice the lease while jobs finish (HTTP worker and direct Redis worker)', () => {
  const rig = new Rig();
  const prefix = `sis-outage-${randomUUID()}`;
  let redis: PrivateRedis | undefined;

  beforeAll(async () => {
    rig.dir = await mkdtemp(join(tmpdir(), 'sis-outage-redis-'));
    await mkdir(join(rig.dir, 'out'));
    await makeSample(join(rig.dir, 'in', 'clip.mkv'), { duration: ENCODE_SECONDS, size: '320x240' });
    redis = await PrivateRedis.start();
    const port = await freePort();
    rig.api = `http://127.0.0.1:${port}`;
    await writeFile(
      join(rig.dir, 'server.yaml'),
      `server:\n  port: ${port}\n  store: ${redis.url}\n  storePrefix: ${prefix}\n  leaseSeconds: ${LEASE_SECONDS}\n  clientExpirySeconds: 10\n  maxAttempts: 5\n`,
    );
    await writeFile(join(rig.dir, 'http-worker.yaml'), `worker:\n${WORKER_SETTINGS}  stateDir: ${join(rig.dir, 'state-http')}\n`);
    await writeFile(
      join(rig.dir, 'redis-worker.yaml'),
      `worker:\n${WORKER_SETTINGS}  stateDir: ${join(rig.dir, 'state-redis')}\n` +
        `transport:\n  name: redis\n  options:\n    connection: ${redis.url}\n    prefix: ${prefix}\n    leaseSeconds: ${LEASE_SECONDS}\n` +
        `    clientExpirySeconds: 10\n    maxAttempts: 5\n    sweepIntervalMs: 1000\n`,
    );
    await rig.startServer('server.yaml');
    for (const id of ['h1', 'h2']) rig.cli.start(`worker ${id}`, ['worker', '--config', join(rig.dir, 'http-worker.yaml')], { HOST_UUID: id, API_URL: rig.api });
    rig.cli.start('worker r1', ['worker', '--config', join(rig.dir, 'redis-worker.yaml')], { HOST_UUID: 'r1' });
    await until('three workers', async () => {
      const { workers } = (await rig.call<{ workers: Array<{ worker_id: string }> }>('GET', '/workers')).json;
      return workers.map((w) => w.worker_id).sort().join() === 'h1,h2,r1' || undefined;
    }, 60_000);
  }, 90_000);

  afterAll(async () => {
    await rig.close();
    await redis?.close();
  }, 30_000);

  /**
   * One job on the HTTP worker h1 and one on the direct worker r1; Redis SIGKILLed mid-encode, kept
   * down for twice the lease while both jobs finish, started again on its AOF. h1 and r1 are frozen
   * (SIGSTOP) from just after their jobs finished (their reports under way) until, from the moment
   * the server has its store back:
   * - `plain`: not frozen at all;
   * - `silent`: half a lease has passed (past the first sweeps, within the grace period);
   * - `requeued`: the sweep has requeued both jobs after the grace period. Every worker is disabled
   *   then, so nobody leases them again: their last holders' reports must still be accepted.
   * Otherwise h2 (HTTP) is idle and would take any job that goes back to the queue.
   */
  async function redisDown(label: string, mode: 'plain' | 'silent' | 'requeued') {
    const ids: string[] = [];
    const holders = ['h1', 'r1'].map((id) => rig.worker(id));
    onTestFailed(async () => console.log(await rig.diagnostics(ids, `--- redis-server\n${redis?.output.join('').split('\n').slice(-30).join('\n') ?? ''}`)));
    try {
      expect((await rig.call('PATCH', '/workers/h2', { disabled: true })).status).toBe(200);
      const first = await rig.submit(`${label} 1`);
      ids.push(first.id);
      const firstHolder = await rig.running(first.id);
      const second = await rig.submit(`${label} 2`);
      ids.push(second.id);
      const secondHolder = await rig.running(second.id);
      expect([firstHolder, secondHolder].sort()).toEqual(['h1', 'r1']);
      if (mode !== 'requeued') expect((await rig.call('PATCH', '/workers/h2', { disabled: false })).status).toBe(200);
      await sleep(RUN_BEFORE_OUTAGE_MS);

      const t0 = Date.now();
      await redis!.kill('SIGKILL');
      const downAt = Date.now();
      const t: Record<string, number> = { 'redis killed': downAt };
      // The store is really unavailable: the server says so.
      await until('the server to see the store down', async () => (await fetch(`${rig.api}/status/health`)).status === 503 || undefined, 10_000);
      await until('both jobs to finish while Redis is down', () => (rig.doneAt(first.id, firstHolder) && rig.doneAt(second.id, secondHolder)) || undefined, 30_000);
      t[`done ${firstHolder}`] = rig.doneAt(first.id, firstHolder)!;
      t[`done ${secondHolder}`] = rig.doneAt(second.id, secondHolder)!;
      if (mode !== 'plain') {
        await sleep(300); // their reports are under way (and fail, or wait for Redis)
        for (const w of holders) w.child.kill('SIGSTOP');
        t['h1, r1 frozen'] = Date.now();
      }
      await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
      const restartAt = Date.now();
      await redis!.start();
      t['redis up'] = Date.now();
      if (mode !== 'plain') {
        // Counted from the moment the server has its store back (its Redis client may take a while to reconnect).
        const backAt = await until('the server to have its store back', async () => ((await fetch(`${rig.api}/status/health`)).ok ? Date.now() : undefined), 10_000);
        t['server has its store'] = backAt;
        if (mode === 'silent') await sleep((LEASE_SECONDS * 1000) / 2);
        else {
          t.requeued = await until('the sweep to requeue both jobs', async () => ((await Promise.all(ids.map((id) => rig.job(id)))).every((j) => j.state === 'queued') ? Date.now() : undefined), 20_000);
          expect(t.requeued - backAt, 'requeued after the grace period').toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
          expect((await rig.call('GET', '/queue')).json.entries).toBe(2);
          // Nor may h1 and r1 take each other's job (a report hands out the next job): that one would
          // then be held by another worker, and its last holder's report refused (409), by design.
          for (const w of ['h1', 'r1']) expect((await rig.call('PATCH', `/workers/${w}`, { disabled: true })).status).toBe(200);
        }
        for (const w of holders) w.child.kill('SIGCONT');
        t['h1, r1 thawed'] = Date.now();
      }
      t.completed = Math.max(...(await Promise.all(ids.map((id) => rig.settled(id)))));
      if (mode === 'requeued') {
        // Nothing of them is left to hand out: workers that may take jobs again find neither.
        for (const w of ['h1', 'h2', 'r1']) expect((await rig.call('PATCH', `/workers/${w}`, { disabled: false })).status).toBe(200);
        await sleep(1500);
      }

      for (const [{ id, out }, holder] of [[first, firstHolder], [second, secondHolder]] as const) {
        await rig.expectRanOnce(id, holder, out);
        const doneAt = rig.doneAt(id, holder)!;
        expect(doneAt, `${id} finished after Redis went down`).toBeGreaterThan(downAt);
        expect(doneAt, `${id} finished before Redis was back`).toBeLessThan(restartAt);
        const reported = rig.lineOf(`job ${id} reported`, holder)!;
        // The HTTP worker's report got 503s and was retried; the direct worker's Redis call may instead
        // have waited (up to its callTimeoutMs) for Redis to come back.
        if (holder === 'h1') expect(reported.message, `h1's report of ${id} failed first`).toMatch(/reported after \d+ attempts/);
        expect(reported.at, `${holder}'s report of ${id} went through after Redis was back`).toBeGreaterThanOrEqual(restartAt);
        if (mode !== 'plain') expect(reported.at, `${holder}'s report of ${id} came after it was thawed`).toBeGreaterThanOrEqual(t['h1, r1 thawed']! - 1000);
      }
      expect((await rig.call('GET', '/queue')).json.entries).toBe(0);
      expect((await rig.call<{ jobs: JobView[] }>('GET', '/jobs?state=queued')).json.jobs).toEqual([]);
      expect(rig.cli.list.filter((p) => p.name.startsWith('worker')).every((p) => p.child.exitCode === null)).toBe(true);
      expect(rig.server!.child.exitCode).toBeNull();
      timings(`redis, ${label}`, t, t0);
    } finally {
      for (const w of holders) w.child.kill('SIGCONT');
      if (!redis!.child) await redis!.start();
      for (const w of ['h1', 'h2', 'r1']) await rig.call('PATCH', `/workers/${w}`, { disabled: false }).catch(() => undefined);
    }
  }

  it('Redis killed (SIGKILL) for twice the lease and started again on its AOF: no re-run, both results accepted', () => redisDown('redis down', 'plain'), 90_000);

  it('the same, h1 and r1 silent for half a lease after the server has its store back (past the first sweeps): the grace period keeps their leases', () =>
    redisDown('redis down, workers silent', 'silent'), 90_000);

  it('the same, h1 and r1 silent until both jobs were requeued (nobody may take them): their last holders\' results are accepted, the jobs leave the queue', () =>
    redisDown('redis down, jobs requeued', 'requeued'), 90_000);
});
