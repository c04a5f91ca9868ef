/**
 * The chunked encode's answers to a review: a source replaced while the
 * chunks run, time- and frame-dependent filter expressions, too many
 * chunks, chunk folders of different jobs, option sets changed while the
 * chunks run, duration-changing audio filters, messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ErrorCodes, createEngine, createMemoryDataStore, type JobResult } from '@sisyphus/core';
import ffmpegPlugin from '@sisyphus/module-ffmpeg';
import cleanupPlugin from '@sisyphus/module-cleanup';
import type { ResolvedOutputMap } from '../src/build-args.js';
import type { FfmpegData } from '../src/ffmpeg-schema.js';
import type { ProbedStream } from '../src/probe.js';
import { chunkFolder, isChunkFolderOf } from '../src/chunking/chunk-folder.js';
import { asChunkState } from '../src/chunking/chunk-job.js';
import { MAX_CHUNKS, chunkCountBound, refuseVideoStream } from '../src/chunking/chunk-plan.js';
import { refuseUnchunkable } from '../src/chunking/chunk-refusals.js';
import type { Chunking } from '../src/chunking/chunking-schema.js';
import { frameHashes, makeScenes } from './chunk-media.js';

const quiet = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
let dir = '';
let scenes = '';
/** The same length and rate as `scenes`, other pictures (flipped). */
let flipped = '';
/** MPEG-TS whose first frame is at 4.7 s (the muxer's 1.4 s plus an offset of 3.3 s). */
let ts = '';
/** 1100 frames at 1 fps, 16x16, every frame a keyframe: many chunks, quickly. */
let long = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chunk-review-'));
  scenes = join(dir, 'scenes.mkv');
  flipped = join(dir, 'flipped.mkv');
  ts = join(dir, 'late.ts');
  long = join(dir, 'long.mkv');
  await makeScenes(scenes);
  await execa('ffmpeg', [...quiet, '-i', scenes, '-map', '0', '-vf', 'hflip', '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'copy', flipped]);
  await execa('ffmpeg', [...quiet, '-i', scenes, '-map', '0:v', '-c:v', 'libx264', '-preset', 'veryfast', '-output_ts_offset', '3.3', '-f', 'mpegts', ts]);
  await execa('ffmpeg', [...quiet, '-f', 'lavfi', '-i', 'testsrc2=size=16x16:rate=1:duration=1100', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1', '-pix_fmt', 'yuv420p', long]);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const outDir = () => mkdtemp(join(dir, 'out-'));
const sets = { ffmpeg: { lossless: { options: { codec: 'libx264', preset: 'ultrafast', qp: 0 } } as Record<string, unknown> } };

function task(source: string, out: string, patch: Record<string, unknown> = {}) {
  return {
    module: 'ffmpeg',
    data: {
      sources: [source],
      source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a', optional: true }],
      output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }, { specifier: 'a', options: { codec: 'aac', b: '96k' } }],
      output_file: join(out, 'film.mkv'),
      chunking: { seconds: 2.7, cut: 'scene' },
      ...patch,
    },
  };
}

/** Run a job locally (children inline); `onChildEnd(jobId)` runs synchronously when a child job ends, before the next starts. */
async function run(tasks: unknown[], onChildEnd: (jobId: string) => void = () => {}, store = createMemoryDataStore(sets)): Promise<{ result: JobResult; logs: string[] }> {
  const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore: store });
  const logs: string[] = [];
  engine.on('log', (e) => logs.push(e.message));
  engine.on('job:end', (e) => {
    if (/-\d+-\d+$/.test(e.jobId)) onChildEnd(e.jobId);
  });
  const result = await engine.run({ job_title: 'film', tasks: tasks as never });
  return { result, logs };
}

describe('chunked encode: a source replaced while the chunks run', () => {
  it('a chunk refuses a source replaced after the first chunk handed out; the job fails and the chunks are removed', async () => {
    const out = await outDir();
    const source = join(out, 'source.mkv');
    const other = join(out, 'other.mkv');
    await execa('cp', [scenes, source]);
    await execa('cp', [flipped, other]);
    const { result } = await run([task(source, out)], (id) => {
      if (id.endsWith('-1-1')) renameSync(other, source); // mv other.mkv source.mkv
    });
    expect(result.completed).toBe(false);
    expect(result.message).toMatch(/^child \S+-1-2 \(film \(chunk \d of 5\)\) failed: sources\[0\] changed since the chunks of job \S+ were planned \(another file: device\/inode .*\); this chunk is not encoded$/);
    expect((await readdir(out)).sort()).toEqual(['source.mkv']);
  }, 120_000);

  it('the join refuses a source replaced after the last chunk, naming the field', async () => {
    const out = await outDir();
    const source = join(out, 'source.mkv');
    const other = join(out, 'other.mkv');
    await execa('cp', [scenes, source]);
    await execa('cp', [flipped, other]);
    const { result } = await run([task(source, out)], (id) => {
      if (id.endsWith('-1-5')) renameSync(other, source);
    });
    expect(result).toMatchObject({ completed: false, code: ErrorCodes.RUN });
    expect(result.message).toMatch(/^sources\[0\] changed since the chunks were planned \(another file: device\/inode [^)]*\); the chunks cannot be joined/);
    expect((await readdir(out)).sort()).toEqual(['source.mkv']);
  }, 120_000);
});

describe('chunked encode: the plan\'s options', () => {
  it('an option set removed while the chunks run: the join uses the plan\'s options and completes', async () => {
    const out = await outDir();
    const data = structuredClone(sets);
    const { result } = await run([task(scenes, out)], (id) => {
      if (id.endsWith('-1-1')) data.ffmpeg.lossless = { options: { codec: 'libx264', crf: 20, pass: 1 } }; // would be refused now
      if (id.endsWith('-1-3')) delete (data.ffmpeg as Record<string, unknown>).lossless;
    }, createMemoryDataStore(data));
    expect(result.completed, result.message).toBe(true);
    expect(await frameHashes(join(out, 'film.mkv'))).toEqual(await frameHashes(scenes));
  }, 120_000);

  it('one chunk: the log says "1 chunk"', async () => {
    const out = await outDir();
    const { result, logs } = await run([task(scenes, out, { chunking: { seconds: 60 } })]);
    expect(result.completed, result.message).toBe(true);
    expect(logs.some((l) => /^chunked encode: 264 frames in 1 chunk \(264-264 frames/.test(l)), logs.join('\n')).toBe(true);
  }, 120_000);
});

describe('chunked encode: refused at validate, naming the field', () => {
  const validate = async (source: string, patch: Record<string, unknown>) => {
    const out = await outDir();
    const { result } = await run([task(source, out, patch)]);
    expect(result).toMatchObject({ completed: false, code: ErrorCodes.VALIDATION, phase: 'validate' });
    expect(await readdir(out)).toEqual([]);
    return result.message;
  };
  const videoMaps = (options: Record<string, unknown>) => ({ output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', qp: 0, preset: 'ultrafast', ...options } }] });

  it('filter expressions using time or frame number (source starting at 4.7 s)', async () => {
    expect(await validate(ts, videoMaps({ vf: 'hue=H=t' }))).toBe(
      'output_maps[0].options.vf: hue\'s H ("t") uses "t": filter expressions using time or frame number cannot be chunked (each chunk has its own)',
    );
    expect(await validate(ts, videoMaps({ vf: 'crop=iw/2:ih:x=t*10:y=0' }))).toMatch(/^output_maps\[0\]\.options\.vf: crop's x \("t\*10"\) uses "t"/);
    expect(await validate(ts, videoMaps({ vf: 'crop=iw/2:ih:mod(n\\,8):0' }))).toMatch(/^output_maps\[0\]\.options\.vf: crop's argument 3 \("mod\(n,8\)"\) uses "n"/);
  }, 60_000);

  it('filter expressions that keep state from frame to frame: a frame counter in st()/ld(), random()', async () => {
    expect(await validate(scenes, videoMaps({ vf: 'crop=w=80:h=60:x=st(0\\,ld(0)+0.25)' }))).toBe(
      'output_maps[0].options.vf: crop\'s x ("st(0,ld(0)+0.25)") uses st(): filter expressions that keep state from frame to frame (st, ld, random, randomi, root, taylor) cannot be chunked (each chunk starts it again)',
    );
    expect(await validate(scenes, videoMaps({ vf: 'hue=H=random(0)' }))).toMatch(/^output_maps\[0\]\.options\.vf: hue's H \("random\(0\)"\) uses random\(\)/);
    expect(await validate(scenes, videoMaps({ vf: 'hue=s=ld (1)' }))).toMatch(/^output_maps\[0\]\.options\.vf: hue's s \("ld \(1\)"\) uses ld\(\)/);
  }, 60_000);

  it('enc_time_base and audio filters that change the audio\'s length', async () => {
    expect(await validate(scenes, videoMaps({ enc_time_base: '1/1000' }))).toMatch(/^output_maps\[0\]\.options\.enc_time_base: changes the encoder's time base/);
    const audio = (af: string) => ({ output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }, { specifier: 'a', options: { codec: 'aac', af } }] });
    for (const af of ['atempo=2', 'asetpts=PTS*2', 'atrim=end=5', 'apad', 'asetrate=44100', 'aloop=loop=2:size=48000', 'areverse', 'aresample=async=1000']) {
      const filter = af.split('=')[0];
      expect(await validate(scenes, audio(af))).toBe(
        `output_maps[1].options.af: filter ${filter} changes the audio's length or timing; a chunked encode keeps every stream's end where it is in the source (the join checks it), so it cannot be used with chunking`,
      );
    }
  }, 120_000);

  it(`more than ${MAX_CHUNKS} chunks, before anything is written`, async () => {
    expect(await validate(long, { source_maps: [{ source: 0 }], output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }], chunking: { seconds: 2, cut: 'keyframe' } })).toBe(
      `chunking.seconds: up to 550 chunks; at most ${MAX_CHUNKS}: raise chunking.seconds`,
    );
  }, 60_000);
});

describe('chunked encode: the largest plan fits', () => {
  it(`${MAX_CHUNKS} chunks: the waiting result (children and state) is well under 1 MiB`, async () => {
    const out = await outDir();
    const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore: createMemoryDataStore(sets) });
    const job = { job_title: 'long', tasks: [task(long, out, { source_maps: [{ source: 0 }], output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }], chunking: { seconds: 2.2, cut: 'keyframe' } })] };
    const result = await engine.run(job as never, { children: 'defer' });
    expect(result.waiting_children?.children.length, result.message).toBe(MAX_CHUNKS);
    const state = JSON.stringify(result.waiting_children!.state).length;
    const report = JSON.stringify(result).length;
    console.log(`${MAX_CHUNKS} chunks: state ${state} B, waiting result ${report} B`);
    expect(state).toBeLessThan(256 * 1024);
    expect(report).toBeLessThan(640 * 1024);
    await rm(out, { recursive: true, force: true });
  }, 120_000);
});

describe('chunked encode: small parts', () => {
  it('chunk folders of different job ids never meet', () => {
    const token = '0123456789ab';
    const ids = ['rv_1', 'rv~1', 'rv-1', 'rv.1', 'rv/1', 'rv 1', '+7276', `rv.${token}`];
    const names = ids.map((id) => chunkFolder('/out/film.mkv', id, token));
    expect(new Set(names).size).toBe(names.length);
    expect(chunkFolder('/out/film.mkv', 'rv~1', token)).toBe(`/out/.sisyphus-chunks-rv~1.${token}`);
    expect(chunkFolder('/out/film.mkv', 'rv/1', token)).toBe(`/out/.sisyphus-chunks-+${Buffer.from('rv/1').toString('hex')}.${token}`);
    // Each folder is its own job's only: not another id's, not beside another output, not without its token.
    for (const [i, id] of ids.entries()) {
      for (const [j, name] of names.entries()) expect(isChunkFolderOf(name, '/out/film.mkv', id), `${name} of ${id}`).toBe(i === j);
      expect(isChunkFolderOf(names[i]!, '/elsewhere/film.mkv', id)).toBe(false);
    }
    expect(isChunkFolderOf('/out/.sisyphus-chunks-rv_1', '/out/film.mkv', 'rv_1')).toBe(false);
    expect(isChunkFolderOf('/out/.sisyphus-chunks-rv_1.0123456789AB', '/out/film.mkv', 'rv_1')).toBe(false);
  });

  it('a chunk state from the version with one folder per job id (2) is not taken for this one\'s (3)', () => {
    const state = { version: 3, folder: chunkFolder('/out/film.mkv', 'j', '0123456789ab'), plan: { version: 1, chunks: [] }, ends: [], sources: [], maps: [], video: 0 };
    expect(asChunkState(state)).toBe(state);
    expect(asChunkState({ ...state, version: 2, folder: '/out/.sisyphus-chunks-j' })).toBeUndefined();
  });

  it('a 25 fps stream with a 0.5 s gap: the message says which frame is how far off the 25 fps grid', () => {
    const pts = [...Array.from({ length: 51 }, (_, i) => i * 40), ...Array.from({ length: 50 }, (_, i) => 2000 + 500 + i * 40)];
    expect(() => refuseVideoStream({ index: 0, codecType: 'video', timeBase: [1, 1000], packets: pts.length, pts, keyframes: [0], lastDuration: 40 } as never, 'sources[0] stream 0')).toThrow(
      /^chunking: sources\[0\] stream 0 has a variable frame rate \(frame 51 is 460\.0 ms off the 25 fps grid\); chunked encoding needs a constant frame rate/,
    );
  });

  it('counts chunks before cutting: one per target before the end, plus the first', () => {
    expect(chunkCountBound(11, 2.7)).toBe(5);
    expect(chunkCountBound(10.8, 2.7)).toBe(4);
    expect(chunkCountBound(1100, 1)).toBe(1100);
    expect(chunkCountBound(0.5, 60)).toBe(1);
  });

  it('filter arguments: whole words only, file names not looked at; a plain aresample is fine', () => {
    const output: ProbedStream[] = [{ index: 0, codec_type: 'video', codec_name: 'h264' }, { index: 1, codec_type: 'audio', codec_name: 'aac' }];
    const check = (vf: string, af = 'aresample=48000') =>
      refuseUnchunkable({
        data: { sources: ['/in.mkv'], source_maps: [{ source: 0 }], output_file: '/out.mkv', chunking: { seconds: 60 } } as FfmpegData & { chunking: Chunking },
        maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', crf: 20, vf } }, { specifier: 'a', options: { codec: 'aac', af } }] as ResolvedOutputMap[],
        kind: 'file',
        output,
        outputSources: [0, 0],
      });
    expect(check('scale=1280:-2:flags=lanczos,pad=1280:720:(ow-iw)/2:(oh-ih)/2:color=teal,lut3d=file=/luts/t.cube')?.video).toBe(0);
    expect(() => check('hue=h=pts*5')).toThrow(/uses "pts"/);
    expect(() => check('null', 'aresample=48000:first_pts=0')).toThrow(/filter aresample changes the audio's length/);
  });
});
