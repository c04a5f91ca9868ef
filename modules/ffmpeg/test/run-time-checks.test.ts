import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, createEngine, createMemoryDataStore } from '@sisyphus/core';
import { runTask } from '@sisyphus/core/testing';
import ffmpegPlugin, { ffmpegModule } from '@sisyphus/module-ffmpeg';
import cleanupPlugin from '@sisyphus/module-cleanup';
// @ts-expect-error plain JS helper script
import { makeSample } from '../../../scripts/make-sample.mjs';

// What an attacker who controls job data tried against the first version of
// the confinement: each case must be refused, and no source may change.
let dir = '';
let root = '';
let outside = '';
let sample = '';
const dataStore = createMemoryDataStore({});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-ffmpeg-runtime-'));
  root = join(dir, 'media');
  outside = join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  sample = join(root, 'src.mkv');
  await makeSample(sample, { duration: 1, size: '64x48' });
  await makeSample(join(outside, 'secret.mkv'), { duration: 1, size: '96x64' });
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const encode = (patch: Record<string, unknown> = {}) => ({
  sources: [sample],
  source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
  output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast' } }],
  overwrite: true,
  ...patch,
});
const engineWith = () => createEngine({ plugins: [ffmpegPlugin, cleanupPlugin], dataStore, allowedRoots: [root], cwd: root });

describe('paths are checked again right before use', () => {
  it('a folder swapped for a symlink to outside between validate and run: the output is refused at run, nothing is written outside', async () => {
    const out = join(root, 'swap-out');
    await mkdir(out);
    const engine = engineWith();
    engine.on('task:phase', (e) => {
      if (e.phase === 'validate' && e.status === 'end') {
        execFileSync('mv', [out, `${out}-old`]);
        execFileSync('ln', ['-s', outside, out]);
      }
    });
    const result = await engine.run({ job_title: 'swap', tasks: [{ module: 'ffmpeg', data: encode({ output_file: join(out, 'x.mkv') }) }] });
    expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(result.phase).toBe('run');
    expect(result.message.startsWith('output_file ')).toBe(true);
    expect((await readdir(outside)).sort()).toEqual(['secret.mkv']);
  });

  it('an option file swapped the same way (attach) is refused at run', async () => {
    const folder = join(root, 'swap-attach');
    await mkdir(folder);
    await writeFile(join(folder, 'notes.txt'), 'fine');
    await writeFile(join(outside, 'notes.txt'), 'SECRET');
    const engine = engineWith();
    engine.on('task:phase', (e) => {
      if (e.phase === 'validate' && e.status === 'end') {
        execFileSync('mv', [folder, `${folder}-old`]);
        execFileSync('ln', ['-s', outside, folder]);
      }
    });
    const data = encode({ output_file: join(root, 'attach.mkv'), output_maps: [{ options: { c: 'copy', attach: join(folder, 'notes.txt'), 'metadata:s:t': { mimetype: 'text/plain' } } }], source_maps: [{ source: 0 }] });
    const result = await engine.run({ job_title: 'swap attach', tasks: [{ module: 'ffmpeg', data }] });
    expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(result.message.startsWith('output_maps[0].options.attach ')).toBe(true);
  });

  it('a source an earlier task overwrote is probed again at run: an ffconcat list there is refused', async () => {
    const b1 = join(root, 'b1.mkv');
    await copyFile(sample, b1);
    const list = join(root, 'list.txt');
    // Safe mode would refuse an absolute name at probe time already; a relative one probes fine, as "concat".
    await writeFile(list, 'ffconcat version 1.0\nfile src.mkv\n');
    const result = await engineWith().run({
      job_title: 'stale probe',
      tasks: [
        { module: 'cleanup', data: { copy: [{ source: list, destination: b1 }] } },
        { module: 'ffmpeg', data: encode({ sources: [b1], output_file: join(root, 'stolen.mkv') }) },
      ],
    });
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toBe(`sources[0]: ${b1} is read by ffmpeg as "concat", which opens further inputs named inside it or in its options; such sources are refused`);
    expect(await readdir(root)).not.toContain('stolen.mkv');
  });

  it('the concat demuxer\'s unsafe mode is refused', async () => {
    const { result } = await runTask(ffmpegModule, encode({ output_file: join(root, 'o.mkv'), input_options: { safe: 0 } }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toMatch(/^input_options\.safe: -safe is refused: turns off the concat demuxer's path checks/);
  });
});

describe('files a filter opens are probed like sources', () => {
  it('movie= naming a playlist inside the roots (whose segments are outside) is refused', async () => {
    const playlist = join(root, 'pl1.m3u8');
    await writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${join(outside, 'secret.mkv')}\n#EXT-X-ENDLIST\n`);
    const { result } = await runTask(ffmpegModule, encode({ output_file: join(root, 'exfil.mkv'), output_maps: [{ specifier: 'v', stream: 0, options: { vf: 'movie=pl1.m3u8[m];[in][m]overlay', codec: 'libx264' } }] }), { dataStore, allowedRoots: [root], cwd: root });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_maps[0].options.vf[0:movie].filename: ${playlist} is read by ffmpeg as "hls", which opens further inputs named inside it or in its options; such sources are refused`);
  });
});

describe('no name Sisyphus uses for its own files can be named by a job', () => {
  it.each([
    ['cleanup', () => ({ copy: [{ source: 'src.mkv', destination: '.sisyphus-tmp-6662dd7395bc/out.mkv' }] }), 'copy[0].destination'],
    ['cleanup', () => ({ copy: [{ source: 'src.mkv', destination: '.sisyphus-claim-0123456789abcdef' }] }), 'copy[0].destination'],
    ['ffmpeg', () => encode({ output_file: '.sisyphus-claim-0123456789abcdef' }), 'output_file'],
  ])('%s', async (module, data, field) => {
    const result = await engineWith().run({ job_title: 'reserved', tasks: [{ module, data: data() }] });
    expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(result.message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')} ".*" names "\\.sisyphus-(tmp|claim)-[0-9a-f]+", a working file of Sisyphus`));
  });
});

describe('outputs whose names the producer chooses never replace the task\'s own input', () => {
  it('an image sequence named like its source (clip%d.mkv over clip1.mkv) is not promoted; the source is unchanged', async () => {
    const clip = join(root, 'clip1.mkv');
    await copyFile(sample, clip);
    const before = await readFile(clip);
    const { result } = await runTask(ffmpegModule, encode({ sources: [clip], output_file: join(root, 'clip%d.mkv'), output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'png' } }, { options: { f: 'image2', 'frames:v': 1 } }] }), { dataStore });
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toBe(`output_file: the result would replace ${clip}, which is one of this task's inputs; nothing was promoted`);
    expect((await readFile(clip)).equals(before)).toBe(true);
  });
});

describe('two-pass with an explicit log file', () => {
  it('passlogfile inside the roots, shared by pass 1 (null output) and pass 2', async () => {
    const out = join(root, 'twopass');
    await mkdir(out);
    const pass = (n: number, output: string) => ({
      module: 'ffmpeg',
      data: encode({ output_file: output, output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast', b: '100k', pass: n, passlogfile: join(out, 'plog') } }, ...(n === 1 ? [{ options: { f: 'null' } }] : [])] }),
    });
    const result = await engineWith().run({ job_title: 'two pass', tasks: [pass(1, '/dev/null'), pass(2, join(out, 'final.mkv'))] });
    expect(result.completed, result.message).toBe(true);
    expect((await readdir(out)).filter((n) => !n.startsWith('plog'))).toEqual(['final.mkv']);
  });
});

describe('second review', () => {
  it("ffmpeg's glob reading of %{..%} in an input name cannot walk out of the roots (source and movie=)", async () => {
    const sneaky = join(root, '%{..%}', '%{..%}', 'outside', 'secret.mkv');
    for (const data of [
      encode({ sources: [sneaky], output_file: join(root, 'leak.mkv') }),
      encode({ output_file: join(root, 'leak2.mkv'), output_maps: [{ specifier: 'v', stream: 0, options: { vf: `movie=${sneaky.replace(/[%{}]/g, (c) => c)}[m];[in][m]overlay`, codec: 'libx264' } }] }),
    ]) {
      const { result } = await runTask(ffmpegModule, data, { dataStore, allowedRoots: [root] });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toMatch(/contains "%\{", which ffmpeg's image2 reader expands as a wildcard \(glob\); such names are refused$/);
    }
    expect(await readdir(root)).not.toContain('leak.mkv');
  });

  it('a file an option writes is not replaced without overwrite (found at validate)', async () => {
    const victim = join(root, 'victim.txt');
    await writeFile(victim, 'precious');
    const { result } = await runTask(ffmpegModule, encode({ overwrite: false, output_file: join(root, 'meta.mkv'), output_maps: [{ specifier: 'v', stream: 0, options: { vf: `metadata=mode=print:file=${victim}`, codec: 'libx264' } }] }), { dataStore, allowedRoots: [root] });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_maps[0].options.vf[0:metadata].file: ${victim} exists and overwrite is false`);
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it("a two-pass log's derived name (PREFIX-0.log) that is a symlink out of the roots is refused", async () => {
    const folder = join(root, 'passlog');
    await mkdir(folder);
    await writeFile(join(outside, 'precious.txt'), 'precious');
    await symlink(join(outside, 'precious.txt'), join(folder, 'p-0.log'));
    const { result } = await runTask(ffmpegModule, encode({ output_file: '/dev/null', output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'mpeg4', pass: 1, passlogfile: join(folder, 'p') } }, { options: { f: 'null' } }] }), { dataStore, allowedRoots: [root] });
    expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(result.message.startsWith('output_maps[0].options.passlogfile (p-0.log) ')).toBe(true);
    expect(await readFile(join(outside, 'precious.txt'), 'utf8')).toBe('precious');
  });

  it('a FIFO as a source (also through a symlink) is refused', async () => {
    const fifo = join(root, 'pipe.mkv');
    execFileSync('mkfifo', [fifo]);
    await symlink(fifo, join(root, 'pipe-link.mkv'));
    for (const source of [fifo, join(root, 'pipe-link.mkv')]) {
      const { result } = await runTask(ffmpegModule, encode({ sources: [source], output_file: join(root, 'x.mkv') }), { dataStore });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(`sources[0]: ${fifo} is a FIFO (named pipe), not a file or folder`);
    }
  });

  it('a multi-frame image stream cut short by a full disk is not promoted', async () => {
    const small = join(root, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', small]);
    try {
      const { result } = await runTask(ffmpegModule, encode({ output_file: join(small, 'out.mjpeg'), output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'mjpeg', q: 2, s: '640x480' } }, { options: { 'frames:v': 8 } }] }), { dataStore });
      expect(result.completed).toBe(false);
      expect(await readdir(small)).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });
});
