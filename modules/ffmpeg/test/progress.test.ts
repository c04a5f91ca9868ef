import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Progress } from '@sisyphus/core';
import { PROGRESS_ARGS, buildFfmpegArgs, type FfmpegData, type ProbeResult, type ResolvedOutputMap } from '@sisyphus/module-ffmpeg';
import { FfmpegProgressParser } from '../src/progress-parser.js';
import { expectedOutput, parseFrameRate, type OutputTotals } from '../src/stream-check.js';

// Real ffmpeg on media made here; every report comes from the real `-progress pipe:1` output of a real encode.
let dir = '';
/** 4 s, 24 fps (96 frames), plus 4 s of audio; mp4, so ffprobe knows nb_frames. */
let mp4 = '';
/** The same again, as a second input. */
let mp4b = '';
/** A raw H.264 elementary stream: ffprobe knows no duration. */
let raw = '';

const x264: ResolvedOutputMap = { specifier: 'v', options: { codec: 'libx264', preset: 'ultrafast' } };
const aac: ResolvedOutputMap = { specifier: 'a', options: { codec: 'aac' } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-progress-'));
  mp4 = join(dir, 'src.mp4');
  mp4b = join(dir, 'src-b.mp4');
  raw = join(dir, 'src.h264');
  const video = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=24:duration=4'];
  await execa('ffmpeg', ['-v', 'error', '-y', ...video, '-f', 'lavfi', '-i', 'sine=duration=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', mp4]);
  await copyFile(mp4, mp4b);
  await execa('ffmpeg', ['-v', 'error', '-y', ...video, '-c:v', 'libx264', '-preset', 'ultrafast', raw]);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function probeFile(file: string): Promise<ProbeResult> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', file]);
  const parsed = JSON.parse(stdout) as ProbeResult;
  return { streams: parsed.streams ?? [], format: parsed.format ?? {} };
}

async function probesOf(data: FfmpegData): Promise<Map<number, ProbeResult>> {
  return new Map(await Promise.all(data.sources.map(async (s, i) => [i, await probeFile(s)] as const)));
}

let outputs = 0;
const job = (patch: Partial<FfmpegData> = {}): FfmpegData => ({
  sources: [mp4],
  source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a' }],
  output_file: join(dir, `out-${++outputs}.mkv`),
  overwrite: true,
  ...patch,
});

interface Encode {
  totals: OutputTotals;
  reports: Progress[];
  parser: FfmpegProgressParser;
  /** `out_time_us` of the last block, in seconds: how long the output really is. */
  outSeconds: number;
  sawEnd: boolean;
  exitCode: number | null;
}

/**
 * Run the real encode `data` + `maps` (`-stats_period 0.1` for many blocks;
 * `readrate` paces the input), feeding stdout through the parser built from
 * the real probes. `killAt`: SIGTERM ffmpeg once a report reaches that percent.
 */
async function encode(data: FfmpegData, maps: ResolvedOutputMap[], opts: { readrate?: number; killAt?: number } = {}): Promise<Encode> {
  const totals = expectedOutput(data, await probesOf(data), maps);
  const parser = new FfmpegProgressParser(totals);
  const withRate = opts.readrate ? { ...data, input_options: { readrate: opts.readrate, ...data.input_options } } : data;
  const argv = [...PROGRESS_ARGS, '-stats_period', '0.1', ...buildFfmpegArgs(withRate, maps)];
  const child = spawn('ffmpeg', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const reports: Progress[] = [];
  let outSeconds = NaN;
  let sawEnd = false;
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('out_time_us=')) outSeconds = Number(line.slice(12)) / 1e6;
    if (line === 'progress=end') sawEnd = true;
    const report = parser.push(line);
    if (!report) continue;
    reports.push(report);
    if (opts.killAt !== undefined && !killed && (report.percent ?? 0) >= opts.killAt) {
      killed = true;
      child.kill('SIGTERM');
    }
  }
  const exitCode = await exited;
  if (opts.killAt === undefined) expect(exitCode, stderr).toBe(0);
  return { totals, reports, parser, outSeconds, sawEnd, exitCode };
}

const percents = (reports: Progress[]) => reports.map((r) => r.percent).filter((p): p is number => p !== undefined);

/** Never back, and no jump bigger than `step`. */
function expectSteadyClimb(values: number[], step: number): void {
  for (let i = 1; i < values.length; i++) {
    expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(values[i]! - values[i - 1]!, `jump from ${values[i - 1]} to ${values[i]} in ${values.join(', ')}`).toBeLessThanOrEqual(step);
  }
}

describe('ffmpeg progress from real encodes', () => {
  it('-r 12 on a 24 fps source climbs steadily with output time (no stall at half, no jump to 100)', async () => {
    const data = job();
    const e = await encode(data, [{ options: { r: 12 } }, x264, aac], { readrate: 2 });
    // ffprobe knows 96 source frames, but the output has 48: the total is the output's.
    expect(e.totals).toEqual({ seconds: 4, frames: 48 });
    const p = percents(e.reports);
    expect(p.length).toBeGreaterThan(8);
    expectSteadyClimb(p, 30);
    expect(p.some((x) => x > 35 && x < 65)).toBe(true);
    expect(p.at(-1)).toBeGreaterThan(95);
    // ffmpeg's own end block is not 100: only success is.
    expect(e.sawEnd).toBe(true);
    expect(e.reports.at(-1)!.percent).toBeLessThan(100);
    expect(e.reports.at(-1)!.frames).toBeGreaterThanOrEqual(48);
    for (const r of e.reports) if (r.frames !== undefined && r.frames > 0) expect(r.fps).toBeDefined();
    expect(e.parser.succeeded()).toMatchObject({ percent: 100, eta: 0, frames: e.reports.at(-1)!.frames, totalFrames: e.reports.at(-1)!.frames });
  });

  it('a chunk\'s encode (copyts, input seek past its output ss, a frame limit) counts by its frames: no long stall at 0 and jump at the end', async () => {
    // As a chunk child runs it (chunkTaskData): the input seek lands after the output ss on the source's timeline (a
    // review saw a chunk of 200 frames counted as 196 by time: 0 % at frame 52, 69 % at frame 188).
    const data = job({ source_maps: [{ source: 0, specifier: 'v' }], input_options: { copyts: true, noaccurate_seek: true, ss: 1.3 } });
    const e = await encode(data, [x264, { options: { ss: 1.25, output_ts_offset: 10 } }, { specifier: 'v', stream: 0, options: { frames: 48, threads: 1 } }], { readrate: 1 });
    expect(e.totals).toEqual({ seconds: 2, frames: 48, byFrames: true });
    const reports = e.reports.filter((r) => r.frames !== undefined && r.frames > 0 && r.percent !== undefined);
    expect(reports.length).toBeGreaterThan(3);
    // The percent is the frames done over 48, whatever the output time says.
    for (const r of reports) expect(r.percent!).toBeCloseTo(Math.min(99.9, (r.frames! / 48) * 100), 0);
    expect(reports.at(-1)!.frames).toBe(48);
  });

  it('a frame-doubling filter does not sit at 99.9 half-way', async () => {
    const data = job({ source_maps: [{ source: 0, specifier: 'v' }] });
    const e = await encode(data, [{ specifier: 'v', options: { vf: 'fps=48', codec: 'libx264', preset: 'ultrafast' } }], { readrate: 2 });
    // The filter changes the frame rate: no frame total is claimed, time still gives the percent.
    expect(e.totals).toEqual({ seconds: 4 });
    const p = percents(e.reports);
    expectSteadyClimb(p, 30);
    for (const r of e.reports) {
      expect(r.totalFrames).toBeUndefined();
      // 192 frames come out; half-way is about 50 %, not 99.9.
      if (r.frames !== undefined && r.frames > 10 && r.frames < 150) expect(Math.abs(r.percent! - (r.frames / 192) * 100)).toBeLessThan(20);
    }
    expect(e.reports.at(-1)!.frames).toBeGreaterThan(180);
    expect(e.reports.at(-1)!.percent).toBeLessThan(100);
  });

  it('a source without a known duration: frames and fps, no percent, no eta; 100 only after success', async () => {
    const probed = await probeFile(raw);
    expect(probed.format.duration).toBeUndefined();
    const data = job({ sources: [raw], source_maps: [{ source: 0, specifier: 'v' }] });
    const e = await encode(data, [x264], { readrate: 4 });
    expect(e.totals).toEqual({});
    expect(e.reports.length).toBeGreaterThan(3);
    for (const r of e.reports) {
      expect(r.percent).toBeUndefined();
      expect(r.eta).toBeUndefined();
      expect(r.totalFrames).toBeUndefined();
    }
    expect(e.reports.filter((r) => r.frames! > 0 && r.fps !== undefined).length).toBeGreaterThan(2);
    expect(e.reports.some((r) => r.speed !== undefined)).toBe(true);
    expect(e.parser.succeeded()).toMatchObject({ percent: 100, frames: 96, totalFrames: 96, info: { current_frame: 96, total_frames: 96 } });
  });

  // Two inputs (a function: the files are named once beforeAll ran); input options stand before the first only.
  const twoInputs = () => ({ sources: [mp4, mp4b], source_maps: [{ source: 0, specifier: 'v' as const }, { source: 1, specifier: 'a' as const }], input_options: { ss: 1 } });
  const trims: Array<[string, Partial<FfmpegData> | (() => Partial<FfmpegData>), ResolvedOutputMap[], OutputTotals]> = [
    ['input ss', { input_options: { ss: 1 } }, [], { seconds: 3, frames: 72 }],
    ['input sseof', { input_options: { sseof: -1.5 } }, [], { seconds: 1.5, frames: 36 }],
    ['input ss + t', { input_options: { ss: '00:00:01', t: 2 } }, [], { seconds: 2, frames: 48 }],
    ['input ss + to', { input_options: { ss: 1, to: '3000ms' } }, [], { seconds: 2, frames: 48 }],
    ['output ss', {}, [{ options: { ss: 1 } }], { seconds: 3, frames: 72 }],
    ['output ss + to', {}, [{ options: { ss: 1, to: 3 } }], { seconds: 2, frames: 48 }],
    ['output t', {}, [{ options: { t: 1.5 } }], { seconds: 1.5, frames: 36 }],
    ['input ss, then output ss + t', { input_options: { ss: 1 } }, [{ options: { ss: 0.5, t: 1 } }], { seconds: 1, frames: 24 }],
    ['frames:v', {}, [{ specifier: 'v', options: { frames: 30 } }], { seconds: 1.25, frames: 30, byFrames: true }],
    ['vframes', {}, [{ options: { vframes: 30 } }], { seconds: 1.25, frames: 30, byFrames: true }],
    ['a frame limit the source never reaches', {}, [{ specifier: 'v', options: { frames: 500 } }], { seconds: 4, frames: 96 }],
    ['input ss applies to the first input only', twoInputs, [], { seconds: 4, frames: 72 }],
    ['shortest', twoInputs, [{ options: { shortest: true } }], { seconds: 3, frames: 72 }],
  ];

  it.each(trims)('%s: the expected total is what ffmpeg really writes', async (_name, patch, extra, expected) => {
    const e = await encode(job(typeof patch === 'function' ? patch() : patch), [...extra, x264, aac]);
    expect(e.totals.byFrames ?? false).toBe(expected.byFrames ?? false);
    expect(e.totals.frames).toBe(expected.frames);
    expect(e.totals.seconds).toBeCloseTo(expected.seconds!, 6);
    // ffmpeg's real output ends where expected (audio packets overhang by a few ms).
    expect(Math.abs(e.outSeconds - expected.seconds!)).toBeLessThan(0.15);
    if (expected.byFrames) expect(e.reports.at(-1)!.frames).toBe(expected.frames);
    const last = e.reports.at(-1)!.percent!;
    expect(last).toBeGreaterThan(90);
    expect(last).toBeLessThan(100);
  });

  it('a frame limit gives percent from frames done / the limit', async () => {
    const e = await encode(job(), [{ specifier: 'v', options: { frames: 60 } }, x264, aac], { readrate: 2 });
    expect(e.totals).toEqual({ seconds: 2.5, frames: 60, byFrames: true });
    for (const r of e.reports) {
      if (r.frames === undefined || r.frames >= 60) continue;
      expect(r.percent).toBeCloseTo((r.frames / 60) * 100, 6);
      expect(r.totalFrames).toBe(60);
    }
    expectSteadyClimb(percents(e.reports), 30);
  });

  it('a process killed at ~25 % reports where it stopped, not 100', async () => {
    const e = await encode(job(), [x264, aac], { readrate: 1, killAt: 25 });
    expect(e.exitCode).not.toBe(0);
    // ffmpeg answers SIGTERM with a last block that ends in progress=end.
    expect(e.sawEnd).toBe(true);
    const p = percents(e.reports);
    expect(p.at(-1)).toBeGreaterThanOrEqual(25);
    expect(p.at(-1)).toBeLessThan(60);
    expect(Math.max(...p)).toBeLessThan(60);
    // The real last percent: what was written, against the expected 4 s.
    expect(p.at(-1)).toBeCloseTo((e.outSeconds / 4) * 100, 0);
    expect(e.parser.last).toBe(e.reports.at(-1));
  });
});

describe('progress parser edges', () => {
  const feed = (parser: FfmpegProgressParser, lines: string[]) => lines.map((l) => parser.push(l)).filter((r): r is Progress => !!r);

  it('holds below 100 when the output runs past its expected end, and never goes back', () => {
    const parser = new FfmpegProgressParser({ seconds: 10 });
    const [a, b, c, d] = feed(parser, [
      'out_time_us=5000000', 'speed=2x', 'progress=continue',
      'out_time_us=12000000', 'speed=2x', 'progress=continue',
      'out_time_us=11000000', 'progress=continue',
      'out_time_us=N/A', 'progress=end',
    ]);
    expect(a).toEqual({ percent: 50, speed: 2, eta: 2.5 });
    expect(b).toEqual({ percent: 99.9, speed: 2 });
    expect(c!.percent).toBe(99.9);
    expect(d!.percent).toBe(99.9);
    expect(parser.succeeded().percent).toBe(100);
  });

  it('keeps fps 0 and speed 0 that ffmpeg gives at the start, with no eta', () => {
    const [r] = feed(new FfmpegProgressParser({ seconds: 10 }), ['frame=1', 'fps=0.00', 'out_time_us=0', 'speed=   0x', 'progress=continue']);
    expect(r).toEqual({ percent: 0, frames: 1, fps: 0, speed: 0, info: { current_frame: 1 } });
  });

  it('the (seconds, frames) shorthand takes percent from time and shows the frames as total', () => {
    const [r] = feed(new FfmpegProgressParser(10, 240), ['frame=60', 'fps=30.0', 'out_time_us=2500000', 'speed=1.25x', 'progress=continue']);
    expect(r).toEqual({ percent: 25, frames: 60, totalFrames: 240, fps: 30, speed: 1.25, eta: 6, info: { current_frame: 60, total_frames: 240 } });
  });

  it('parses frame rates', () => {
    expect(parseFrameRate('24000/1001')).toBeCloseTo(23.976, 3);
    expect(parseFrameRate('0/0')).toBeUndefined();
    expect(parseFrameRate(12)).toBe(12);
    expect(parseFrameRate('ntsc')).toBeCloseTo(29.97, 2);
    expect(parseFrameRate('fast')).toBeUndefined();
  });
});
