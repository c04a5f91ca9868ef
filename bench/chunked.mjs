#!/usr/bin/env node
// bench:chunked: what chunked encoding buys (issue 15 §4). A generated 60 s
// 1280x720 source with scene changes and an audio track (bench/chunked-media.mjs,
// made once per run in a temp dir) is encoded with x264 `medium`, one
// encoder thread per process (`threads: 1` on the video: x264 runs in
// ffmpeg's encoding thread, no threads of its own), audio to AAC, through a
// real job server (SQLite) and real worker processes (`sisyphus worker`,
// concurrency 1), each pinned to its own core with `taskset` (its ffmpeg
// inherits it): one worker is one core (bench/chunked-fleet.mjs). In one run,
// round after round (the order reversed every other round, so the machine's
// other load hits all alike):
//   (a) one worker, unchunked (the baseline);
//   (b) one worker, chunked: the price of splitting and joining;
//   (c) two workers (cores 0 and 1), chunked;
// and, unless BENCH_SHORT=0, the same for the first 20 s of the source
// (one worker unchunked, two workers chunked): a file with few chunks.
// While one worker is meant to run, the other is disabled (PATCH /workers/{id}).
// Per round and as medians it prints the times, speed-up a/c, efficiency
// a/(2c) and overhead b/a beside the issue's targets (a/c >= 1.7, b/a <= 1.05),
// and the CPU the workers and their ffmpegs used over the wall time (below 1
// core per worker: something else ran on that core). Every output is checked:
// its frame count equals the source's, and the chunked outputs' video streams
// are compared (sha256 of the packets) across rounds and setups.
//
// Then where the chunked time goes (dispatch, plan, chunks, join), and the
// model (bench/chunked-model.mjs; explained in docs/architecture.md,
// "Chunked encoding: speed-up and its model"): each chunk's time on its worker
// as fixed cost + per-frame cost (the least-squares line over the chunks is
// printed; the fixed cost used is measured: each chunk's own ffmpeg command
// run again with one frame, bench/chunked-fixed.mjs, plus its child's other
// phases), the plan
// step and the join as lines in the file's frames (through the 20 s and the
// 60 s runs), dispatch gaps. It replays the measured chunks to predict (b) and
// (c) (a check of the model), then predicts the efficiency of N = 2, 4, 8, 16
// workers on files of 20 s, 60 s, 10 min and 1 h cut like this one (synthetic
// cuts and per-chunk costs drawn from the measured ones, 200 draws), chunks
// handed out costliest first (as the task submits them), in timeline order, and
// without the serial part (the chunks alone), marking where it is >= 0.85.
//
// This is a benchmark, not a test: nothing fails on a target.
//
//   npm run bench:chunked    (BENCH_ROUNDS=2 BENCH_CHUNK_SECONDS=10 BENCH_CUT=scene BENCH_SCENE_KEYFRAMES=1 BENCH_SHORT=20
//                             BENCH_CORES=0,1 BENCH_CRF=23 BENCH_PRESET=medium)
// The chunk target is 10 s (6 chunks of the 60 s file): the report's replay of the chunk
// targets finds it as fast as any for 2 workers and cheapest for one; at 6 s (10 chunks) the
// ~0.2 s each chunk costs whatever its length (ffmpeg's start, x264's set-up, the chunk's
// verification) adds about 2% to (b). BENCH_CHUNK_SECONDS=6 measures that.
// BENCH_SOURCE=FILE encodes FILE instead of the generated source (constant frame rate, one video
// and one audio stream); BENCH_KEEP=1 keeps the temp dir (outputs, worker logs, server.db, runs.json);
// BENCH_REPLAY=DIR/runs.json prints the report of a kept run again (no encoding; for the model).
// Before each job it waits up to BENCH_QUIET_S (default 30) seconds for other processes to use
// under 25% of the CPUs, and prints the share they took while it ran.
// About 5 minutes per round on this 2-core machine (more when it is busy), plus 1-2 minutes to make
// the source and the build of ensure-deps.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SECONDS, SIZE, SCENE_CHANGES, makeShort, makeSource, videoHash, videoInfo } from './chunked-media.mjs';
import { startFleet } from './chunked-fleet.mjs';
import { measureFixed } from './chunked-fixed.mjs';
import { machineTicks, waitForQuiet } from './scale-lib.mjs';
import { chunkedTime, fitLine, lineThrough, predictEfficiency, replayCuts, sceneCuts } from './chunked-model.mjs';

const num = (name, fallback) => Number(process.env[name] ?? fallback);
const rounds = num('BENCH_ROUNDS', 2);
const chunkSeconds = num('BENCH_CHUNK_SECONDS', 10);
const cut = process.env.BENCH_CUT ?? 'scene';
const sceneKeyframes = process.env.BENCH_SCENE_KEYFRAMES !== '0';
const shortSeconds = num('BENCH_SHORT', 20);
const cores = (process.env.BENCH_CORES ?? '0,1').split(',').map(Number);
const crf = num('BENCH_CRF', 23);
const preset = process.env.BENCH_PRESET ?? 'medium';
const keep = process.env.BENCH_KEEP === '1';
const quietS = num('BENCH_QUIET_S', 30);
const TARGET = { speedup: 1.7, efficiency: 0.85, overhead: 1.05 };
const MODEL = { lengths: [20, 60, 600, 3600], workers: [2, 4, 8, 16] };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sec = (ms) => (ms / 1000).toFixed(1);
const f2 = (x) => x.toFixed(2);
const f3 = (x) => x.toFixed(3);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const meets = (ok) => (ok ? 'met' : 'NOT met');
const pad = (s, n) => String(s).padStart(n);

/** CPU time (ms) of a process and of its reaped children (its ffmpegs), from /proc (Linux; 10 ms ticks). */
function treeCpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return NaN;
  }
}

/** The ffmpeg task: video with x264 (`preset`, CRF, one thread), audio to AAC 128k; `chunking` when given. */
function encodeJob(title, source, output, chunking) {
  return {
    job_title: title,
    tasks: [
      {
        module: 'ffmpeg',
        data: {
          sources: [source],
          source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a' }],
          output_maps: [
            { specifier: 'v', stream: 0, options: { codec: 'libx264', preset, crf, threads: 1 } },
            { specifier: 'a', options: { codec: 'aac', b: '128k' } },
          ],
          output_file: output,
          ...(chunking ? { chunking } : {}),
        },
      },
    ],
  };
}

const SETUPS = {
  a: { label: '(a) 1 worker, unchunked', file: 'long', workers: 1, chunked: false },
  b: { label: '(b) 1 worker, chunked', file: 'long', workers: 1, chunked: true },
  c: { label: '(c) 2 workers, chunked', file: 'long', workers: 2, chunked: true },
  sa: { label: '(a) 1 worker, unchunked, short file', file: 'short', workers: 1, chunked: false },
  sc: { label: '(c) 2 workers, chunked, short file', file: 'short', workers: 2, chunked: true },
};
const order = ['a', 'b', 'c', ...(shortSeconds > 0 ? ['sa', 'sc'] : [])];

/**
 * Make the sources, start the fleet, run the rounds (printing each), check
 * the outputs. Returns what the report needs (JSON: saved as runs.json in
 * the temp dir, for BENCH_REPLAY).
 */
async function measure(dir) {
  let fleet;
  try {
    await mkdir(join(dir, 'out'));
    const files = {};
    const t0 = Date.now();
    if (process.env.BENCH_SOURCE) files.long = resolve(process.env.BENCH_SOURCE);
    else {
      files.long = join(dir, 'source.mkv');
      await makeSource(files.long);
    }
    const made = Date.now() - t0;
    if (shortSeconds > 0) {
      files.short = join(dir, 'short.mkv');
      await makeShort(files.long, shortSeconds, files.short);
    }
    const info = { long: await videoInfo(files.long), ...(files.short ? { short: await videoInfo(files.short) } : {}) };
    const L = info.long;
    console.log(
      process.env.BENCH_SOURCE
        ? `source: ${files.long}: ${L.seconds.toFixed(1)} s ${L.width}x${L.height} ${L.fps} fps, ${L.frames} frames`
        : `source: generated in ${sec(made)} s: ${SECONDS} s ${SIZE} ${L.fps} fps, ${L.frames} frames, scene changes at ${SCENE_CHANGES.join(', ')} s; AAC stereo`,
    );
    if (info.short) console.log(`short file: its first ${shortSeconds} s, ${info.short.frames} frames`);
    // The generated source is an x264 encode with its scene cuts on (as cameras and broadcast recordings are):
    // the case chunking.scene_keyframes is for. BENCH_SCENE_KEYFRAMES=0 measures ffmpeg's scene analysis instead.
    const chunking = { seconds: chunkSeconds, cut, ...(cut === 'scene' && sceneKeyframes ? { scene_keyframes: true } : {}) };
    console.log(`encode: x264 ${preset} CRF ${crf}, threads 1; audio AAC 128k; Matroska. chunked: chunking ${JSON.stringify(chunking)}`);
    console.log(`workers: ${cores.length} (sisyphus worker, concurrency 1), pinned to cores ${cores.join(', ')} with taskset; server on SQLite in this process\n`);

    fleet = await startFleet({ dir, cores, roots: [dir, ...(process.env.BENCH_SOURCE ? [dirname(files.long)] : [])] });
    const runs = Object.fromEntries(order.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      const line = [];
      for (const key of r % 2 ? [...order].reverse() : order) {
        const setup = SETUPS[key];
        await fleet.use(setup.workers);
        const output = join(dir, 'out', `${key}-${r + 1}.mkv`);
        if (quietS > 0) await waitForQuiet(`round ${r + 1} ${key}:`, quietS);
        const pids = fleet.workers.map((w) => w.child.pid);
        const cpu0 = pids.reduce((t, p) => t + treeCpuMs(p), 0);
        const self0 = process.cpuUsage();
        const m0 = machineTicks();
        const run = await fleet.runJob(encodeJob(`${key} round ${r + 1}`, files[setup.file], output, setup.chunked ? chunking : undefined));
        run.cpu = pids.reduce((t, p) => t + treeCpuMs(p), 0) - cpu0;
        const m1 = machineTicks();
        const self = process.cpuUsage(self0);
        // The share of the machine's CPU time that went to other processes meanwhile (machine ticks are 10 ms).
        run.other = Math.max(0, ((m1.busy - m0.busy) * 10 - run.cpu - (self.user + self.system) / 1000) / ((m1.total - m0.total) * 10));
        run.output = output;
        runs[key].push(run);
        line.push(`${key} ${sec(run.total)} s`);
      }
      const [a, b, c] = ['a', 'b', 'c'].map((k) => runs[k][r].total);
      console.log(`round ${r + 1}: ${line.join(', ')}  ->  a/c ${f2(a / c)}, a/(2c) ${f3(a / (2 * c))}, b/a ${f3(b / a)}`);
    }
    if (quietS > 0) await waitForQuiet('one-frame runs of each chunk:', quietS);
    const fixed = await measureFixed(runs.b[0].chunks, { core: cores[0], dir: join(dir, 'out') });
    const scenes = process.env.BENCH_SOURCE ? undefined : SCENE_CHANGES;
    return { settings: { chunkSeconds, shortSeconds, preset, crf, scenes }, info, runs, fixed, outputs: await checkOutputs(info, runs) };
  } finally {
    await fleet?.close().catch((error) => console.error(`closing the fleet: ${error.message}`));
  }
}

/** Frame count of every output against its source, and the video streams' hashes (sha256 of the packets) by setup. */
async function checkOutputs(info, runs) {
  const wrong = [];
  const hashes = {};
  for (const key of order) {
    for (const run of runs[key]) {
      const got = (await videoInfo(run.output)).frames;
      const want = info[SETUPS[key].file].frames;
      if (got !== want) wrong.push(`${run.output}: ${got} frames, the source has ${want}`);
      (hashes[key] ??= []).push(await videoHash(run.output));
    }
  }
  return { wrong, hashes };
}

function printOutputs(info, { wrong, hashes }, shortSeconds) {
  const same = (xs) => xs.every((x) => x === xs[0]);
  console.log('\n== outputs');
  for (const line of wrong) console.log(`  ${line}`);
  console.log(`  frame counts equal the source's: ${wrong.length ? 'no' : 'yes'} (${info.long.frames}${info.short ? ` and ${info.short.frames}` : ''} frames)`);
  console.log(`  video stream identical across setups: ${same([...hashes.b, ...hashes.c]) ? 'yes' : 'no'} (chunked, 1 and 2 workers, ${hashes.c.length} rounds: sha256 ...${hashes.c[0].slice(-16)})`);
  if (hashes.sc) console.log(`  ${shortSeconds} s file chunked, across rounds: ${same(hashes.sc) ? 'identical' : 'DIFFERENT'}`);
  console.log(`  unchunked, across rounds: ${same(hashes.a) ? 'identical' : 'DIFFERENT'}; the same as the chunked one: ${hashes.a[0] === hashes.c[0] ? 'yes' : 'no (expected: the chunked one has a keyframe at each chunk start)'}`);
}

/** Times, ratios, where the chunked time goes, and the model. */
function report({ settings, info, runs, fixed: fixedRuns, outputs }) {
  const { chunkSeconds, shortSeconds } = settings;
  const order = Object.keys(runs);
  const L = info.long;
  // Medians, and the ratios of each round (a and c of the same round) with their median.
  console.log(`\n== times (s; submit to finished, as the server recorded them), medians of ${runs.a.length} rounds`);
  for (const key of order) {
    const rs = runs[key];
    const cores_ = rs.map((r) => r.cpu / r.total);
    console.log(
      `  ${SETUPS[key].label.padEnd(36)} ${pad(sec(median(rs.map((r) => r.total))), 6)}   (rounds: ${rs.map((r) => sec(r.total)).join(', ')}; ` +
        `workers+ffmpeg used ${cores_.map(f2).join(', ')} cores of ${SETUPS[key].workers}; other processes ${rs.map((r) => `${(r.other * 100).toFixed(0)}%`).join(', ')} of the CPUs)`,
    );
  }
  const per = (f) => runs.a.map((_, r) => f(runs.a[r].total, runs.b[r].total, runs.c[r].total));
  const speedups = per((a, b, c) => a / c);
  const effs = per((a, b, c) => a / (2 * c));
  const overheads = per((a, b) => b / a);
  console.log(`\n== the number (median of the rounds' ratios; each round's a, b, c ran minutes apart)`);
  console.log(`  speed-up a/c      ${f2(median(speedups))}   (rounds: ${speedups.map(f2).join(', ')})   target >= ${TARGET.speedup}: ${meets(median(speedups) >= TARGET.speedup)}`);
  console.log(`  efficiency a/(2c) ${f3(median(effs))}  (rounds: ${effs.map(f3).join(', ')})`);
  console.log(`  overhead b/a      ${f3(median(overheads))}  (rounds: ${overheads.map(f3).join(', ')})   target <= ${TARGET.overhead}: ${meets(median(overheads) <= TARGET.overhead)}`);
  // CPU time (the workers and their ffmpegs) hardly depends on what else runs: the work, whatever the neighbours took.
  const cpuOf = (key) => runs[key].map((r) => r.cpu);
  const cpuRatio = (key) => runs.a.map((r, i) => runs[key][i].cpu / r.cpu);
  console.log(
    `  work (CPU s of workers + ffmpeg): a ${cpuOf('a').map(sec).join(', ')}; b ${cpuOf('b').map(sec).join(', ')}; c ${cpuOf('c').map(sec).join(', ')}  ->  ` +
      `b/a ${f3(median(cpuRatio('b')))}, c/a ${f3(median(cpuRatio('c')))} by CPU (rounds: ${cpuRatio('b').map(f3).join(', ')} and ${cpuRatio('c').map(f3).join(', ')})`,
  );
  if (runs.sa) {
    const s = runs.sa.map((r, i) => r.total / runs.sc[i].total);
    console.log(`  ${shortSeconds} s file: a/c ${f2(median(s))}, a/(2c) ${f3(median(s) / 2)}   (rounds: ${s.map(f2).join(', ')})`);
  }

  printOutputs(info, outputs, shortSeconds);

  // Where the chunked time goes.
  const chunkedRuns = [...runs.b, ...runs.c];
  const c0 = runs.c[0];
  console.log(`\n== chunks (round 1 of (c)): ${c0.chunks.length} chunks; frames, seconds on its worker, ms per frame`);
  for (const ch of c0.chunks) {
    console.log(`  ${pad(ch.index, 2)}  ${pad(ch.frames, 5)} frames (${(ch.frames / L.fps).toFixed(2)} s)  ${ch.worker}  ${pad(sec(ch.end - ch.start), 6)} s  ${pad(((ch.end - ch.start) / ch.frames).toFixed(1), 6)} ms/frame`);
  }
  const parts = (rs) => ({
    dispatch: median(rs.map((r) => r.firstStart - r.added)),
    plan: median(rs.map((r) => r.plan)),
    join: median(rs.map((r) => r.resume)),
    resumeGap: median(rs.map((r) => r.toResume)),
  });
  const gapsOf = (r) => {
    const gaps = [];
    for (const w of new Set(r.chunks.map((c) => c.worker))) {
      let last = r.firstStart + r.plan;
      for (const ch of r.chunks.filter((c) => c.worker === w).sort((x, y) => x.start - y.start)) {
        gaps.push(ch.start - last);
        last = ch.end;
      }
    }
    return gaps;
  };
  const pb = parts(runs.b);
  const pc = parts(runs.c);
  const gap = median(chunkedRuns.flatMap(gapsOf));
  const busy = (r) => r.chunks.reduce((s, c) => s + c.end - c.start, 0);
  console.log('\n== where the time goes (medians, s)');
  console.log(`  (b): submit to start ${sec(pb.dispatch)}, plan ${sec(pb.plan)} (first run; phases ms ${JSON.stringify(runs.b[0].planPhases)}), chunks ${sec(median(runs.b.map(busy)))} busy, last chunk to join ${sec(pb.resumeGap)}, join ${sec(pb.join)} (phases ms ${JSON.stringify(runs.b[0].resumePhases)})`);
  console.log(`  (c): plan ${sec(pc.plan)}, chunks ${sec(median(runs.c.map(busy)))} busy over 2 workers (makespan ${sec(median(runs.c.map((r) => Math.max(...r.chunks.map((c) => c.end)) - Math.min(...r.chunks.map((c) => c.start)))))}), join ${sec(pc.join)}; dispatch gap before a chunk ${gap.toFixed(0)} ms`);
  console.log(`  (a): ${sec(median(runs.a.map((r) => r.total)))} s of which run phase ${sec(median(runs.a.map((r) => r.result.tasks[0].durations.run)))}`);

  // The model: chunk time = fixed + per-frame cost x frames. The chunks of one plan are all about the target
  // length and differ in content, so a least-squares line over them says little about the fixed part (printed
  // anyway); the fixed cost used is what one worker's chunks took together beyond the unchunked encode on that
  // worker, per chunk: ((b)'s chunks busy - (a)'s run on its worker) / chunks.
  const fit = (rs) => {
    const all = rs.flatMap((r) => r.chunks);
    return fitLine(all.map((c) => c.frames), all.map((c) => c.end - c.start));
  };
  const fb = fit(runs.b);
  const fc = fit(runs.c);
  const n = runs.b[0].chunks.length;
  // Measured: each chunk's command with one frame, plus its child's phases outside the encode (bench/chunked-fixed.mjs).
  const fixed = median(fixedRuns.map((f) => f.fixed));
  console.log('\n== model (bench/chunked-model.mjs)');
  console.log(`  least squares over the chunks, time on its worker = fixed + per-frame x frames: (b) ${sec(fb.a)} s + ${fb.b.toFixed(1)} ms x frames (R2 ${f2(fb.r2)}); (c) ${sec(fc.a)} s + ${fc.b.toFixed(1)} ms x frames (R2 ${f2(fc.r2)})`);
  const fx = fixedRuns.map((f) => f.fixed);
  console.log(
    `  fixed cost per chunk used: ${fixed.toFixed(0)} ms, the median of ${n} chunks (${Math.min(...fx).toFixed(0)}-${Math.max(...fx).toFixed(0)} ms): ` +
      `its ffmpeg with one frame (start, probe, pre-roll decode from the keyframe before the cut, x264 set-up; median ${median(fixedRuns.map((f) => f.ffmpeg)).toFixed(0)} ms) ` +
      `+ its child's init, validate, cleanup (median ${median(fixedRuns.map((f) => f.phases)).toFixed(0)} ms)`,
  );
  /** Per chunk (timeline order): frames and its own per-frame cost (its median time over the rounds, less the fixed cost). */
  const pool = (rs) => rs[0].chunks.map((ch, i) => ({ frames: ch.frames, perFrame: (median(rs.map((r) => r.chunks[i].end - r.chunks[i].start)) - fixed) / ch.frames }));
  const poolB = pool(runs.b);
  const poolC = pool(runs.c);
  const work = (p) => p.reduce((s, c) => s + c.perFrame * c.frames, 0);
  console.log(`  per-frame cost, frame-weighted mean: ${(work(poolB) / L.frames).toFixed(1)} ms alone (b), ${(work(poolC) / L.frames).toFixed(1)} ms two at a time (c); per chunk ${Math.min(...poolC.map((c) => c.perFrame)).toFixed(1)}-${Math.max(...poolC.map((c) => c.perFrame)).toFixed(1)} ms (content)`);
  const shortRuns = runs.sc ?? [];
  const F = L.frames;
  const Fs = info.short?.frames;
  /** A line through the (short, 60 s) medians; through the origin when it would start below zero (noise). */
  const clamp = (l, y) => (l.a < 0 || l.b < 0 ? lineThrough(undefined, undefined, F, y) : l);
  const stepLine = (f) => {
    const y = median(chunkedRuns.map(f));
    return clamp(lineThrough(Fs, shortRuns.length ? median(shortRuns.map(f)) : undefined, F, y), y);
  };
  const planLine = stepLine((r) => r.plan);
  const joinLine = stepLine((r) => r.resume);
  console.log(`  plan step = ${sec(planLine.a)} s + ${planLine.b.toFixed(2)} ms x frames; join step = ${sec(joinLine.a)} s + ${joinLine.b.toFixed(2)} ms x frames (${Fs ? `through the ${shortSeconds} s and ${Math.round(L.seconds)} s medians` : 'through the origin'})`);
  const base = {
    dispatch: median(chunkedRuns.map((r) => r.firstStart - r.added)),
    plan: planLine,
    join: joinLine,
    gap,
    resumeGap: median(chunkedRuns.map((r) => r.toResume)),
  };
  const aMed = median(runs.a.map((r) => r.total));
  const modelB = { ...base, fixed, unchunkedPerWork: aMed / work(poolB) };
  const modelC = { ...base, fixed, unchunkedPerWork: aMed / work(poolC) };
  console.log(`  dispatch: submit to start ${base.dispatch.toFixed(0)} ms, before each chunk ${gap.toFixed(0)} ms, last chunk to join ${base.resumeGap.toFixed(0)} ms`);
  console.log(`  one worker unchunked = ${f3(modelC.unchunkedPerWork)} x the chunks' per-frame work (from (a) and the (c) chunks)`);
  const predB = chunkedTime(poolB, 1, modelB);
  const predC = chunkedTime(poolC, 2, modelC);
  const predC2 = chunkedTime(poolC, 2, modelC, 'timeline');
  console.log(`  check, the measured chunks replayed: (b) predicted ${sec(predB)} s, measured ${sec(median(runs.b.map((r) => r.total)))} s; (c) predicted ${sec(predC)} s, measured ${sec(median(runs.c.map((r) => r.total)))} s (in timeline order: ${sec(predC2)} s)`);
  const cuts = {
    target: chunkSeconds * L.fps,
    minFrames: Math.ceil((chunkSeconds / 4) * L.fps),
    // Where the planner cut, relative to the target it cut for (frames), except the first chunk's start.
    offsets: poolC.slice(1).map((_, i) => {
      const start = poolC.slice(0, i + 1).reduce((s, c) => s + c.frames, 0);
      return start - Math.round(start / (chunkSeconds * L.fps)) * chunkSeconds * L.fps;
    }),
    costs: poolC.map((c) => c.perFrame),
  };
  if (shortRuns.length) {
    const p = predictEfficiency({ frames: Fs, n: 2, m: modelC, cuts, order: 'timeline' });
    const measured = median(runs.sa.map((r, i) => r.total / (2 * runs.sc[i].total)));
    console.log(`  check, ${shortSeconds} s file on 2 workers: predicted efficiency ${f3(p.efficiency)} (synthetic cuts and content), measured ${f3(measured)}`);
  }
  if (settings.scenes) {
    // Each frame at its (b) chunk's per-frame cost, over the cuts other targets would give (the generated source's scene changes).
    const costs = poolB.flatMap((c) => Array.from({ length: c.frames }, () => c.perFrame));
    console.log(`\n  the chunk target, replayed: (b)'s per-frame costs over the cuts each target gives, ${fixed.toFixed(0)} ms fixed per chunk, costliest first; s of work, makespan / a perfect split:`);
    for (const t of [3, 4, 5, 6, 8, 10, 12]) {
      const cutsAt = sceneCuts({ frames: L.frames, target: t * L.fps, scenes: settings.scenes.map((x) => Math.round(x * L.fps)), maxHalf: 10 * L.fps });
      const r = replayCuts({ cuts: cutsAt, costs, fixed, workers: [2, 4] });
      console.log(`  ${pad(t, 4)} s: ${pad(r.chunks, 2)} chunks, ${pad(sec(r.work), 5)} s; 2 workers ${pad(sec(r.makespans[0]), 5)} / ${sec(r.work / 2)} s, 4 workers ${pad(sec(r.makespans[1]), 5)} / ${sec(r.work / 4)} s${t === chunkSeconds ? '   <- this run' : ''}`);
    }
  }
  // The same without the serial part (dispatch, plan, join): what the chunks alone allow (count, stragglers, their own cost).
  const chunksOnly = { ...modelC, dispatch: 0, plan: { a: 0, b: 0 }, join: { a: 0, b: 0 }, resumeGap: 0 };
  const variants = [
    ['costliest', modelC, 'chunks handed out costliest first (as the task submits them; its estimate taken as exact)'],
    ['timeline', modelC, 'chunks handed out in timeline order'],
    ['costliest', chunksOnly, 'the chunks alone, costliest first: no plan, no join, no dispatch (the balance limit)'],
  ];
  for (const [order_, m, what] of variants) {
    console.log(`\n  predicted efficiency a/(N c), ${what}; * = >= ${TARGET.efficiency}:`);
    console.log(`  ${'file'.padEnd(8)} ${'chunks'.padStart(6)}  serial  ${MODEL.workers.map((n) => `N=${n}`.padStart(8)).join('')}`);
    for (const seconds of MODEL.lengths) {
      const frames = Math.round(seconds * L.fps);
      const cells = MODEL.workers.map((n) => predictEfficiency({ frames, n, m, cuts, order: order_ }));
      // The serial part (dispatch, plan, join) over the unchunked time.
      const serial = (m.dispatch + m.plan.a + m.plan.b * frames + m.resumeGap + m.join.a + m.join.b * frames) / (aMed * (frames / F));
      const label = seconds >= 3600 ? `${seconds / 3600} h` : seconds >= 600 ? `${seconds / 60} min` : `${seconds} s`;
      console.log(`  ${label.padEnd(8)} ${cells[0].chunks.toFixed(1).padStart(6)}  ${(serial * 100).toFixed(1).padStart(5)}%  ${cells.map((c) => `${f3(c.efficiency)}${c.efficiency >= TARGET.efficiency ? '*' : ' '}`.padStart(8)).join('')}`);
    }
  }
}

console.log(`bench:chunked: ${cpus().length} CPUs, load average before ${load()} (1, 5, 15 min)`);
if (process.env.BENCH_REPLAY) {
  report(JSON.parse(readFileSync(process.env.BENCH_REPLAY, 'utf8')));
} else {
  const dir = await mkdtemp(join(tmpdir(), 'sisyphus-chunked-'));
  try {
    const data = await measure(dir);
    await writeFile(join(dir, 'runs.json'), JSON.stringify(data));
    report(data);
  } finally {
    if (keep) console.log(`kept: ${dir} (BENCH_REPLAY=${join(dir, 'runs.json')} prints this report again)`);
    else await rm(dir, { recursive: true, force: true });
  }
}
console.log(`\nload average after ${load()}`);
