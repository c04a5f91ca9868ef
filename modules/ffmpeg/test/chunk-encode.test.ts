import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@sisyphus/core';
import type { FfmpegData } from '../src/ffmpeg-schema.js';
import type { Chunking } from '../src/chunking/chunking-schema.js';
import { chunkFileName } from '../src/chunking/chunk-encode.js';
import { verifyJoin } from '../src/chunking/chunk-verify.js';
import { cleanStarts } from '../src/chunking/clean-starts.js';
import { scanPackets } from '../src/chunking/packet-scan.js';
import { encodeChunked, encodeWhole, runner, type ChunkOrder } from './chunk-driver.js';
import { frameHashes, makeOpenGop, makeScenes, packets, ssim, videoStreamHash } from './chunk-media.js';

let dir = '';
/** 11 s, scene changes at frames 55, 129, 194; the video starts 21 ms after the audio (AAC priming). */
let scenes = '';
let openGop = '';
/** The same scenes in MPEG-TS: no index (seeking is a timestamp search), timestamps from 1.4 s. */
let ts = '';
/** The same scenes with the video starting 0.5 s after the audio. */
let late = '';
/** The same scenes, x264 intra refresh: its recovery points are flagged keyframes, but decoding from one drops the frames until the picture is whole. */
let intraRefresh = '';
/** The same scenes in HEVC with open GOPs (x265: CRA keyframes whose leading pictures refer to the GOP before), in Matroska. */
let hevc = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chunk-encode-'));
  scenes = join(dir, 'scenes.mkv');
  openGop = join(dir, 'open-gop.mkv');
  late = join(dir, 'late.mkv');
  ts = join(dir, 'scenes.ts');
  intraRefresh = join(dir, 'intra-refresh.mkv');
  hevc = join(dir, 'hevc-open-gop.mkv');
  await makeScenes(scenes);
  await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', scenes, '-map', '0:v', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=48:min-keyint=48:scenecut=0:open-gop=1:bframes=3:log-level=error', hevc]);
  await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', scenes, '-map', '0:v', '-c:v', 'libx264', '-preset', 'veryfast', '-x264-params', 'intra-refresh=1:keyint=25:bframes=0', '-f', 'mpegts', `${intraRefresh}.ts`]);
  await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', `${intraRefresh}.ts`, '-c', 'copy', intraRefresh]);
  await makeOpenGop(scenes, openGop);
  await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', scenes, '-map', '0', '-c', 'copy', ts]);
  await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-itsoffset', '0.5', '-i', scenes, '-i', scenes, '-map', '0:v', '-map', '1:a', '-c', 'copy', late]);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** A fresh output path and chunk folder. */
function target(ext = 'mkv') {
  n++;
  return { out: join(dir, `out-${n}.${ext}`), folder: join(dir, `.sisyphus-chunks-${n}`) };
}

const task = (source: string, video: Record<string, string | number>, chunking: Chunking, out: string): FfmpegData & { chunking: Chunking } => ({
  sources: [source],
  source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a' }],
  output_maps: [{ specifier: 'v', stream: 0, options: video }, { specifier: 'a', options: { codec: 'aac', b: '96k' } }],
  output_file: out,
  chunking,
});

const lossless = { codec: 'libx264', preset: 'ultrafast', qp: 0 };
const x264 = { codec: 'libx264', preset: 'medium', crf: 23 };

describe('a chunked encode, driven from the building blocks', () => {
  it.each(['mkv', 'mp4'])('is frame-exact: losslessly encoded chunks decode to the source\'s very frames (%s)', async (ext) => {
    const { out, folder } = target(ext);
    const { plan, chunkArgv, joinArgv } = await encodeChunked(task(scenes, lossless, { seconds: 2.7 }, out), out, folder);
    expect(plan.chunks.map((c) => c.start_frame)).toEqual([0, 55, 129, 194, 247]);
    expect(await frameHashes(out)).toEqual(await frameHashes(scenes));
    // Each chunk: source timestamps, exactly from its first frame, only the video, exact frame count, fixed threads, into a NUT file.
    // Chunks 1 and 2 start at keyframes x264 put at the scene changes, IDRs: each decodes from there (in Matroska the seek
    // aims 3/23 s after it, as ffmpeg aims that much before); chunk 3 starts at no keyframe and decodes from the one before.
    expect(plan.chunks.map((c) => c.clean_start ?? false)).toEqual([true, true, true, false, false]);
    expect(chunkArgv.map((argv) => argv.slice(2, argv.indexOf('-i')))).toEqual([
      ['-copyts'],
      ['-copyts', '-noaccurate_seek', '-ss', '2.445435'],
      ['-copyts', '-noaccurate_seek', '-ss', '5.531435'],
      ['-copyts', '-noaccurate_seek', '-ss', '8.034435'],
      ['-copyts', '-noaccurate_seek', '-ss', '8.034435'],
    ]);
    expect(chunkArgv[2]!.slice(1)).toEqual([
      '-y', '-copyts', '-noaccurate_seek', '-ss', '5.531435', '-i', scenes, '-map', '0:0',
      '-codec:v:0', 'libx264', '-preset:v:0', 'ultrafast', '-qp:v:0', '0',
      '-ss', '5.400999', '-output_ts_offset', '15.400999',
      '-frames:v:0', '65', '-threads:v:0', '1', join(folder, chunkFileName(2)),
    ]);
    // The join: the source first (its audio encoded once, with the task's options), the chunks copied, back at the video's place.
    expect(joinArgv).toEqual(['-y', '-i', scenes, '-f', 'concat', '-safe', '1', '-auto_convert', '0', '-itsoffset', '0.021000', '-i', join(folder, 'chunks.ffconcat'), '-map', '1:0', '-map', '0:1', '-codec:a', 'aac', '-b:a', '96k', '-codec:0', 'copy', out]);
  }, 60_000);

  it('is frame-exact on an open-GOP source cut at its open keyframes (each chunk decodes from the GOP before)', async () => {
    const { out, folder } = target();
    const { plan } = await encodeChunked(task(openGop, lossless, { seconds: 3, cut: 'keyframe' }, out), out, folder);
    expect(plan.open_gop).toBe(true);
    expect(plan.chunks.map((c) => c.start_frame)).toEqual([0, 50, 150, 200]);
    expect(await frameHashes(out)).toEqual(await frameHashes(openGop));
  }, 60_000);

  it('is frame-exact on an intra-refresh source cut at its flagged recovery points (a flagged keyframe is no clean start)', async () => {
    const { out, folder } = target();
    const { plan } = await encodeChunked({ ...task(intraRefresh, lossless, { seconds: 2, cut: 'keyframe' }, out), source_maps: [{ source: 0, specifier: 'v' }], output_maps: [{ specifier: 'v', stream: 0, options: lossless }] }, out, folder);
    expect(plan.chunks.length).toBeGreaterThan(3);
    expect(plan.chunks.slice(1).every((c) => c.cut === 'keyframe')).toBe(true);
    expect(await frameHashes(out)).toEqual(await frameHashes(intraRefresh));
  }, 60_000);

  it('is frame-exact on an HEVC open-GOP source cut at its CRA keyframes, each chunk decoding from its own first frame', async () => {
    const { out, folder } = target();
    const { plan, chunkArgv } = await encodeChunked({ ...task(hevc, lossless, { seconds: 2, cut: 'keyframe' }, out), source_maps: [{ source: 0, specifier: 'v' }], output_maps: [{ specifier: 'v', stream: 0, options: lossless }] }, out, folder);
    expect(plan.open_gop).toBe(true);
    expect(plan.chunks.length).toBeGreaterThan(3);
    expect(plan.chunks.every((c) => c.clean_start)).toBe(true);
    // Each chunk's seek lands on its own first frame: 3/23 s (+1 µs) after it in Matroska.
    for (const [i, c] of plan.chunks.entries()) {
      if (i > 0) expect(Number(chunkArgv[i]![chunkArgv[i]!.indexOf('-i') - 1])).toBeCloseTo(c.start_pts_time - plan.start_us / 1e6 + 0.130435, 6);
    }
    expect(await frameHashes(out)).toEqual(await frameHashes(hevc));
  }, 90_000);

  it('is frame-exact with chunks of a few frames (a NUT file that short has no start time of its own; the list gives it)', async () => {
    const few = join(dir, 'fps5.mkv');
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=5:duration=6', '-c:v', 'libx264', '-g', '5', '-pix_fmt', 'yuv420p', few]);
    const { out, folder } = target();
    const { plan } = await encodeChunked({ ...task(few, lossless, { seconds: 1, cut: 'keyframe' }, out), source_maps: [{ source: 0, specifier: 'v' }], output_maps: [{ specifier: 'v', stream: 0, options: lossless }] }, out, folder);
    expect(plan.chunks.length).toBe(6);
    expect(plan.chunks.every((c) => c.frames === 5)).toBe(true);
    expect(await frameHashes(out)).toEqual(await frameHashes(few));
  }, 60_000);

  it('seeks by the first video stream\'s keyframes when another video stream comes first: no margin past the chunked stream\'s keyframe', async () => {
    const intra = join(dir, 'intra.mkv');
    const two = join(dir, 'two-video.mkv');
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', scenes, '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1', intra]);
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', intra, '-i', scenes, '-map', '0:v', '-map', '1:v', '-c', 'copy', two]);
    const { out, folder } = target();
    const data = { ...task(two, lossless, { seconds: 2.7 }, out), source_maps: [{ source: 0, stream: 1 }], output_maps: [{ specifier: 'v', stream: 0, options: lossless }] };
    const { plan } = await encodeChunked(data, out, folder);
    expect(plan.stream).toBe(1);
    expect(plan.chunks.length).toBeGreaterThan(3);
    const ref = join(dir, 'two-video-ref.nut');
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', two, '-map', '0:1', '-c', 'copy', ref]);
    expect(await frameHashes(out)).toEqual(await frameHashes(ref));
  }, 60_000);

  it.each(['scene', 'keyframe'] as const)('is frame-exact from an MPEG-TS source, where seeking is a timestamp search (cut: %s)', async (cut) => {
    const { out, folder } = target();
    await encodeChunked(task(ts, lossless, { seconds: 2, cut }, out), out, folder);
    expect(await frameHashes(out)).toEqual(await frameHashes(ts));
  }, 60_000);

  it('keeps the video where it was on the timeline (0.5 s after the audio here) and the audio ending with it', async () => {
    const { out, folder } = target();
    await encodeChunked(task(late, x264, { seconds: 4 }, out), out, folder);
    const whole = join(dir, 'late-whole.mkv');
    await encodeWhole(task(late, x264, { seconds: 4 }, whole), whole);
    const first = async (file: string, stream: number) => Math.min(...(await packets(file, stream)).map((p) => p.pts));
    expect(Math.abs((await first(out, 0)) - (await first(whole, 0)))).toBeLessThanOrEqual(42);
    expect(await first(out, 0)).toBeGreaterThanOrEqual(500);
    expect(await first(out, 1)).toBe(await first(whole, 1));
  }, 60_000);

  it('gives a byte-identical video stream whatever order or concurrency the chunks are encoded in', async () => {
    const hashes: string[] = [];
    const timestamps: string[] = [];
    for (const order of ['forward', 'reverse', { parallel: 2 }] as ChunkOrder[]) {
      const { out, folder } = target();
      await encodeChunked(task(scenes, x264, { seconds: 2.7 }, out), out, folder, { order });
      hashes.push(await videoStreamHash(out));
      timestamps.push(JSON.stringify(await packets(out)));
    }
    expect(new Set(hashes).size).toBe(1);
    expect(new Set(timestamps).size).toBe(1);
  }, 120_000);

  it('matches the unchunked encode at the same settings: SSIM within 0.002, size within 3 %, same frame count', async () => {
    const { out, folder } = target();
    await encodeChunked(task(scenes, { ...x264, threads: 1 }, { seconds: 2.7 }, out), out, folder);
    const whole = join(dir, 'whole.mkv');
    await encodeWhole(task(scenes, { ...x264, threads: 1 }, { seconds: 2.7 }, whole), whole);
    const [chunked, unchunked] = [await ssim(out, scenes), await ssim(whole, scenes)];
    expect(Math.abs(chunked - unchunked)).toBeLessThanOrEqual(0.002);
    const [a, b] = [(await stat(out)).size, (await stat(whole)).size];
    expect(Math.abs(a / b - 1)).toBeLessThanOrEqual(0.03);
    expect((await packets(out)).length).toBe((await packets(whole)).length);
  }, 60_000);

  it('refuses to join a chunk with the wrong frame count, naming it', async () => {
    const { out, folder } = target();
    const error = await encodeChunked(task(scenes, lossless, { seconds: 2.7 }, out), out, folder, {
      tamper: async (plan) => {
        const chunk = plan.chunks[2]!;
        await runner.run('ffmpeg', ['-v', 'error', '-y', '-copyts', '-i', scenes, '-map', '0:0', '-ss', chunk.seek.output!, '-output_ts_offset', chunk.seek.offset, '-frames:v', String(chunk.frames - 1), '-c:v', 'libx264', '-preset', 'ultrafast', join(folder, chunkFileName(2))]);
      },
    }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: ErrorCodes.OUTPUT_UNVERIFIED, message: 'chunking: chunk 2 (frames 129-193) holds 64 frames, not 65 (chunk-00002.nut)' });
  }, 60_000);

  it.each([
    ['gone', async (file: string) => rm(file)],
    ['audio only', async (file: string) => runner.run('ffmpeg', ['-v', 'error', '-y', '-i', scenes, '-map', '0:a', '-c', 'copy', '-f', 'nut', file])],
    ['not media', async (file: string) => writeFile(file, 'not a chunk')],
    // Read as NUT only: a playlist put in a chunk's place does not make ffmpeg or ffprobe open the file it names.
    ['a playlist naming another file', async (file: string) => writeFile(file, `#EXTM3U\n#EXT-X-TARGETDURATION:11\n#EXTINF:11,\n${scenes}\n#EXT-X-ENDLIST\n`)],
  ] as const)('refuses to join when a chunk file is %s, naming it (each file then read alone)', async (_, spoil) => {
    const { out, folder } = target();
    const error = await encodeChunked(task(scenes, lossless, { seconds: 2.7 }, out), out, folder, {
      tamper: async () => spoil(join(folder, chunkFileName(3))),
    }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: ErrorCodes.OUTPUT_UNVERIFIED });
    expect(error.message).toMatch(/^chunking: chunk 3 \(frames 194-246\) (cannot be read \(chunk-00003\.nut\)|holds 0 frames, not 53 \(chunk-00003\.nut\))/);
  }, 60_000);

  it('refuses to join a chunk whose first packet is no keyframe (packets before a keyframe are counted, not dropped), naming it', async () => {
    const { out, folder } = target();
    const error = await encodeChunked(task(scenes, lossless, { seconds: 2.7 }, out), out, folder, {
      tamper: async (plan) => {
        // The source's own packets from chunk 3's first frame (no keyframe there): the right count, the right start.
        const chunk = plan.chunks[3]!;
        await runner.run('ffmpeg', ['-v', 'error', '-y', '-copyts', '-i', scenes, '-map', '0:0', '-c', 'copy', '-copyinkf', '-ss', chunk.seek.output!, '-output_ts_offset', chunk.seek.offset, '-frames:v', String(chunk.frames), '-f', 'nut', join(folder, chunkFileName(3))]);
      },
    }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: ErrorCodes.OUTPUT_UNVERIFIED });
    expect(error.message).toMatch(/^chunking: chunk 3 \(frames 194-246\) (does not start with a keyframe|starts at)/);
  }, 60_000);

  it('refuses to join a chunk that starts at another frame than planned, naming it', async () => {
    const { out, folder } = target();
    const error = await encodeChunked(task(scenes, lossless, { seconds: 2.7 }, out), out, folder, {
      tamper: async (plan) => {
        // Chunk 2 again, one frame late: the right count, the wrong frames.
        const chunk = plan.chunks[2]!;
        const seek = (Number(chunk.seek.output) + 0.0417).toFixed(6);
        await runner.run('ffmpeg', ['-v', 'error', '-y', '-copyts', '-i', scenes, '-map', '0:0', '-ss', seek, '-output_ts_offset', (Number(seek) + 10).toFixed(6), '-frames:v', String(chunk.frames), '-c:v', 'libx264', '-preset', 'ultrafast', join(folder, chunkFileName(2))]);
      },
    }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: ErrorCodes.OUTPUT_UNVERIFIED, message: 'chunking: chunk 2 (frames 129-193) starts at 5.443 s of the source, not at its first frame\'s 5.401 s (chunk-00002.nut)' });
  }, 60_000);

  it('verifies the joined file: frame count, and audio ending where it ended relative to the video', async () => {
    const { out, folder } = target();
    const { plan } = await encodeChunked(task(scenes, lossless, { seconds: 2.7 }, out), out, folder);
    const short = join(dir, 'short.mkv');
    await execa('ffmpeg', ['-v', 'error', '-y', '-i', out, '-map', '0', '-c', 'copy', '-frames:v', '263', short]);
    await expect(verifyJoin(runner, 'ffprobe', short, plan, { video: 0, ends: [] })).rejects.toMatchObject({
      code: ErrorCodes.OUTPUT_UNVERIFIED,
      message: 'output_file: the joined file holds 263 video frames but the source has 264; not promoted',
    });
    const cutAudio = join(dir, 'cut-audio.mkv');
    await execa('ffmpeg', ['-v', 'error', '-y', '-i', out, '-map', '0', '-c:v', 'copy', '-c:a', 'aac', '-af', 'atrim=0:9', cutAudio]);
    await expect(verifyJoin(runner, 'ffprobe', cutAudio, plan, { video: 0, ends: [{ index: 1, deltaUs: 0 }] })).rejects.toMatchObject({
      message: expect.stringMatching(/^output_file: stream 1 \(audio\) of the joined file ends 20\d\d\.\d ms before the video, in the source with the video: more than one frame apart; not promoted$/),
    });
  }, 60_000);
});

describe('cleanStarts: the keyframes a decoder can start from', () => {
  const keyframesOf = async (file: string) => {
    const scan = await scanPackets(runner, 'ffprobe', file, 'run');
    const video = scan.streams.get(0)!;
    return { video, found: [...(await cleanStarts(runner, 'ffmpeg', { file, stream: 0, codec: (await codecOf(file)), pts: video.pts!, timeBase: video.timeBase, keyframes: video.keyframes! }))].sort((a, b) => a - b) };
  };
  // (MPEG-TS lists its streams again under its program: the first line is the stream's.)
  const codecOf = async (file: string) => (await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', file])).stdout.trim().split('\n')[0];

  it('finds every H.264 IDR keyframe, in Matroska, MP4 and MPEG-TS alike (matched by pts)', async () => {
    const mkv = await keyframesOf(scenes);
    expect(mkv.found).toEqual(mkv.video.keyframes);
    expect(mkv.found.length).toBeGreaterThan(3);
    const mp4 = join(dir, 'scenes-remux.mp4');
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', scenes, '-map', '0', '-c', 'copy', mp4]);
    expect((await keyframesOf(mp4)).found).toEqual(mkv.found);
    expect((await keyframesOf(ts)).found).toEqual(mkv.found);
  }, 60_000);

  it('takes neither an open GOP\'s I-frames nor intra-refresh recovery points (flagged keyframes, no clean start)', async () => {
    const open = await keyframesOf(openGop);
    expect(open.video.keyframes!.length).toBeGreaterThan(2);
    expect(open.found).toEqual([0]);
    // x264 still puts IDRs at the scene changes (55, 129, 194); its recovery points are flagged but not clean.
    const refresh = await keyframesOf(intraRefresh);
    expect(refresh.video.keyframes!.length).toBeGreaterThan(6);
    expect(refresh.found).toEqual([0, 55, 129, 194]);
  }, 60_000);

  it('finds HEVC IRAP keyframes (CRA here); none for a codec it does not know, nor when ffmpeg fails', async () => {
    const h = await keyframesOf(hevc);
    expect(h.found).toEqual(h.video.keyframes);
    const mpeg4 = join(dir, 'scenes-mpeg4.mkv');
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', scenes, '-map', '0:v', '-c:v', 'mpeg4', '-g', '48', mpeg4]);
    expect((await keyframesOf(mpeg4)).found).toEqual([]);
    const scan = await scanPackets(runner, 'ffprobe', scenes, 'run');
    const video = scan.streams.get(0)!;
    const missing = await cleanStarts(runner, 'ffmpeg', { file: join(dir, 'gone.mkv'), stream: 0, codec: 'h264', pts: video.pts!, timeBase: video.timeBase, keyframes: video.keyframes! });
    expect(missing.size).toBe(0);
  }, 60_000);
});
