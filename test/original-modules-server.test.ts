// mkvextract and handbrake ship as defaults like the other three: a server with
// no config validates their jobs at submit (the original's job files are
// accepted, bad data is refused naming the field) and a CLI with no config
// lists them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type StartedServer } from '@sisyphus/server';

const bin = fileURLToPath(new URL('../core/bin/sisyphus.js', import.meta.url));
let dir = '';
let server: StartedServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-original-modules-'));
  server = await startServer({ port: 0, db: join(dir, 'server.db') });
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const submit = (tasks: unknown[]) =>
  fetch(`${server.url}/queue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job_title: 'original', tasks }) });

describe('the original two modules are shipped defaults', () => {
  it('a server with no config accepts the original job shapes of mkvextract and handbrake', async () => {
    const r = await submit([
      { module: 'mkvextract', data: { source: '/media/in.mkv', tracks: [{ id: 0, track_type: 'subtitles', language: 'jpn', filename: 'subs.srt' }], chapters: 'chapters.xml' } },
      {
        module: 'handbrake',
        data: {
          source: '/media/in.mkv',
          output_file: '/media/out.mkv',
          video_options: { encoder: 'x265_10bit', encoder_preset: 'slow', quality: 19 },
          audio_options: { audio: [1, 3], aencoder: ['opus', 'opus'], ab: [128, 192], mixdown: ['stereo', '5_2_lfe'] },
        },
      },
    ]);
    expect(r.status, await r.clone().text()).toBe(200);
  });

  it('and refuses bad data at submit, naming the field', async () => {
    const bad = await submit([{ module: 'mkvextract', data: { source: '/media/in.mkv', tracks: [{ id: 0, filenme: 'subs.srt' }] } }]);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/tasks\[0\]\.data\.tracks\[0\]/);
    const badHb = await submit([{ module: 'handbrake', data: { source: '/media/in.mkv' } }]);
    expect(badHb.status).toBe(400);
    expect((await badHb.json()).message).toMatch(/tasks\[0\]\.data.*output_file/);
  });

  it('sisyphus modules with no config lists all five', async () => {
    const { stdout } = await execa(process.execPath, [bin, 'modules'], { cwd: dir });
    for (const name of ['cleanup', 'ffmpeg', 'handbrake', 'mkvextract', 'mkvmerge']) expect(stdout).toMatch(new RegExp(`^${name}\\s+@sisyphus/module-${name}`, 'm'));
  });
});
