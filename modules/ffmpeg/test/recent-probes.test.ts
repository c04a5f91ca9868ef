import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, copyFile, mkdtemp, readFile, rename, rm, symlink, utimes, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryDataStore } from '@sisyphus/core';
import { runTask } from '@sisyphus/core/testing';
import { ffmpegModule } from '@sisyphus/module-ffmpeg';
import { RecentProbes, probeKey } from '../src/recent-probes.js';
import type { ProbeResult } from '../src/probe.js';
// @ts-expect-error plain JS helper script
import { makeSample } from '../../../scripts/make-sample.mjs';

let dir = '';
let sample = '';
let ffprobe = '';
let calls = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-recent-probes-'));
  sample = join(dir, 'src.mkv');
  await makeSample(sample, { duration: 1, size: '64x48' });
  // An ffprobe that notes each run (its arguments) and runs the real one.
  calls = join(dir, 'calls.log');
  ffprobe = join(dir, 'ffprobe');
  await writeFile(ffprobe, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec ffprobe "$@"\n`);
  await chmod(ffprobe, 0o755);
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const result = (codec: string): ProbeResult => ({ streams: [{ index: 0, codec_type: 'video', codec_name: codec }], format: {} });

describe('RecentProbes', () => {
  it('keeps the most recently used answers, copied in and out', () => {
    const recent = new RecentProbes(2);
    const a = result('h264');
    recent.set('a', a);
    recent.set('b', result('hevc'));
    a.streams[0]!.codec_name = 'changed by its task';
    const got = recent.get('a')!;
    expect(got.streams[0]!.codec_name).toBe('h264');
    got.streams[0]!.codec_name = 'changed again';
    expect(recent.get('a')!.streams[0]!.codec_name).toBe('h264');
    recent.set('c', result('av1')); // b is the least recently used
    expect([recent.get('b'), recent.size]).toEqual([undefined, 2]);
    expect(recent.get('c')!.streams[0]!.codec_name).toBe('av1');
  });

  it('keys only regular files, by an identity no one can set back: a symlink is never remembered, a file moved away and back is a new key', async () => {
    const file = join(dir, 'key.mkv');
    await copyFile(sample, file);
    const key = await probeKey('ffprobe', file);
    expect(key).toMatch(/^ffprobe\|.*key\.mkv\|\d+\|\d+\|\d+\|/);
    expect(await probeKey('ffprobe', file)).toBe(key);
    expect(await probeKey('/other/ffprobe', file)).not.toBe(key);
    // A link's target can change under the same identity (the swap a race would need).
    const link = join(dir, 'link.mkv');
    await symlink(file, link);
    expect(await probeKey('ffprobe', link)).toBeUndefined();
    expect(await probeKey('ffprobe', dir)).toBeUndefined();
    expect(await probeKey('ffprobe', join(dir, 'gone.mkv'))).toBeUndefined();
    // Moved away and back, mtime untouched: the same inode, a new ctime.
    await new Promise((r) => setTimeout(r, 20));
    await rename(file, `${file}.away`);
    await rename(`${file}.away`, file);
    expect(await probeKey('ffprobe', file)).not.toBe(key);
  });
});

describe('an ffmpeg task reuses a recent probe of the very same file only', () => {
  const probesOfSample = async () => (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('-show_streams') && l.endsWith(sample)).length;
  const encode = (out: string) => ({
    sources: [sample],
    source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
    output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast' } }],
    output_file: join(dir, out),
    overwrite: true,
  });
  const dataStore = createMemoryDataStore({});

  it('a second task on the unchanged source does not probe it again; once the file changed (even with its old mtime put back), it does', async () => {
    const first = await runTask(ffmpegModule, encode('one.mkv'), { dataStore, settings: { ffprobe }, allowedRoots: [dir] });
    expect(first.result.completed).toBe(true);
    expect(await probesOfSample()).toBe(1);
    const second = await runTask(ffmpegModule, encode('two.mkv'), { dataStore, settings: { ffprobe }, allowedRoots: [dir] });
    expect(second.result.completed).toBe(true);
    expect(await probesOfSample()).toBe(1);

    // Rewritten in place with other content, the same size and its old times: ctime still tells.
    const before = await stat(sample);
    await makeSample(join(dir, 'other.mkv'), { duration: 1, size: '96x64' });
    const other = await readFile(join(dir, 'other.mkv'));
    await writeFile(sample, other);
    await utimes(sample, before.atime, before.mtime);
    const third = await runTask(ffmpegModule, encode('three.mkv'), { dataStore, settings: { ffprobe }, allowedRoots: [dir] });
    expect(third.result.completed).toBe(true);
    expect(await probesOfSample()).toBe(2);
  }, 60_000);
});
