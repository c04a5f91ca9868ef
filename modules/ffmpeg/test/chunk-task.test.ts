import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, createEngine, createMemoryDataStore } from '@sisyphus/core';
import ffmpegPlugin from '@sisyphus/module-ffmpeg';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { execa } from 'execa';
import { frameHashes, makeScenes, makeVfr, packets } from './chunk-media.js';

let dir = '';
let scenes = '';
let vfr = '';
let editList = '';
const dataStore = createMemoryDataStore({ ffmpeg: { lossless: { options: { codec: 'libx264', preset: 'ultrafast', qp: 0 } } } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chunk-task-'));
  scenes = join(dir, 'scenes.mkv');
  vfr = join(dir, 'vfr.mkv');
  await makeScenes(scenes);
  await makeVfr(vfr);
  // A cut made by stream copy into MP4: its edit list hides the frames before the cut (flagged to be discarded).
  editList = join(dir, 'edit-list.mp4');
  await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-ss', '1.3', '-i', scenes, '-map', '0:v', '-c', 'copy', editList]);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function outDir(): Promise<string> {
  return mkdtemp(join(dir, 'out-'));
}

const ffmpegTask = (out: string, patch: Record<string, unknown> = {}) => ({
  module: 'ffmpeg',
  data: {
    sources: [scenes],
    source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a' }],
    output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }, { specifier: 'a', options: { codec: 'aac', b: '96k' } }],
    output_file: join(out, 'film.mkv'),
    chunking: { seconds: 2.7, cut: 'scene' },
    ...patch,
  },
});

describe('ffmpeg task with chunking, run by a local engine (children inline)', () => {
  it('plans, encodes every chunk as a child job, joins, verifies, promotes, and removes the chunk folder', async () => {
    const out = await outDir();
    const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore });
    const logs: string[] = [];
    engine.on('log', (e) => logs.push(e.message));
    const result = await engine.run({ job_title: 'film', tasks: [ffmpegTask(out)] });
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(out)).toEqual(['film.mkv']);
    expect(await frameHashes(join(out, 'film.mkv'))).toEqual(await frameHashes(scenes));
    expect((await packets(join(out, 'film.mkv'), 1)).length).toBeGreaterThan(500);
    expect(logs.some((l) => /^chunked encode: 264 frames in 5 chunks \(17-74 frames, cut at scene changes; 3 start at a clean keyframe\)/.test(l)), logs.join('\n')).toBe(true);
  }, 120_000);

  it('an interlaced source (x264 MBAFF) in Matroska and MPEG-TS: every frame exact, cut at keyframes or scene changes', async () => {
    for (const container of ['mkv', 'ts']) {
      const interlaced = join(dir, `interlaced.${container}`);
      await makeScenes(interlaced, { extra: ['-flags', '+ilme+ildct', '-x264opts', 'tff=1'] });
      // Coded interlaced (the decoder says so of each frame; Matroska's stream header need not).
      const { stdout } = await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', '%+#10', '-show_entries', 'frame=interlaced_frame', '-of', 'csv=p=0', interlaced]);
      expect(stdout.split('\n').map((l) => l.replace(/,$/, '').trim()).filter(Boolean)).toEqual(Array(10).fill('1'));
      for (const cut of ['keyframe', 'scene']) {
        const out = await outDir();
        const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore });
        const result = await engine.run({ job_title: 'interlaced', tasks: [ffmpegTask(out, { sources: [interlaced], chunking: { seconds: 2.7, cut } })] });
        expect(result.completed, `${container} ${cut}: ${result.message}`).toBe(true);
        expect(await frameHashes(join(out, 'film.mkv')), `${container} ${cut}`).toEqual(await frameHashes(interlaced));
      }
    }
  }, 120_000);

  it('refuses at validate what cannot be chunked, before anything runs', async () => {
    const out = await outDir();
    const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore });
    const twoPass = await engine.run({ job_title: 'two-pass', tasks: [ffmpegTask(out, { output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', crf: 20, pass: 1 } }] })] });
    expect(twoPass).toMatchObject({ completed: false, code: ErrorCodes.VALIDATION, phase: 'validate' });
    expect(twoPass.message).toBe('output_maps[0].options.pass: two-pass encoding cannot be chunked: each chunk would make its own first pass');
    const variable = await engine.run({ job_title: 'vfr', tasks: [ffmpegTask(out, { sources: [vfr], source_maps: [{ source: 0, specifier: 'v' }], output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }] })] });
    expect(variable).toMatchObject({ completed: false, code: ErrorCodes.VALIDATION, phase: 'validate' });
    expect(variable.message).toMatch(/^chunking: sources\[0\] stream 0 has a variable frame rate \(frame \d+ is [0-9.]+ ms off the [0-9.]+ fps grid\); chunked encoding needs a constant frame rate/);
    const hidden = await engine.run({ job_title: 'edit list', tasks: [ffmpegTask(out, { sources: [editList], source_maps: [{ source: 0, specifier: 'v' }], output_maps: [{ specifier: 'v', stream: 0, option_set: 'lossless' }] })] });
    expect(hidden).toMatchObject({ completed: false, code: ErrorCodes.VALIDATION, phase: 'validate' });
    expect(hidden.message).toMatch(/^chunking: sources\[0\] stream 0 has \d+ frames its container hides \(an edit list, as a cut made by stream copy leaves\); chunks cannot be cut exactly/);
    // Outputs that hold no timeline to verify (found by a review: they failed only at the join, after every chunk).
    for (const [name, why] of [['film.avi', 'AVI keeps no presentation times'], ['film.h264', 'a raw h264 stream keeps no timestamps'], ['poster.png', 'is a single image (png)']]) {
      const refused = await engine.run({ job_title: name, tasks: [ffmpegTask(out, { output_file: join(out, name!) })] });
      expect(refused).toMatchObject({ completed: false, code: ErrorCodes.VALIDATION, phase: 'validate' });
      expect(refused.message).toContain(`output_file: ${name}`);
      expect(refused.message).toContain(why);
    }
    const schema = await engine.run({ job_title: 'bad', tasks: [ffmpegTask(out, { chunking: { seconds: 10, cut: 'gop' } })] });
    expect(schema).toMatchObject({ code: ErrorCodes.VALIDATION });
    expect(schema.message).toMatch(/^chunking\.cut must be one of "scene", "keyframe"|^chunking\.cut/);
    expect(await readdir(out)).toEqual([]);
  }, 60_000);

  it('a chunk that fails fails the job with its reason, and the cleanup job removes the chunk folder', async () => {
    const out = await outDir();
    const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore });
    const result = await engine.run({ job_title: 'broken', tasks: [ffmpegTask(out, { output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'warp-speed' } }] })] });
    expect(result.completed).toBe(false);
    // The first chunk handed out (the costliest: see handOutOrder) fails.
    expect(result.message).toMatch(/^child \S+-1-1 \(broken \(chunk \d of 5\)\) failed: ffmpeg exited with code \d+: .*(preset|warp-speed)/i);
    expect(await readdir(out)).toEqual([]);
  }, 60_000);

  // The chunk folder then holds the chunks already encoded: the finally job's `cleanup` task removes it with its
  // contents (`delete_folders`, see chunkCleanupJob).
  it('a later chunk that fails: the chunks already written are removed too', async () => {
    const out = await outDir();
    // ffmpeg, except for the third chunk it is asked to encode (a fake binary for a failure the real one cannot be made to take).
    const fake = join(dir, 'ffmpeg-failing-chunk-3');
    const counter = join(dir, 'chunks-encoded');
    await writeFile(fake, `#!/bin/sh\ncase "$*" in *chunk-0*.nut*) n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '${counter}'; if [ $n -eq 3 ]; then echo "fake failure" >&2; exit 1; fi;; esac\nexec ffmpeg "$@"\n`);
    await chmod(fake, 0o755);
    const engine = createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore, settings: { ffmpeg: { ffmpeg: fake } } });
    const result = await engine.run({ job_title: 'late', tasks: [ffmpegTask(out)] });
    expect(result.message).toMatch(/^child \S+-1-3 \(late \(chunk \d of 5\)\) failed: ffmpeg exited with code 1: fake failure/);
    expect(await readdir(out)).toEqual([]);
  }, 60_000);
});
