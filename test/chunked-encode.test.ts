import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliProcesses, alive, apiCall, ffmpegChildren, freePort, logLines, outputTail, until, type CliProcess } from './support/processes.js';
import { frameTimes, makeSceneSource, streamPackets, videoStreamHash } from './support/scene-media.js';

// Chunked encoding end to end (issue 15, sections 2 and 3): a real server
// (SQLite) and real worker processes (HTTP) encode one generated file with
// scene changes in chunks, each chunk a child job any worker runs. Checked:
// the video stream is byte-identical whichever worker encoded which chunk
// and in what order; kill -9 of a worker mid-chunk redoes that chunk only;
// cancelling the parent kills every chunk's ffmpeg within 3 s and leaves no
// chunk file; a server restart mid-flow keeps the finished chunks.
//
// Media: 16 s at 426x240 (six scenes, 384 frames) with AAC audio; x264
// `slower` crf 23, one thread per chunk; chunks of about 2.5 s cut at scene
// changes (seven chunks): each takes a second or more to encode on this
// machine, long enough to be caught running.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));

let dir = '';
let api = '';
let source = '';
/** Frame count and presentation times of the source's video. */
let sourceFrames: number[] = [];

const cli = new CliProcesses(bin, () => dir);
const call = <T = any>(method: string, path: string, body?: unknown) => apiCall<T>(api, method, path, body);

type ChildView = { job_id: string; job_title: string; state: string; worker_id?: string; attempts: number; reason?: string; parent_id?: string };
type JobView = ChildView & { flow?: { children: number; pending: number; finally_id?: string }; result?: { message?: string; worker_id?: string } };
type Children = { state: string; progress: number; states: Record<string, number>; children: ChildView[]; all: ChildView[] };

const job = async (id: string) => (await call<JobView>('GET', `/jobs/${id}`)).json;
const children = async (id: string) => (await call<Children>('GET', `/jobs/${id}/children`)).json;
const ended = (id: string, ms = 120_000) =>
  until(
    `job ${id} to end`,
    async () => {
      const j = await job(id).catch(() => undefined);
      return j && ['completed', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
    },
    ms,
  ).catch(async (error: Error) => {
    const flow = await children(id).catch(() => undefined);
    throw new Error(`${error.message}\nits children: ${JSON.stringify(flow?.all)}\n${tails()}`);
  });

/** The chunked encode of the source into `out`: all streams, video x264 slower crf 23 one thread per chunk, audio AAC. */
function chunkedJob(title: string, out: string) {
  return {
    job_title: title,
    tasks: [
      {
        module: 'ffmpeg',
        data: {
          sources: [source],
          source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a' }],
          output_maps: [
            { specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'slower', crf: 23 } },
            { specifier: 'a', options: { codec: 'aac', b: '96k' } },
          ],
          output_file: out,
          chunking: { seconds: 2.5, cut: 'scene' },
        },
      },
    ],
  };
}

async function submit(title: string, out: string): Promise<string> {
  const res = await call<{ job_id: string }>('POST', '/queue', chunkedJob(title, out));
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.job_id;
}

/** The chunk folder (`.sisyphus-chunks-ID.TOKEN`) of parent `id` beside `out`, once its plan has made it. */
const chunkFolderOf = (out: string, id: string) => (): string | undefined => {
  const name = (existsSync(dirname(out)) ? readdirSync(dirname(out)) : []).find((n) => n.startsWith(`.sisyphus-chunks-${id}.`));
  return name ? join(dirname(out), name) : undefined;
};

let server: CliProcess | undefined;
async function startServer() {
  server = cli.start('server', ['server', '--config', join(dir, 'server.yaml')]);
  await until('the server', async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined, 60_000);
}

const WORKER_IDS = ['wA', 'wB'];
const workers = new Map<string, CliProcess>();
const running = (p: CliProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** Start worker `id` and wait until it says it started (its log line `worker ID started (transport http)`). */
async function startWorker(id: string): Promise<CliProcess> {
  const w = cli.start(`worker ${id}`, ['worker', '--config', join(dir, 'worker.yaml')], { HOST_UUID: id, HOSTNAME_OVERRIDE: `host-${id}`, API_URL: api });
  workers.set(id, w);
  await until(`worker ${id} to start`, () => {
    if (!running(w)) throw new Error(`worker ${id} exited: ${outputTail(w, 20)}`);
    return logLines(w).some((l) => l.component === 'worker' && l.message.startsWith(`worker ${id} started`)) || undefined;
  }, 60_000);
  return w;
}

/** Both workers running (a test that stopped or killed one and failed before starting it again leaves none behind for the next). */
async function bothWorkers() {
  for (const id of WORKER_IDS) if (!workers.get(id) || !running(workers.get(id)!)) await startWorker(id);
  await workersOnline(WORKER_IDS);
}

async function stop(p: { child: ChildProcess }, signal: NodeJS.Signals = 'SIGTERM') {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  await exited;
}

/** Wait until the server lists the workers `ids` among those with a live heartbeat. */
async function workersOnline(ids: string[]) {
  await until(`workers ${ids.join(', ')}`, async () => {
    const { json } = await call<{ workers: Array<{ id?: string; worker_id?: string }> }>('GET', '/workers');
    const seen = new Set((json.workers ?? []).map((w) => w.worker_id ?? w.id));
    return ids.every((id) => seen.has(id)) || undefined;
  }, 60_000);
}

/** What a failed expectation prints: the tails of the server's and workers' output. */
function tails(): string {
  return cli.list.map((p) => `--- ${p.name}\n${outputTail(p, 25)}`).join('\n');
}

/** The finished output must be frame-exact: the source's frame count and frame times, timestamps increasing, audio present. */
async function expectFrameExact(out: string) {
  const times = await frameTimes(out);
  expect(times.length).toBe(sourceFrames.length);
  // The muxer may start the video a little later than the source did (B-frame delay; the unchunked
  // encode does too): less than a frame. Relative to the first frame, each frame is where the source's
  // is (Matroska keeps 1 ms).
  const frame = (sourceFrames.at(-1)! - sourceFrames[0]!) / (sourceFrames.length - 1);
  expect(Math.abs(times[0]! - sourceFrames[0]!)).toBeLessThan(frame);
  const off = times.map((t, i) => Math.abs(t - times[0]! - (sourceFrames[i]! - sourceFrames[0]!)));
  expect(Math.max(...off)).toBeLessThanOrEqual(0.0015);
  // No frame time repeats; the decoding times Matroska gives (not every packet has one) increase.
  expect(new Set(times).size).toBe(times.length);
  const dts = (await streamPackets(out)).map((p) => p.dts).filter((d) => !Number.isNaN(d));
  expect(dts.length).toBeGreaterThan(times.length / 2);
  for (let i = 1; i < dts.length; i++) expect(dts[i]!).toBeGreaterThan(dts[i - 1]!);
  expect((await streamPackets(out, 'a:0')).length).toBeGreaterThan(500);
}

/** Chunk starts per child (from the workers' logs). */
const startsByChild = (list: ChildView[]) => Object.fromEntries(list.map((c) => [c.job_id, cli.startsOf(c.job_id)]));

/** The chunk index (0-based) of a child, from its title `... (chunk K of N)`. */
function chunkIndex(child: ChildView): number {
  const m = / \(chunk (\d+) of \d+\)$/.exec(child.job_title);
  if (!m) throw new Error(`not a chunk: ${child.job_title}`);
  return Number(m[1]) - 1;
}

/** `chunk-00003.nut` */
const chunkFile = (index: number) => `chunk-${String(index).padStart(5, '0')}.nut`;

/** The ffmpeg processes worker `p` runs that encode a chunk: pid, chunk index and the attempt's private folder (from the file it writes). */
function chunkEncodes(p: CliProcess): Array<{ pid: number; chunk: number; attemptFolder?: string }> {
  if (!running(p)) return [];
  return ffmpegChildren(p.child.pid!).flatMap((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const m = /(?:(\.sisyphus-tmp-[0-9a-f]+)\/)?chunk-(\d{5})\.nut/.exec(cmd);
      return m ? [{ pid, chunk: Number(m[2]), ...(m[1] ? { attemptFolder: m[1] } : {}) }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Watch a chunk folder every 50 ms while a job runs: every distinct
 * (inode, mtime, size) each chunk file had, when each name was first and
 * last seen, and when the folder itself went (times in ms since the epoch).
 */
function watchFolder(find: () => string | undefined) {
  const versions = new Map<string, Set<string>>();
  const seen = new Map<string, { first: number; last: number }>();
  let folder: string | undefined;
  let existed = false;
  let goneAt: number | undefined;
  const look = () => {
    const now = Date.now();
    folder ??= find();
    if (!folder) return;
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      if (existed && goneAt === undefined) goneAt = now;
      return;
    }
    existed = true;
    for (const name of entries) {
      const s = seen.get(name);
      if (s) s.last = now;
      else seen.set(name, { first: now, last: now });
      if (!/^chunk-\d{5}\.nut$/.test(name)) continue;
      try {
        const st = statSync(join(folder, name));
        const set = versions.get(name) ?? new Set<string>();
        set.add(`${st.ino}:${st.mtimeMs}:${st.size}`);
        versions.set(name, set);
      } catch {
        // gone meanwhile
      }
    }
  };
  const timer = setInterval(look, 50);
  return {
    versions,
    seen,
    goneAt: () => goneAt,
    look,
    stop: () => clearInterval(timer),
  };
}

/** Runs of the first test, whose video hash the fault tests must match. */
let referenceHash = '';
const durations: Record<string, number> = {};
const notes: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chunked-'));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'out'));
  source = join(dir, 'in', 'scenes.mkv');
  await makeSceneSource(source);
  sourceFrames = await frameTimes(source);
  await writeFile(join(dir, 'server.yaml'), `server:\n  port: ${port}\n  db: ${join(dir, 'server.db')}\n  leaseSeconds: 3\n  clientExpirySeconds: 10\n  maxAttempts: 5\n`);
  await writeFile(
    join(dir, 'worker.yaml'),
    `allowedRoots:\n  - ${dir}\nworker:\n  concurrency: 1\n  heartbeatInterval: 0.5\n  pollInterval: 0.5\n  networkRetryInterval: 0.2\n  stateDir: ${join(dir, 'state')}\n`,
  );
  await startServer();
  await Promise.all(WORKER_IDS.map(startWorker));
  await workersOnline(WORKER_IDS);
}, 120_000);

beforeEach(bothWorkers, 60_000);

afterAll(async () => {
  await cli.killAll();
  console.log(`chunked-encode durations (s): ${JSON.stringify(durations)}\n${JSON.stringify(notes, null, 1)}`);
  if (dir && !process.env.KEEP_CHUNKED_DIR) await rm(dir, { recursive: true, force: true });
  else if (dir) console.log(`kept ${dir}`);
});

describe('chunked encoding across real worker processes', () => {
  it('determinism: two workers, then one, give a byte-identical video stream; frame-exact; the chunk folder is gone', async () => {
    const outTwo = join(dir, 'out', 'two', 'film.mkv');
    const outOne = join(dir, 'out', 'one', 'film.mkv');
    await mkdir(join(dir, 'out', 'two'));
    await mkdir(join(dir, 'out', 'one'));

    let t = Date.now();
    const two = await submit('two workers', outTwo);
    const doneTwo = await ended(two);
    durations['two workers'] = (Date.now() - t) / 1000;
    expect(doneTwo.state, tails()).toBe('completed');
    const flowTwo = await children(two);
    const kidsTwo = flowTwo.children;
    expect(kidsTwo.length).toBeGreaterThanOrEqual(5);
    expect(kidsTwo.length).toBeLessThanOrEqual(8);
    expect(flowTwo.all).toHaveLength(kidsTwo.length);
    expect(new Set(kidsTwo.map((c) => c.worker_id))).toEqual(new Set(['wA', 'wB']));

    // One worker only: the other stops (gracefully) first.
    await stop(workers.get('wB')!);
    t = Date.now();
    const one = await submit('one worker', outOne);
    const doneOne = await ended(one);
    durations['one worker'] = (Date.now() - t) / 1000;
    expect(doneOne.state, tails()).toBe('completed');
    const kidsOne = (await children(one)).children;
    expect(kidsOne.every((c) => c.worker_id === 'wA')).toBe(true);
    expect(kidsOne.length).toBe(kidsTwo.length);

    referenceHash = await videoStreamHash(outTwo);
    expect(await videoStreamHash(outOne)).toBe(referenceHash);
    await expectFrameExact(outTwo);
    await expectFrameExact(outOne);
    expect(await readdir(join(dir, 'out', 'two'))).toEqual(['film.mkv']);
    expect(await readdir(join(dir, 'out', 'one'))).toEqual(['film.mkv']);
    for (const c of [...kidsTwo, ...kidsOne]) expect(cli.startsOf(c.job_id)).toBe(1);
  }, 240_000);

  it('kill -9 of a worker mid-chunk: its ffmpeg dies with it, only that chunk is redone, the result is the same video', async () => {
    await mkdir(join(dir, 'out', 'kill'));
    const out = join(dir, 'out', 'kill', 'film.mkv');
    const t = Date.now();
    const id = await submit('kill a worker', out);
    const watch = watchFolder(chunkFolderOf(out, id));
    // A chunk encoding on some worker, after at least one chunk completed (the kill is mid-flow).
    const victim = await until('a chunk encoding after another completed', async () => {
      const { children: list } = await children(id);
      if (!list.some((c) => c.state === 'completed')) return undefined;
      for (const c of list.filter((c) => c.state === 'running' && c.worker_id)) {
        const w = workers.get(c.worker_id!)!;
        const enc = chunkEncodes(w).filter((e) => e.chunk === chunkIndex(c));
        if (enc.length) return { child: c, worker: w, id: c.worker_id!, ffmpegs: enc.map((e) => e.pid), attemptFolder: enc[0]!.attemptFolder };
      }
      return undefined;
    }, 90_000);
    await stop(victim.worker, 'SIGKILL');
    const killedAt = Date.now();
    await until('the orphaned chunk ffmpeg to die', () => victim.ffmpegs.every((p) => !alive(p)) || undefined, 3000);
    durations['kill: chunk ffmpeg gone after the worker (ms)'] = Date.now() - killedAt;

    try {
      const done = await ended(id);
      durations['kill run'] = (Date.now() - t) / 1000;
      expect(done.state, tails()).toBe('completed');
      const flow = await children(id);
      const list = flow.children;
      expect(list.every((c) => c.state === 'completed')).toBe(true);
      // One round of chunks (the plan was not made again), no finally job.
      expect(flow.all).toHaveLength(list.length);
      const starts = startsByChild(list);
      expect(starts[victim.child.job_id], JSON.stringify(starts)).toBe(2);
      for (const c of list) if (c.job_id !== victim.child.job_id) expect(starts[c.job_id], `${c.job_title}: ${JSON.stringify(starts)}`).toBe(1);
      expect(list.find((c) => c.job_id === victim.child.job_id)!.attempts).toBe(2);
      // Each chunk file was written once (the killed attempt promoted nothing).
      for (const [name, v] of watch.versions) expect(v.size, name).toBe(1);

      expect(await videoStreamHash(out)).toBe(referenceHash);
      await expectFrameExact(out);
      // The output's folder holds only the output: the chunk folder, with whatever the killed attempt left in it, is gone.
      expect(await readdir(join(dir, 'out', 'kill'))).toEqual(['film.mkv']);
      expect(watch.goneAt()).toBeDefined();
      // What became of the killed attempt's private folder in the chunk folder (for the report): removed
      // by the next attempt of its chunk (it took over the dead holder's claim), or only with the chunk folder.
      const dead = victim.attemptFolder ? watch.seen.get(victim.attemptFolder) : undefined;
      expect(victim.attemptFolder && dead, `the killed attempt's folder ${victim.attemptFolder} was never seen`).toBeTruthy();
      const redone = watch.seen.get(chunkFile(chunkIndex(victim.child)));
      notes.kill =
        `killed attempt's folder ${victim.attemptFolder}: last seen ${dead!.last - killedAt} ms after the kill; ` +
        `the redone chunk file appeared ${redone ? redone.first - killedAt : '?'} ms after it; the chunk folder went ${watch.goneAt()! - killedAt} ms after it`;
    } finally {
      watch.stop();
    }
  }, 180_000);

  it('cancel of the parent while chunks encode: every chunk ffmpeg is gone within 3 s, children cancelled, no chunk file left', async () => {
    await mkdir(join(dir, 'out', 'cancel'));
    const out = join(dir, 'out', 'cancel', 'film.mkv');
    let outputSeen = false;
    const watchOutput = setInterval(() => (outputSeen ||= existsSync(out)), 50);
    try {
      const id = await submit('cancel the parent', out);
      const folder = chunkFolderOf(out, id);
      // Cancel while both workers encode a chunk, one of them just started (so it surely has work left:
      // a chunk that was about to finish may complete before its worker hears of the cancel, which is fine).
      const firstSeen = new Map<number, number>();
      const encoding = await until('both workers encoding a chunk, one just started', () => {
        const all = [...workers.values()].flatMap(chunkEncodes);
        for (const e of all) if (!firstSeen.has(e.pid)) firstSeen.set(e.pid, Date.now());
        return all.length >= 2 && all.some((e) => Date.now() - firstSeen.get(e.pid)! <= 300) ? all : undefined;
      }, 90_000);
      const young = encoding.filter((e) => Date.now() - firstSeen.get(e.pid)! <= 300).map((e) => e.chunk);
      const res = await call('POST', `/jobs/${id}/cancel`);
      const cancelledAt = Date.now();
      expect(res.status).toBe(200);
      const noFfmpeg = () => encoding.every((e) => !alive(e.pid)) && [...workers.values()].every((w) => ffmpegChildren(w.child.pid!).length === 0);
      await until('every chunk ffmpeg to be gone', () => noFfmpeg() || undefined, 10_000);
      const gone = Date.now() - cancelledAt;
      durations['cancel: every chunk ffmpeg gone (ms)'] = gone;
      expect(gone).toBeLessThan(3000);

      expect((await job(id)).state).toBe('cancelled');
      const flow = await until('every child to end', async () => {
        const f = await children(id);
        return f.children.every((c) => ['completed', 'cancelled', 'failed'].includes(c.state)) ? f : undefined;
      }, 20_000);
      // The chunk that had just started was cancelled (its ffmpeg killed), so were the queued ones; the ones done before stay done.
      for (const c of flow.children) {
        if (young.includes(chunkIndex(c))) expect(c.state, c.job_title).toBe('cancelled');
        else expect(['completed', 'cancelled'], c.job_title).toContain(c.state);
      }
      expect(flow.children.filter((c) => c.state === 'cancelled').length).toBeGreaterThanOrEqual(2);
      const heard = [...workers.values()].flatMap(logLines).filter((l) => l.message.startsWith('the server cancelled job') && l.at >= cancelledAt - 1000).map((l) => l.at - cancelledAt);
      notes.cancel =
        `chunk states after the cancel: ${flow.children.map((c) => c.state).join(',')}; encoding at the cancel: chunks ${encoding.map((e) => e.chunk + 1).join(',')}; ` +
        `workers heard of it after ${heard.join(', ')} ms; every ffmpeg gone after ${gone} ms`;
      // The finally job (the only child outside the round) removes the chunk folder.
      const round = new Set(flow.children.map((c) => c.job_id));
      const cleanup = await until('the finally job to end', async () => {
        const extra = (await children(id)).all.filter((c) => !round.has(c.job_id));
        return extra.length && ['completed', 'failed', 'cancelled'].includes(extra[0]!.state) ? extra : undefined;
      }, 30_000);
      expect(cleanup).toHaveLength(1);
      expect(cleanup[0]!.state, tails()).toBe('completed');
      expect(cleanup[0]!.job_title).toMatch(/remove the chunks/);
      expect(folder()).toBeUndefined();
      expect(await readdir(join(dir, 'out', 'cancel'))).toEqual([]);
      expect(noFfmpeg()).toBe(true);
    } finally {
      clearInterval(watchOutput);
    }
    expect(outputSeen).toBe(false);
  }, 120_000);

  it('a server restart mid-flow keeps the finished chunks: none is encoded again, the result is the same video', async () => {
    await mkdir(join(dir, 'out', 'restart'));
    const out = join(dir, 'out', 'restart', 'film.mkv');
    const t = Date.now();
    const id = await submit('restart the server', out);
    const watch = watchFolder(chunkFolderOf(out, id));
    try {
      const before = await until('two chunks completed while the parent waits', async () => {
        const f = await children(id);
        const done = f.children.filter((c) => c.state === 'completed');
        return f.state === 'waiting-children' && done.length >= 2 && done.length < f.children.length - 1 ? done : undefined;
      }, 90_000);
      await stop(server!, 'SIGKILL');
      watch.look();
      const seenAtKill = new Map([...watch.versions].map(([name, v]) => [name, [...v]]));
      await new Promise((r) => setTimeout(r, 1000));
      await startServer();

      const done = await ended(id);
      durations['restart run'] = (Date.now() - t) / 1000;
      expect(done.state, tails()).toBe('completed');
      const flow = await children(id);
      const list = flow.children;
      expect(list.every((c) => c.state === 'completed')).toBe(true);
      // One round of chunks: the resumed parent joined the same chunks; the plan was not made again.
      expect(flow.all).toHaveLength(list.length);
      expect(list.map((c) => c.job_id)).toEqual(expect.arrayContaining(before.map((c) => c.job_id)));
      const starts = startsByChild(list);
      for (const c of before) {
        expect(starts[c.job_id], `${c.job_title}: ${JSON.stringify(starts)}`).toBe(1);
        // Its file is the one written before the kill, untouched (same inode, mtime and size) until the join.
        const name = chunkFile(chunkIndex(c));
        expect(seenAtKill.get(name), name).toHaveLength(1);
        expect([...watch.versions.get(name)!], name).toEqual(seenAtKill.get(name));
      }
      // A chunk that was running when the server died may run again (its lease ran out); the others ran once.
      expect(Object.values(starts).every((n) => n === 1 || n === 2)).toBe(true);
      expect(Object.values(starts).filter((n) => n === 2).length).toBeLessThanOrEqual(2);
      notes.restart = `starts per chunk: ${list.map((c) => starts[c.job_id]).join(',')}, completed before the kill: ${before.length}`;

      expect(await videoStreamHash(out)).toBe(referenceHash);
      await expectFrameExact(out);
      expect(await readdir(join(dir, 'out', 'restart'))).toEqual(['film.mkv']);
    } finally {
      watch.stop();
    }
  }, 180_000);
});
