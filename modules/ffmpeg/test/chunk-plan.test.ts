import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, createProcessRunner } from '@sisyphus/core';
import { chooseCuts, encoderMarksScenes, encoderSceneKeyframes, sceneWindows } from '../src/chunking/chunk-cuts.js';
import { planChunks } from '../src/chunking/chunk-plan.js';
import { handOutOrder } from '../src/chunking/chunk-job.js';
import { frameCadence } from '../src/chunking/frame-cadence.js';
import { scanPackets } from '../src/chunking/packet-scan.js';
import { parseFramecrcLine } from '../src/chunking/framecrc-line.js';
import { PREROLL_US, SEEK_BACKOFF_US, frameSeek, prerollFor, seekHowFor } from '../src/chunking/seek-point.js';
import { makeOpenGop, makeScenes, makeVfr, packets } from './chunk-media.js';

const runner = createProcessRunner();
let dir = '';
/** Scene changes at frames 55, 129 and 194 of 264, keyframes only every 48 frames (x264 scene cuts off). */
let scenes = '';
let openGop = '';
let vfr = '';
/** The same scenes with x264's scene cuts on (keyframes at 0, 55, 115, 129, 189, 249: its cadence is 60, it marks the changes at 55 and 129, not the one at 194). */
let x264Cuts = '';
/** Keyframes every 24 frames and at x264's scene cuts: 0 24 48 55 79 103 127 129 153 177 194 218 242 (it marks all three changes). */
let x264Short = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chunk-plan-'));
  scenes = join(dir, 'scenes.mkv');
  openGop = join(dir, 'open-gop.mkv');
  vfr = join(dir, 'vfr.mkv');
  x264Cuts = join(dir, 'x264-cuts.mkv');
  await makeScenes(x264Cuts, { size: '192x108' });
  x264Short = join(dir, 'x264-short-gops.mkv');
  await makeScenes(x264Short, { size: '192x108', extra: ['-g', '24'] });
  await makeScenes(scenes, { size: '192x108', extra: ['-x264-params', 'scenecut=0:keyint=48:min-keyint=48'] });
  await makeOpenGop(scenes, openGop);
  await makeVfr(vfr);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Frame times of `n` frames at `fps`. */
const grid = (n: number, fps: number) => Array.from({ length: n }, (_, i) => i / fps);
const lengths = (cuts: Array<{ frame: number }>, times: number[], end: number) => cuts.map((c, i) => (i + 1 < cuts.length ? times[cuts[i + 1]!.frame]! : end) - times[c.frame]!);

describe('chooseCuts', () => {
  it('keyframe: the source keyframe nearest each multiple of seconds (a tie takes the earlier)', () => {
    const times = grid(100, 10);
    const cuts = chooseCuts({ times, end: 10, seconds: 2.5, minSeconds: 0.625, cut: 'keyframe', keyframes: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] });
    expect(cuts).toEqual([{ frame: 0, reason: 'start' }, { frame: 20, reason: 'keyframe' }, { frame: 50, reason: 'keyframe' }, { frame: 70, reason: 'keyframe' }]);
  });

  it('keyframe: a piece shorter than min_seconds at the end is merged into the chunk before', () => {
    const times = grid(103, 10);
    const cuts = chooseCuts({ times, end: 10.3, seconds: 5, minSeconds: 1.25, cut: 'keyframe', keyframes: [0, 50, 100] });
    expect(cuts.map((c) => c.frame)).toEqual([0, 50]);
  });

  it('keyframe: sparse keyframes give longer chunks, and targets behind the last cut are skipped', () => {
    const times = grid(300, 10);
    const cuts = chooseCuts({ times, end: 30, seconds: 3, minSeconds: 0.75, cut: 'keyframe', keyframes: [0, 100, 200] });
    expect(cuts.map((c) => c.frame)).toEqual([0, 100, 200]);
  });

  it('scene: the strongest scene change within a quarter target of each target, else the frame nearest the target', () => {
    const times = grid(100, 10);
    const scores = new Map<number, number>();
    for (let i = 1; i < 100; i++) scores.set(i, 0.01);
    scores.set(28, 0.9);
    scores.set(23, 0.5);
    scores.set(57, 0.2); // below the threshold
    const cuts = chooseCuts({ times, end: 10, seconds: 2.5, minSeconds: 0.625, cut: 'scene', scores, threshold: 0.3 });
    expect(cuts).toEqual([
      { frame: 0, reason: 'start' },
      { frame: 28, reason: 'scene', score: 0.9 },
      { frame: 50, reason: 'target', score: 0.01 },
      { frame: 75, reason: 'target', score: 0.01 },
    ]);
  });

  it('never makes a chunk shorter than min_seconds (random sources)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let run = 0; run < 200; run++) {
      const fps = 10 + Math.floor(random() * 50);
      const n = 20 + Math.floor(random() * 2000);
      const times = grid(n, fps);
      const end = n / fps;
      const seconds = 1 + random() * 10;
      const minSeconds = seconds * (0.1 + random() * 0.8);
      const keyframes = [0, ...times.flatMap((_, i) => (i > 0 && random() < 0.05 ? [i] : []))];
      const scores = new Map(times.map((_, i) => [i, random()] as [number, number]));
      const sceneKeyframes = keyframes.filter((k) => k > 0 && random() < 0.3);
      const variants = [
        { cut: 'keyframe' as const },
        { cut: 'scene' as const },
        { cut: 'scene' as const, sceneKeyframes },
        { cut: 'scene' as const, sceneKeyframes, scenesAtKeyframes: true },
      ];
      for (const variant of variants) {
        const cut = variant.cut;
        const cuts = chooseCuts({ times, end, seconds, minSeconds, keyframes, scores, threshold: 0.95, ...variant });
        if (variant.scenesAtKeyframes) for (const c of cuts) if (c.reason === 'keyframe' || c.reason === 'scene_keyframe') expect(keyframes).toContain(c.frame);
        const ls = lengths(cuts, times, end);
        if (cuts.length > 1) for (const l of ls) expect(l).toBeGreaterThanOrEqual(minSeconds - 1e-9);
        expect(cuts.map((c) => c.frame)).toEqual([...new Set(cuts.map((c) => c.frame))].sort((a, b) => a - b));
        if (cut === 'keyframe') for (const c of cuts) expect(keyframes).toContain(c.frame);
      }
    }
  });

  it('sceneWindows: the frames near each target that may start a chunk; a window holding a scene keyframe needs no analysis', () => {
    expect(sceneWindows({ times: grid(100, 10), end: 10, seconds: 4, minSeconds: 1 })).toEqual([{ from: 30, to: 50 }, { from: 70, to: 90 }]);
    expect(sceneWindows({ times: grid(100, 10), end: 10, seconds: 4, minSeconds: 1, sceneKeyframes: [29, 44, 91] })).toEqual([{ from: 70, to: 90 }]);
  });

  it('encoderSceneKeyframes: keyframes sooner than the cadence (the longest repeated distance) are the encoder\'s scene cuts', () => {
    // x264: every 50 frames after the keyframe before, and at scene changes (137, 200).
    expect(encoderSceneKeyframes([0, 50, 100, 137, 187, 200, 250])).toEqual([137, 200]);
    // Unsorted or repeated input is the same stream.
    expect(encoderSceneKeyframes([250, 0, 137, 50, 100, 187, 200, 200])).toEqual([137, 200]);
    // Fixed GOPs, keyframes only, no repeated distance, too few keyframes: nothing to tell them apart by.
    expect(encoderSceneKeyframes([0, 48, 96, 144, 192])).toEqual([]);
    expect(encoderSceneKeyframes(Array.from({ length: 20 }, (_, i) => i))).toEqual([]);
    expect(encoderSceneKeyframes([0, 10, 25, 45])).toEqual([]);
    expect(encoderSceneKeyframes([0, 30])).toEqual([]);
    expect(encoderSceneKeyframes([])).toEqual([]);
    // A trailing short GOP (the stream ends) counts like any: it is a keyframe either way.
    expect(encoderSceneKeyframes([0, 60, 120, 180, 200])).toEqual([200]);
  });

  it('encoderMarksScenes: two scene keyframes besides the first after frame 0 are a habit', () => {
    expect(encoderMarksScenes([0, 50, 100, 137, 187, 200, 250], [137, 200])).toBe(true);
    // A stream cut out of a longer one starts with a short GOP: that one does not count.
    expect(encoderMarksScenes([0, 13, 63, 113, 150, 200], [13, 150])).toBe(false);
    expect(encoderMarksScenes([0, 55, 115, 129, 189, 249], [55, 129])).toBe(false);
    expect(encoderMarksScenes([0, 48, 96], [])).toBe(false);
    // Intra-only, 3 h at 60 fps: a keyframe per frame is no scene mark (and no argument list overflows).
    const intra = Array.from({ length: 648_000 }, (_, i) => i);
    expect(encoderMarksScenes(intra, encoderSceneKeyframes(intra))).toBe(false);
  });

  it('scene, with an encoder that marks scene changes: its scene keyframe, else the nearest keyframe, else the nearest frame; nothing analysed', () => {
    const times = grid(125, 10);
    const input = { times, end: 12.5, seconds: 2.5, minSeconds: 0.625, cut: 'scene' as const, keyframes: [0, 20, 29, 40, 53, 80], sceneKeyframes: [29], scenesAtKeyframes: true };
    expect(sceneWindows(input)).toEqual([]);
    // Scores are not looked at (there are none to look at).
    const cuts = chooseCuts({ ...input, scores: new Map([[52, 0.9]]), threshold: 0.3 });
    expect(cuts).toEqual([{ frame: 0, reason: 'start' }, { frame: 29, reason: 'scene_keyframe' }, { frame: 53, reason: 'keyframe' }, { frame: 80, reason: 'keyframe' }, { frame: 100, reason: 'target' }]);
  });

  it('scene: a scene keyframe in the window is the cut (nearest the target), with no score; windows without one use the scores', () => {
    const times = grid(100, 10);
    const scores = new Map<number, number>([[52, 0.8]]);
    const cuts = chooseCuts({ times, end: 10, seconds: 2.5, minSeconds: 0.625, cut: 'scene', scores, threshold: 0.3, sceneKeyframes: [22, 29, 90] });
    expect(cuts).toEqual([{ frame: 0, reason: 'start' }, { frame: 22, reason: 'scene_keyframe' }, { frame: 52, reason: 'scene', score: 0.8 }, { frame: 75, reason: 'target' }]);
    // One too close to the cut before (min_seconds) is not taken.
    const close = chooseCuts({ times, end: 10, seconds: 2.5, minSeconds: 2.4, cut: 'scene', scores: new Map(), threshold: 0.3, sceneKeyframes: [26, 48] });
    expect(close.map((c) => [c.frame, c.reason])).toEqual([[0, 'start'], [26, 'scene_keyframe'], [50, 'target'], [75, 'target']]);
  });
});

describe('handOutOrder', () => {
  const chunk = (index: number, frames: number, bytes?: number) => ({ index, frames, ...(bytes === undefined ? {} : { bytes }) }) as never;
  it('hands out the costliest chunks first: share of frames plus share of the source\'s bytes; ties in timeline order', () => {
    // The bench's chunks: frames and source KB; measured encode times 3.4, 9.4, 9.9, 1.8, 3.4, 2.9, 3.5, 4.8, 11.4, 4.3 s.
    const frames = [150, 126, 199, 100, 175, 125, 199, 126, 150, 150];
    const kb = [3194, 12883, 8174, 211, 3023, 400, 698, 3887, 18612, 2626];
    expect(handOutOrder({ chunks: frames.map((f, i) => chunk(i, f, kb[i])) })).toEqual([8, 1, 2, 4, 0, 7, 9, 6, 5, 3]);
    // Without byte counts (one missing is as none), by frames; equal ones in timeline order.
    expect(handOutOrder({ chunks: [chunk(0, 10), chunk(1, 30, 5), chunk(2, 20), chunk(3, 30)] })).toEqual([1, 3, 2, 0]);
  });
});

describe('frameSeek and frameCadence', () => {
  it('seeks 3 s before the keyframe ahead of the frame, starts 1 µs before the frame, keeps source time + 10 s, exactly', () => {
    const pts = Array.from({ length: 300 }, (_, i) => i * 1001); // 1/24000: 23.976 fps
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 130)).toEqual({ input: '2.005000', output: '5.422082', offset: '15.422082' }); // 5.42208333 s
    // A cut at a keyframe decodes from the keyframe before it (open GOPs); none far enough before: no input seek.
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 120)).toEqual({ output: '5.004999', offset: '15.004999' });
    // The input seek counts from the file's start; the output one is on the source's timeline.
    expect(frameSeek(pts.map((p) => p + 36036), [0, 120, 240], [1, 24000], 1_000_000, 250)).toMatchObject({ input: '7.511500', output: '11.928582' });
    expect(frameSeek(pts, [0], [1, 24000], 0, 0)).toEqual({ offset: '10.000000' });
    expect(frameSeek([21, 63], [0], [1, 1000], 0, 0)).toEqual({ output: '0.020999', offset: '10.020999' });
    // Files with an index seek straight to the keyframe (MP4: as asked).
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 130, seekHowFor('mov,mp4,m4a,3gp,3g2,mj2'))).toMatchObject({ input: '5.005000' });
    // A cut at a keyframe still decodes from the keyframe before (a flagged keyframe may be an intra-refresh recovery point)...
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 240, seekHowFor('mov,mp4,m4a,3gp,3g2,mj2'))).toMatchObject({ input: '5.005000' });
    // ...unless it is a clean start (an IDR): then from itself.
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 240, seekHowFor('mov,mp4,m4a,3gp,3g2,mj2', new Set([0, 240])))).toMatchObject({ input: '10.010000' });
    // Only a flagged keyframe can be one (the demuxer lands on flagged keyframes).
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 130, seekHowFor('mov,mp4,m4a,3gp,3g2,mj2', new Set([130])))).toMatchObject({ input: '5.005000' });
    // Matroska: fftools aims 3/23 s early when a stream has B-frames; the seek aims that much (+1 µs) after the keyframe...
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 130, seekHowFor('matroska,webm'))).toMatchObject({ input: '5.135435', output: '5.422082' });
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 240, seekHowFor('matroska,webm', new Set([240])))).toMatchObject({ input: '10.140435', output: '10.009999' });
    // ...never more than half way to the next keyframe (keyframes 0.2 s apart: 0.1 s).
    expect(frameSeek(pts, [0, 120, 125, 240], [1, 24000], 0, 122, seekHowFor('matroska,webm'))).toMatchObject({ input: '5.109270' });
    // Files without an index: 3 s before, no margin.
    expect(frameSeek(pts, [0, 120, 240], [1, 24000], 0, 240, seekHowFor('mpegts', new Set([240])))).toMatchObject({ input: '7.010000' });
    expect(SEEK_BACKOFF_US).toBe(Math.floor((3 * 1_000_000) / 23));
    expect([prerollFor('mov,mp4,m4a,3gp,3g2,mj2'), prerollFor('mpegts'), prerollFor(undefined)]).toEqual([0, PREROLL_US, PREROLL_US]);
  });

  it('tolerates container rounding, catches a change of rate, a dropped frame, equal timestamps', () => {
    const ms = Array.from({ length: 240 }, (_, i) => Math.round((i * 1001) / 24));
    expect(frameCadence(ms, [1, 1000]).constant).toBe(true);
    const changed = [...grid(48, 24), ...grid(60, 30).map((t) => t + 2)].map((t) => Math.round(t * 1000));
    expect(frameCadence(changed, [1, 1000]).constant).toBe(false);
    const dropped = grid(100, 25).filter((_, i) => i !== 50).map((t) => Math.round(t * 1000));
    expect(frameCadence(dropped, [1, 1000]).constant).toBe(false);
    expect(frameCadence([0, 40, 80, 80, 120, 160], [1, 1000]).constant).toBe(false);
  });
});

describe('planChunks on generated media', () => {
  it('scans packets: every frame, its keyframes, no open GOP', async () => {
    const scan = await scanPackets(runner, 'ffprobe', scenes, 'run');
    const video = scan.streams.get(0)!;
    expect(video.pts).toHaveLength(264);
    expect(video.keyframes).toEqual([0, 48, 96, 144, 192, 240]);
    expect(video.leadingPictures).toBe(0);
    expect(scan.streams.get(1)!.codecType).toBe('audio');
  });

  it('cut: keyframe cuts at the source keyframes nearest each target; the plan covers every frame exactly', async () => {
    const scan = await scanPackets(runner, 'ffprobe', scenes, 'run');
    const plan = await planChunks(runner, 'ffmpeg', scenes, scan, 0, 'h264', { seconds: 3, cut: 'keyframe' });
    expect(plan.chunks.map((c) => [c.start_frame, c.frames, c.cut])).toEqual([[0, 48, 'start'], [48, 96, 'keyframe'], [144, 48, 'keyframe'], [192, 72, 'keyframe']]);
    expect(plan).toMatchObject({ total_frames: 264, stream: 0, open_gop: false, settings: { seconds: 3, cut: 'keyframe', min_seconds: 0.75, scene_threshold: 0.3, scene_keyframes: false } });
    // Each chunk's offset is its first frame's time after the video's first frame; durations add up to the whole.
    const pts = (await packets(scenes)).map((p) => p.pts).sort((a, b) => a - b);
    for (const c of plan.chunks) expect(c.offset_us).toBe((pts[c.start_frame]! - pts[0]!) * 1000);
    // Each chunk's bytes are its frames' packets in the source: together, the whole video stream's.
    const sizes = (await packets(scenes)).reduce((sum, p) => sum + p.size, 0);
    expect(plan.chunks.reduce((sum, c) => sum + c.bytes!, 0)).toBe(sizes);
    for (const c of plan.chunks) expect(c.bytes).toBeGreaterThan(0);
    expect(plan.chunks.reduce((s, c) => s + c.duration_us, 0)).toBe(plan.duration_us);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('cut: scene finds ffmpeg\'s scene changes where the source has no keyframe, and cuts at the target where there is none', async () => {
    const scan = await scanPackets(runner, 'ffprobe', scenes, 'run');
    const plan = await planChunks(runner, 'ffmpeg', scenes, scan, 0, 'h264', { seconds: 2.7, cut: 'scene' });
    expect(plan.chunks.map((c) => [c.start_frame, c.cut])).toEqual([[0, 'start'], [55, 'scene'], [129, 'scene'], [194, 'scene'], [247, 'target']]);
    expect(plan.chunks[1]!.score).toBeGreaterThan(0.3);
    // A longer target: the change at 2.3 s is outside the window around 4 s.
    const longer = await planChunks(runner, 'ffmpeg', scenes, scan, 0, 'h264', { seconds: 4, cut: 'scene', min_seconds: 2 });
    expect(longer.chunks.map((c) => [c.start_frame, c.cut])).toEqual([[0, 'start'], [96, 'target'], [194, 'scene']]);
  });

  it('cut: scene with scene_keyframes takes the keyframes x264 put at scene changes without analysing their windows, and analyses the rest', async () => {
    const scan = await scanPackets(runner, 'ffprobe', x264Cuts, 'run');
    expect(scan.streams.get(0)!.keyframes).toEqual([0, 55, 115, 129, 189, 249]);
    const frames: number[] = [];
    const counting = { ...runner, run: (program: string, args: string[], options?: Parameters<typeof runner.run>[2]) => {
      if (program === 'ffmpeg' && args.includes('-frames:v')) frames.push(Number(args[args.indexOf('-frames:v') + 1]));
      return runner.run(program, args, options);
    } } as typeof runner;
    const plan = await planChunks(counting, 'ffmpeg', x264Cuts, scan, 0, 'h264', { seconds: 2.7, cut: 'scene', scene_keyframes: true });
    expect(plan.chunks.map((c) => [c.start_frame, c.cut])).toEqual([[0, 'start'], [55, 'scene_keyframe'], [129, 'scene_keyframe'], [194, 'scene'], [247, 'target']]);
    const analysed = frames.reduce((a, b) => a + b, 0);

    // By default every target is analysed.
    frames.length = 0;
    const all = await planChunks(counting, 'ffmpeg', x264Cuts, scan, 0, 'h264', { seconds: 2.7, cut: 'scene' });
    expect(all.chunks.map((c) => [c.start_frame, c.cut])).toEqual([[0, 'start'], [55, 'scene'], [129, 'scene'], [194, 'scene'], [247, 'target']]);
    expect(all.settings.scene_keyframes).toBe(false);
    expect(analysed).toBeLessThan(frames.reduce((a, b) => a + b, 0) / 2);
  });

  it('cut: scene with scene_keyframes on a source whose encoder marks its scene changes with keyframes: no frame is analysed, the cuts are ffmpeg\'s scene changes all the same', async () => {
    const scan = await scanPackets(runner, 'ffprobe', x264Short, 'run');
    expect(scan.streams.get(0)!.keyframes).toEqual([0, 24, 48, 55, 79, 103, 127, 129, 153, 177, 194, 218, 242]);
    let analyses = 0;
    const counting = { ...runner, run: (program: string, args: string[], options?: Parameters<typeof runner.run>[2]) => {
      if (program === 'ffmpeg' && args.includes('-frames:v')) analyses++;
      return runner.run(program, args, options);
    } } as typeof runner;
    const plan = await planChunks(counting, 'ffmpeg', x264Short, scan, 0, 'h264', { seconds: 2.7, cut: 'scene', scene_keyframes: true });
    expect(plan.chunks.map((c) => [c.start_frame, c.cut])).toEqual([[0, 'start'], [55, 'scene_keyframe'], [129, 'scene_keyframe'], [194, 'scene_keyframe'], [247, 'target']]);
    expect(analyses).toBe(0);
    const analysed = await planChunks(counting, 'ffmpeg', x264Short, scan, 0, 'h264', { seconds: 2.7, cut: 'scene' });
    expect(analysed.chunks.map((c) => [c.start_frame, c.cut])).toEqual([[0, 'start'], [55, 'scene'], [129, 'scene'], [194, 'scene'], [247, 'target']]);
    expect(analyses).toBeGreaterThan(0);
  });

  it('refuses an AVI whose packets carry no pts (B-frames in AVI), saying so rather than "no video frames"', async () => {
    const avi = join(dir, 'b-frames.avi');
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=4', '-c:v', 'libx264', '-bf', '2', '-g', '50', '-pix_fmt', 'yuv420p', avi]);
    const scan = await scanPackets(runner, 'ffprobe', avi, 'validate');
    const error = await planChunks(runner, 'ffmpeg', avi, scan, 0, 'h264', { seconds: 1 }).catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe(`chunking: ${avi} stream 0 has 100 of 100 packets without a timestamp; chunks cannot be cut exactly`);
  });

  it('reports open GOPs (supported) and refuses a variable frame rate, naming the stream', async () => {
    const open = await scanPackets(runner, 'ffprobe', openGop, 'validate');
    expect(open.streams.get(0)!.leadingPictures).toBeGreaterThan(0);
    const plan = await planChunks(runner, 'ffmpeg', openGop, open, 0, 'h264', { seconds: 3, cut: 'keyframe' });
    expect(plan.open_gop).toBe(true);
    expect(plan.chunks.map((c) => c.start_frame)).toEqual([0, 50, 150, 200]);

    const scan = await scanPackets(runner, 'ffprobe', vfr, 'validate');
    const error = await planChunks(runner, 'ffmpeg', vfr, scan, 0, 'h264', { seconds: 1 }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: ErrorCodes.VALIDATION });
    expect((error as Error).message).toMatch(new RegExp(`^chunking: ${vfr} stream 0 has a variable frame rate \\(frame \\d+ is [0-9.]+ ms off the [0-9.]+ fps grid\\); chunked encoding needs a constant frame rate`));
  });
});

describe('parseFramecrcLine', () => {
  it('reads time bases, packets, their key flag and a missing pts; ignores other headers', () => {
    expect(parseFramecrcLine('#tb 3: 1/51200')).toEqual({ kind: 'time_base', stream: 3, timeBase: [1, 51200] });
    expect(parseFramecrcLine('#codec_id 0: h264')).toBeUndefined();
    expect(parseFramecrcLine('0,     126000,     133507,     3753,     3428, 0x87e69827, S=1,        1')).toEqual({ kind: 'packet', stream: 0, pts: 133507, key: true });
    expect(parseFramecrcLine('2,       -944,        336,      640,    33670, 0x64c2537d, F=0x0')).toEqual({ kind: 'packet', stream: 2, pts: 336, key: false });
    expect(parseFramecrcLine('1, 10, 20, 1, 5, 0x1, F=0x5')).toEqual({ kind: 'packet', stream: 1, pts: 20, key: true });
    expect(parseFramecrcLine('0, 10, -9223372036854775808, 1, 5, 0x1')).toEqual({ kind: 'packet', stream: 0, key: true });
    expect(parseFramecrcLine('')).toBeUndefined();
  });
});

