import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, claimPathFor, createEngine } from '@sisyphus/core';
import { runTask } from '@sisyphus/core/testing';
import { mkvmergeModule } from '@sisyphus/module-mkvmerge';

let dir = '';
let source = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-mkvmerge-files-'));
  source = join(dir, 'in.mkv');
  await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '2', '-c:a', 'aac', source]);
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
const out = () => mkdtemp(join(dir, 'out-'));
const job = (output: string, patch: Record<string, unknown> = {}) => ({
  sources: [{ filename: source }],
  tracks: [{ source: 0, track: 0 }, { source: 0, track: 1 }],
  output_file: output,
  ...patch,
});
async function identify(file: string): Promise<{ title?: string; tracks: number; attachments: number; globalTags?: number }> {
  const { stdout } = await execa('mkvmerge', ['-J', file]);
  const doc = JSON.parse(stdout) as { container: { properties: { title?: string } }; tracks: unknown[]; attachments: unknown[]; global_tags: unknown[] };
  return { title: doc.container.properties.title, tracks: doc.tracks.length, attachments: doc.attachments.length, globalTags: doc.global_tags.length };
}

describe('mkvmerge: files are never damaged', () => {
  it('an output name of 250 bytes muxes and lands under its name', async () => {
    const d = await out();
    const name = `${'ß'.repeat(123)}.mkv`;
    const { result } = await runTask(mkvmergeModule, job(join(d, name)));
    expect(result.completed, result.message).toBe(true);
    expect(await readdir(d)).toEqual([name]);
    expect((await identify(join(d, name))).tracks).toBe(2);
  });

  it('an empty YAML value for an option that needs one is a ValidationError, not a bare flag that swallows the next option', async () => {
    const d = await out();
    const { result } = await runTask(mkvmergeModule, job(join(d, 'o.mkv'), { options: { title: null, 'no-global-tags': null } }));
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe('options.title needs a value');
    expect(await readdir(d)).toEqual([]);
    const ok = await runTask(mkvmergeModule, job(join(d, 'o.mkv'), { options: { title: 'Dark & Stormy', 'no-global-tags': null } }));
    expect(ok.result.completed, ok.result.message).toBe(true);
    expect(await identify(join(d, 'o.mkv'))).toMatchObject({ title: 'Dark & Stormy', globalTags: 0 });
  });

  it('attach-file, chapters and tags outside the allowed roots are refused before anything runs', async () => {
    const d = await out();
    const elsewhere = await mkdtemp(join(tmpdir(), 'sis-elsewhere-'));
    await writeFile(join(elsewhere, 'secret.txt'), 'secret');
    try {
      for (const [options, field] of [
        [{ 'attachment-mime-type': 'text/plain', 'attach-file': join(elsewhere, 'secret.txt') }, 'options["attach-file"]'],
        [{ chapters: join(elsewhere, 'secret.txt') }, 'options.chapters'],
      ] as const) {
        const { result } = await runTask(mkvmergeModule, job(join(d, 'o.mkv'), { options }), { allowedRoots: [dir] });
        expect(result.code, field).toBe(ErrorCodes.PATH_NOT_ALLOWED);
        expect(result.message.startsWith(`${field} `)).toBe(true);
      }
      const tags = await runTask(mkvmergeModule, job(join(d, 'o.mkv'), { tracks: [{ source: 0, track: 0, options: { tags: join(elsewhere, 'secret.txt') } }] }), { allowedRoots: [dir] });
      expect(tags.result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
      expect(tags.result.message.startsWith('tracks[0].options.tags ')).toBe(true);
      expect(await readdir(d)).toEqual([]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('a tags file inside the roots that embeds another file (@/path) is refused', async () => {
    const d = await out();
    const tags = join(d, 'tags.xml');
    await writeFile(tags, '<?xml version="1.0"?>\n<Tags><Tag><Simple><Name>X</Name><Binary>@/etc/hostname</Binary></Simple></Tag></Tags>\n');
    const { result } = await runTask(mkvmergeModule, job(join(d, 'o.mkv'), { options: { 'global-tags': tags } }), { allowedRoots: [dir] });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toContain('options["global-tags"]');
    expect(await readdir(d)).toEqual(['tags.xml']);
  });

  it('writing the output onto a source reached through a symlinked folder is refused; the source is untouched', async () => {
    const d = await out();
    const own = join(d, 'film.mkv');
    await copyFile(source, own);
    await symlink(d, join(dir, `lib-${Date.now()}`));
    const lib = (await readdir(dir)).filter((n) => n.startsWith('lib-')).map((n) => join(dir, n)).at(-1)!;
    const before = await readFile(own);
    const { result } = await runTask(mkvmergeModule, job(own, { sources: [{ filename: join(lib, 'film.mkv') }] }));
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`output_file ${own} is the same file as sources[0].filename (${join(lib, 'film.mkv')})`);
    expect((await readFile(own)).equals(before)).toBe(true);
  });

  it("another job's live claim on the output makes this mux fail, naming the file and the job", async () => {
    const d = await out();
    const target = join(d, 'o.mkv');
    await writeFile(claimPathFor(target), JSON.stringify({ target, job_id: 'other-job', attempt: 'a1', hostname: hostname(), pid: process.pid, folder: '.sisyphus-tmp-000000000000', claimed_at: 'now' }));
    const { result } = await runTask(mkvmergeModule, job(target));
    expect(result.code).toBe(ErrorCodes.OUTPUT_CLAIMED);
    expect(result.message).toMatch(new RegExp(`^output_file: ${target} is being written by job other-job `));
  });

  it('a mux that exits 0 but lost a track is not promoted (SIS_OUTPUT_UNVERIFIED), and never shows 100%', async () => {
    const d = await out();
    const fake = join(d, 'mkvmerge');
    await copyFile(fileURLToPath(new URL('../../../test/fixtures/fake-mkvmerge-short.mjs', import.meta.url)), fake);
    await chmod(fake, 0o755);
    const videoOnly = join(d, 'video-only.mkv');
    await execa('mkvmerge', ['-o', videoOnly, '--no-audio', source]);
    process.env.FAKE_MKVMERGE_RESULT = videoOnly;
    const { result, progress } = await runTask(mkvmergeModule, job(join(d, 'o.mkv')), { settings: { mkvmerge: fake } });
    expect(result.code).toBe(ErrorCodes.OUTPUT_UNVERIFIED);
    expect(result.message).toBe('output_file: the mux (o.mkv) holds 1 tracks instead of 2; not promoted');
    expect((await readdir(d)).sort()).toEqual(['mkvmerge', 'video-only.mkv']);
    expect(progress.map((p) => p.percent)).not.toContain(100);
    expect(dirname(fake)).toBe(d);
  });

  it('--split writes its parts into the attempt folder and lands them together', async () => {
    const d = await out();
    const { result } = await runTask(mkvmergeModule, job(join(d, 'part.mkv'), { options: { split: 'parts:00:00:00-00:00:00.5,00:00:00.5-00:00:01' } }));
    expect(result.completed, result.message).toBe(true);
    expect((await readdir(d)).sort()).toEqual(['part-001.mkv', 'part-002.mkv']);
  });

  it('a read-only output folder is found at validate, before the mux', async () => {
    const share = await out();
    await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', share]);
    try {
      const { result } = await runTask(mkvmergeModule, job(join(share, 'o.mkv')));
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(`output_file: cannot create files in ${share}: read-only file system (EROFS)`);
    } finally {
      await execa('umount', [share]);
    }
  });

  it('a Blu-ray playlist (recognised by content, whatever its name) whose clips lie outside the roots is refused at validate', async () => {
    const bd = await mkdtemp(join(dir, 'bd-'));
    await mkdir(join(bd, 'STREAM'));
    await mkdir(join(bd, 'PLAYLIST'));
    await writeFile(join(bd, 'index.bdmv'), '');
    await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', join(bd, 'STREAM', '00001.m2ts')]);
    const media = join(bd, 'media');
    await mkdir(media);
    // A 106-byte MPLS naming clip 00001 (the bytes an attacker can make any encode write).
    await writeFile(join(media, 'x.mkv'), Buffer.from('TVBMUzAyMDAAAAAoAAAAZAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAMDAwMDAxTTJUUwABAAAAAAAAAg9YAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64'));
    const { result } = await runTask(mkvmergeModule, { sources: [{ filename: join(media, 'x.mkv') }], tracks: [{ source: 0, track: 0 }], output_file: join(media, 'out.mkv') }, { allowedRoots: [media] });
    expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(result.message.startsWith('sources[0].filename (playlist item 1) ')).toBe(true);
    expect(await readdir(media)).toEqual(['x.mkv']);
  });

  it('split parts named like the source (part-002.mkv) are not promoted over it; the source is unchanged', async () => {
    const d = await out();
    const part = join(d, 'part-002.mkv');
    await copyFile(source, part);
    const before = await readFile(part);
    const { result } = await runTask(mkvmergeModule, job(join(d, 'part.mkv'), { sources: [{ filename: part }], options: { split: 'duration:00:00:00.5' } }));
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toBe(`output_file: the result would replace ${part}, which is one of this task's inputs; nothing was promoted`);
    expect((await readFile(part)).equals(before)).toBe(true);
  });

  it('an attachment folder swapped for a symlink to outside between validate and run is refused at run', async () => {
    const d = await out();
    const fonts = join(d, 'fonts');
    await mkdir(fonts);
    const elsewhere = await mkdtemp(join(tmpdir(), 'sis-outside-'));
    await writeFile(join(elsewhere, 'secret.txt'), 'secret');
    try {
      const engine = createEngine({ modules: [mkvmergeModule], allowedRoots: [dir] });
      engine.on('task:phase', (e) => {
        if (e.phase === 'validate' && e.status === 'end') {
          execFileSync('mv', [fonts, `${fonts}-old`]);
          execFileSync('ln', ['-s', elsewhere, fonts]);
        }
      });
      const result = await engine.run({ job_title: 'swap', tasks: [{ module: 'mkvmerge', data: job(join(d, 'o.mkv'), { attachment_directories: [fonts] }) }] });
      expect(result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
      expect(result.phase).toBe('run');
      expect(result.message.startsWith('attachment_directories[0] ')).toBe(true);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('taking only some tracks (video of a source whose audio runs longer) is a legitimate shorter mux, not a truncation', async () => {
    const d = await out();
    const uneven = join(d, 'uneven.mkv');
    await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=1', '-f', 'lavfi', '-i', 'sine=duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', uneven]);
    const { result } = await runTask(mkvmergeModule, job(join(d, 'video-only.mkv'), { sources: [{ filename: uneven }], tracks: [{ source: 0, track: 0 }] }));
    expect(result.completed, result.message).toBe(true);
    expect((await identify(join(d, 'video-only.mkv'))).tracks).toBe(1);
  });

  it('a chapters file that is a FIFO is refused before mkvmerge (or the module) opens it', async () => {
    const d = await out();
    execFileSync('mkfifo', [join(d, 'chapters.xml')]);
    const { result } = await runTask(mkvmergeModule, job(join(d, 'o.mkv'), { options: { chapters: join(d, 'chapters.xml') } }));
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`options.chapters: ${join(d, 'chapters.xml')} is a FIFO (named pipe), not a file or folder`);
  });
});
