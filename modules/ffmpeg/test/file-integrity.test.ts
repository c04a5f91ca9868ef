import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, createEngine, createMemoryDataStore, type JobResult } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import ffmpegPlugin, { ffmpegModule } from '@sisyphus/module-ffmpeg';
// @ts-expect-error plain JS helper script
import { makeSample } from '../../../scripts/make-sample.mjs';

let dir = '';
let sample = '';
let long = '';
const dataStore = createMemoryDataStore({ ffmpeg: { fast: { options: { codec: 'libx264', preset: 'ultrafast' } } } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-ffmpeg-files-'));
  sample = join(dir, 'sample.mkv');
  long = join(dir, 'long.mkv');
  await makeSample(sample, { duration: 1, size: '160x120' });
  await makeSample(long, { duration: 20, size: '320x240' });
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function outDir(): Promise<string> {
  return mkdtemp(join(dir, 'out-'));
}
const job = (out: string, patch: Record<string, unknown> = {}) => ({
  sources: [sample],
  source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
  output_maps: [{ specifier: 'v', stream: 0, option_set: 'fast' }],
  output_file: join(out, 'out.mkv'),
  ...patch,
});
async function videoPackets(file: string): Promise<number> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

describe('one attempt, one set of files', () => {
  it('an output name of 250 bytes encodes and lands under its name', async () => {
    const out = await outDir();
    const name = `${'ü'.repeat(123)}.mkv`;
    expect(Buffer.byteLength(name)).toBe(250);
    const { result } = await runTask(ffmpegModule, job(out, { output_file: join(out, name) }), { dataStore });
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(out)).toEqual([name]);
    expect(await videoPackets(join(out, name))).toBe(24);
  });

  it('a name the file system cannot take is a ValidationError naming output_file, before anything runs', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { output_file: join(out, `${'x'.repeat(252)}.mkv`) }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.phase).toBe('validate');
    expect(result.message).toMatch(/^output_file: cannot create a file named ".*" in .*: file name too long \(ENAMETOOLONG\)$/);
    expect(await readdir(out)).toEqual([]);
  });

  it.each([
    ['two jobs (the same job submitted twice)', 'job-one', 'job-two', ErrorCodes.OUTPUT_CLAIMED],
    ['two attempts of one job (a zombie and its successor)', 'job-same', 'job-same', ErrorCodes.OUTPUT_CLAIMED],
  ])('%s writing one output at once never promote a truncated file', async (_name, firstId, secondId, code) => {
    const out = await outDir();
    // Two workers (a job is only taken over when a server leased it to another worker).
    const engine = createEngine({ plugins: [ffmpegPlugin], dataStore, worker: { id: 'worker-1' } });
    const other = createEngine({ plugins: [ffmpegPlugin], dataStore, worker: { id: 'worker-2' } });
    const data = job(out, { sources: [long], overwrite: true, output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'veryfast' } }] });
    const first = engine.run({ job_title: 'first', tasks: [{ module: 'ffmpeg', data }] }, { jobId: firstId });
    // The second starts once the first is writing.
    for (let i = 0; i < 100 && !(await readdir(out)).some((n) => n.startsWith('.sisyphus-tmp-')); i++) await new Promise((r) => setTimeout(r, 50));
    const second = other.run({ job_title: 'second', tasks: [{ module: 'ffmpeg', data }] }, { jobId: secondId });
    const results: JobResult[] = await Promise.all([first, second]);
    const done = results.filter((r) => r.completed);
    const lost = results.filter((r) => !r.completed);
    expect(done).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.code).toBe(code);
    // The zombie finds its claim held by its successor, or, when the successor finished first, released.
    expect(lost[0]!.message).toMatch(firstId === secondId ? /lost its claim on .*out\.mkv to (job job-same|nobody: the claim file is gone)/ : /out\.mkv is being written by job job-one/);
    expect(await videoPackets(join(out, 'out.mkv'))).toBe(480);
    expect(await readdir(out)).toEqual(['out.mkv']);
  }, 60_000);

  it('a truncated result that ffmpeg reports as complete is not promoted (SIS_OUTPUT_UNVERIFIED)', async () => {
    const out = await outDir();
    const fake = join(out, 'ffmpeg');
    await copyFile(fileURLToPath(new URL('../../../test/fixtures/fake-ffmpeg-truncated.mjs', import.meta.url)), fake);
    await chmod(fake, 0o755);
    const short = join(dir, 'short.mkv');
    await makeSample(short, { duration: 0.5, size: '160x120' });
    process.env.FAKE_FFMPEG_SHORT_FILE = short;
    process.env.FAKE_FFMPEG_REPORTED_FRAMES = '48';
    const { result, progress } = await runTask(ffmpegModule, job(out), { dataStore, settings: { ffmpeg: fake } });
    expect(result.code).toBe(ErrorCodes.OUTPUT_UNVERIFIED);
    expect(result.message).toBe('output_file: the encode holds 12 video frames but ffmpeg reported writing 48; not promoted');
    expect(await readdir(out)).toEqual(['ffmpeg']);
    expect(progress.some((p) => p.percent === 100)).toBe(false);
  });

  it('a two-pass encode: pass 1 writes to the null output /dev/null, pass 2 finds its log in the job folder', async () => {
    const out = await outDir();
    const pass = (n: number, output: string) => ({
      module: 'ffmpeg',
      data: job(out, { output_file: output, overwrite: true, output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast', b: '200k', pass: n } }, ...(n === 1 ? [{ options: { f: 'null' } }] : [])] }),
    });
    const result = await createEngine({ plugins: [ffmpegPlugin], dataStore }).run({ job_title: 'two pass', tasks: [pass(1, '/dev/null'), pass(2, join(out, 'two-pass.mkv'))] });
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(out)).toEqual(['two-pass.mkv']);
    expect(await videoPackets(join(out, 'two-pass.mkv'))).toBe(24);
  });

  it('an image sequence lands as its numbered files, one per frame, nothing hidden left behind', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { output_file: join(out, 'thumb_%03d.png'), output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'png' } }, { options: { 'frames:v': 5 } }] }), { dataStore });
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(out)).toEqual(['thumb_001.png', 'thumb_002.png', 'thumb_003.png', 'thumb_004.png', 'thumb_005.png']);
  });

  it('an HLS playlist and its segments land together; the playlist names the final segment files', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { sources: [long], output_file: join(out, 'index.m3u8'), output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast', g: 24 } }, { options: { hls_time: 4, hls_playlist_type: 'vod' } }] }), { dataStore });
    expect(result.completed, result.message).toBe(true);
    const names = (await readdir(out)).sort();
    expect(names).toContain('index.m3u8');
    const playlist = await readFile(join(out, 'index.m3u8'), 'utf8');
    const segments = playlist.split('\n').filter((l) => l.endsWith('.ts'));
    expect(segments.length).toBeGreaterThan(2);
    expect(playlist).not.toContain('sisyphus');
    for (const s of segments) expect(names).toContain(s);
  });
});

describe('outputs a real user writes are not refused by the check', () => {
  const gop = { specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast', g: 24 } };

  it('the segment muxer: numbered parts land, verified by the last part', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { sources: [long], output_file: join(out, 'part%03d.ts'), output_maps: [gop, { options: { f: 'segment', segment_time: 5 } }] }), { dataStore });
    expect(result.completed, result.message).toBe(true);
    expect((await readdir(out)).length).toBeGreaterThanOrEqual(3);
    expect((await readdir(out)).every((n) => /^part\d{3}\.ts$/.test(n))).toBe(true);
  });

  it('a single poster image with -update keeps one frame of many: not a truncation', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { output_file: join(out, 'poster.jpg'), output_maps: [{ specifier: 'v', stream: 0, options: { vf: 'fps=4', codec: 'mjpeg' } }, { options: { update: 1 } }] }), { dataStore });
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(out)).toEqual(['poster.jpg']);
  });

  it('two HLS-fMP4 sets and two DASH sets in one folder keep their own init and media files', async () => {
    const out = await outDir();
    const engine = createEngine({ plugins: [ffmpegPlugin], dataStore });
    const set = (name: string, extra: Record<string, unknown>, size: string) =>
      engine.run({ job_title: name, tasks: [{ module: 'ffmpeg', data: job(out, { output_file: join(out, name), overwrite: true, output_maps: [{ ...gop, options: { ...gop.options, s: size } }, { options: extra }] }) }] });
    for (const r of await Promise.all([set('a.m3u8', { hls_segment_type: 'fmp4' }, '160x120'), set('b.m3u8', { hls_segment_type: 'fmp4' }, '80x60')])) expect(r.completed, r.message).toBe(true);
    for (const r of await Promise.all([set('a.mpd', {}, '160x120'), set('b.mpd', {}, '80x60')])) expect(r.completed, r.message).toBe(true);
    const names = await readdir(out);
    expect(names).toEqual(expect.arrayContaining(['a_init.mp4', 'b_init.mp4']));
    expect(names.some((n) => n.startsWith('a-init-stream'))).toBe(true);
    expect(names.some((n) => n.startsWith('b-chunk-stream'))).toBe(true);
    const width = async (file: string) => (await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width', '-of', 'csv=p=0', file])).stdout.trim().split('\n')[0];
    expect(await width(join(out, 'a.m3u8'))).toBe('160');
    expect(await width(join(out, 'b.m3u8'))).toBe('80');
    expect(await width(join(out, 'a.mpd'))).toBe('160');
  }, 60_000);

  it('a title with a colon ("Alien: Romulus.mkv") is a file name, not a protocol', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { output_file: 'Alien: Romulus.mkv' }), { dataStore, cwd: out });
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(out)).toEqual(['Alien: Romulus.mkv']);
  });

  it.each([
    ['an output that is a folder', (out: string) => ({ output_file: out }), (out: string) => `output_file: ${out} is a folder; name a file`],
    ['/dev/null without a format', () => ({ output_file: '/dev/null' }), () => 'output_file /dev/null needs a format: give f (e.g. f: null) in an output map without specifier'],
    ['a name ending in a slash', (out: string) => ({ output_file: `${out}/sub/` }), (out: string) => `output_file "${out}/sub/" ends with a slash: name the file to write`],
    ['the segment muxer without a number pattern', (out: string) => ({ output_file: join(out, 'parts.ts'), output_maps: [{ options: { f: 'segment' } }] }), () => 'output_file "parts.ts": the segment muxer numbers its files; put a number pattern in the name (part%03d.ts)'],
  ])('%s is found at validate', async (_name, patch, message) => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { overwrite: true, ...patch(out) }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(message(out));
  });

  it('without overwrite, a sequence whose files exist already is found at validate', async () => {
    const out = await outDir();
    await writeFile(join(out, 'thumb_002.png'), 'old');
    const { result } = await runTask(ffmpegModule, job(out, { output_file: join(out, 'thumb_%03d.png'), output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'png' } }] }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_file: 1 file of this sequence exist already in ${out} (thumb_002.png) and overwrite is false`);
    expect(await readFile(join(out, 'thumb_002.png'), 'utf8')).toBe('old');
  });

  it('a full disk (ffmpeg exits 0 on a failed trailer write) fails the check and quotes ffmpeg', async () => {
    const small = await outDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
    try {
      const { result } = await runTask(ffmpegModule, job(small, { sources: [long], overwrite: true }), { dataStore });
      expect(result.completed).toBe(false);
      expect(result.message).toMatch(/No space left on device/);
      expect(await readdir(small)).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });
});

describe('same file means same file', () => {
  it('reading through a symlinked library and writing to the real folder is refused; the original is untouched', async () => {
    const real = await outDir();
    const source = join(real, 'film.mkv');
    await copyFile(sample, source);
    const library = join(dir, `library-${Date.now()}`);
    await symlink(real, library);
    const before = await readFile(source);
    const { result } = await runTask(ffmpegModule, job(real, { sources: [join(library, 'film.mkv')], output_file: source, overwrite: true }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_file ${source} is the same file as sources[0] (${join(library, 'film.mkv')})`);
    expect((await readFile(source)).equals(before)).toBe(true);
  });

  it('a hard link of the source as the output is refused too', async () => {
    const out = await outDir();
    const source = join(out, 'a.mkv');
    await copyFile(sample, source);
    await execa('ln', [source, join(out, 'b.mkv')]);
    const { result } = await runTask(ffmpegModule, job(out, { sources: [source], output_file: join(out, 'b.mkv'), overwrite: true }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_file ${join(out, 'b.mkv')} is the same file as sources[0] (${source})`);
  });
});

describe('confinement covers option values', () => {
  it.each([
    ['input_options.vstats_file', { input_options: { vstats_file: '/elsewhere/v.txt' } }],
    ['output_maps[0].options.passlogfile', { output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', pass: 1, passlogfile: '/elsewhere/plog' } }] }],
    ['output_maps[0].options["x265-params"].csv', { output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx265', 'x265-params': { csv: '/elsewhere/x.csv' } } }] }],
    ['output_maps[0].options.vf[0:movie].filename', { output_maps: [{ specifier: 'v', stream: 0, options: { vf: "movie='/elsewhere/logo.png'[l];[in][l]overlay" } }] }],
  ])('%s outside the allowed roots is refused before anything runs', async (field, patch) => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, patch), { dataStore, allowedRoots: [dir] });
    expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(result.message.startsWith(`${field} `)).toBe(true);
    expect(await readdir(out)).toEqual([]);
  });

  it('a file-naming option inside the roots is passed as its resolved path; ffmpeg writes it there', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { input_options: { vstats_file: 'stats.txt' } }), { dataStore, allowedRoots: [dir], cwd: out });
    expect(result.completed, result.message).toBe(true);
    expect((await readdir(out)).sort()).toEqual(['out.mkv', 'stats.txt']);
  });

  it('an option that names a source as a file to write is refused', async () => {
    const out = await outDir();
    const source = join(out, 'src.mkv');
    await copyFile(sample, source);
    const { result } = await runTask(ffmpegModule, job(out, { sources: [source], input_options: { vstats_file: source } }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`input_options.vstats_file names ${source}, which is the same file as sources[0]; a source is never written`);
  });

  it.each([
    ['sources[0]', { sources: ['concat:/etc/passwd|/etc/hosts'] }, 'sources[0]: "concat:/etc/passwd|/etc/hosts" is a "concat:" URL, not a file; protocols must be allowed by name'],
    ['sources[0]', { sources: ['http://example.com/a.mkv'] }, 'sources[0]: "http://example.com/a.mkv" is a "http:" URL, not a file; protocols must be allowed by name'],
    ['output_file', { output_file: '-' }, 'output_file: "-" is a pipe (-), not a file; protocols must be allowed by name'],
  ])('protocols and pseudo-files in %s are refused unless allowed by name', async (_f, patch, message) => {
    const { result } = await runTask(ffmpegModule, job(await outDir(), patch), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message.startsWith(message)).toBe(true);
  });

  it('a source that is a playlist (it would make ffmpeg open other files) is refused', async () => {
    const out = await outDir();
    const elsewhere = await mkdtemp(join(tmpdir(), 'sis-secret-'));
    const secret = join(elsewhere, 'secret.ts');
    await execa('ffmpeg', ['-v', 'error', '-i', sample, '-map', '0:v', '-c', 'copy', secret]);
    const playlist = join(out, 'innocent.mkv');
    await writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${secret}\n#EXT-X-ENDLIST\n`);
    const { result } = await runTask(ffmpegModule, job(out, { sources: [playlist], source_maps: [{ source: 0 }], output_maps: [] }), { dataStore, allowedRoots: [out] });
    await rm(elsewhere, { recursive: true, force: true });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`sources[0]: ${playlist} is read by ffmpeg as "hls", which opens further inputs named inside it or in its options; such sources are refused`);
  });
});

describe('clear errors before the encode', () => {
  it('a missing output folder is found at validate', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { output_file: join(out, 'no', 'out.mkv') }), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_file: the folder ${join(out, 'no')} does not exist`);
  });

  it('options of a stream an optional map does not find are left out, and the plan says so', async () => {
    const out = await outDir();
    const noSubs = join(out, 'nosubs.mkv');
    await execa('ffmpeg', ['-v', 'error', '-i', sample, '-map', '0:v', '-map', '0:a:0', '-c', 'copy', noSubs]);
    const data = job(out, {
      sources: [noSubs],
      source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 's', stream: 0, optional: true }],
      output_maps: [{ specifier: 'v', stream: 0, option_set: 'fast' }, { specifier: 's', stream: 0, options: { codec: 'ass', 'metadata': { language: 'eng' } } }],
    });
    const plan = await planTask(ffmpegModule, data, { dataStore });
    expect(plan.tasks[0]!.plan[0]).toBe('output_maps[1] (s:0) is left out: the output has no such stream because source_maps[1] (0:s:0?) matches nothing');
    expect(plan.tasks[0]!.plan[1]).toMatch(/-map '?0:s:0\?'?/);
    expect(plan.tasks[0]!.plan[1]).not.toMatch(/-codec:s|-metadata:s:s/);
    const { result } = await runTask(ffmpegModule, data, { dataStore });
    expect(result.completed, result.message).toBe(true);
  });

  it('option names may carry their own specifier (metadata:g), and per-stream metadata works', async () => {
    const out = await outDir();
    const { result } = await runTask(ffmpegModule, job(out, { output_maps: [{ specifier: 'v', stream: 0, option_set: 'fast', options: { metadata: { title: 'Main' } } }, { options: { 'metadata:g': 'title=Dark & Stormy' } }] }), { dataStore });
    expect(result.completed, result.message).toBe(true);
    const { stdout } = await execa('ffprobe', ['-v', 'error', '-show_entries', 'format_tags=title:stream_tags=title', '-of', 'json', join(out, 'out.mkv')]);
    const doc = JSON.parse(stdout) as { format: { tags: { title: string } }; streams: Array<{ tags: { title: string } }> };
    expect(doc.format.tags.title).toBe('Dark & Stormy');
    expect(doc.streams[0]!.tags.title).toBe('Main');
  });

  it('a read-only output folder is found at validate; one that turns read-only before the run fails naming the field and the cause', async () => {
    const share = await outDir();
    await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=4m', 'tmpfs', share]);
    try {
      const early = await runTask(ffmpegModule, job(share), { dataStore });
      expect(early.result.code).toBe(ErrorCodes.VALIDATION);
      expect(early.result.message).toBe(`output_file: cannot create files in ${share}: read-only file system (EROFS)`);
      await execa('mount', ['-o', 'remount,rw', share]);
      const engine = createEngine({ plugins: [ffmpegPlugin], dataStore });
      engine.on('task:phase', (e) => {
        if (e.phase === 'validate' && e.status === 'end') execFileSync('mount', ['-o', 'remount,ro', share]);
      });
      const late = await engine.run({ job_title: 'late', tasks: [{ module: 'ffmpeg', data: job(share) }] });
      expect(late.code).toBe(ErrorCodes.RUN);
      expect(late.message).toBe(`output_file: cannot claim ${join(share, 'out.mkv')}: read-only file system (EROFS)`);
    } finally {
      await execa('umount', [share]);
    }
  });
});

describe('every phase is bounded', () => {
  it('a source on a stalled share (ffprobe never returns) fails validate at the timeout, naming the phase and the file; ffprobe is killed', async () => {
    const out = await outDir();
    const stalled = join(out, 'stalled.mkv');
    await copyFile(sample, stalled);
    // An ffprobe stuck on a dead share: a real hung NFS mount cannot be made here, so a fixture that never answers.
    const fake = join(out, 'ffprobe');
    await writeFile(fake, '#!/bin/sh\nwhile :; do sleep 1; done\n');
    await chmod(fake, 0o755);
    const engine = createEngine({ plugins: [ffmpegPlugin], dataStore, phaseTimeoutMs: 1000, settings: { ffmpeg: { ffprobe: fake } } });
    const started = Date.now();
    const result = await engine.run({ job_title: 'stalled', tasks: [{ module: 'ffmpeg', data: job(out, { sources: [stalled] }) }] });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(result.code).toBe(ErrorCodes.TIMEOUT);
    expect(result.phase).toBe('validate');
    expect(result.message).toMatch(new RegExp(`^validate timed out after 1 s \\(still running: \\S*ffprobe .* ${stalled}\\)$`));
    const probes = () =>
      readdirSync('/proc').filter((p) => {
        try {
          const state = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.[0];
          return state !== 'Z' && readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(stalled);
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 40 && probes().length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(probes()).toEqual([]);
  });
});
