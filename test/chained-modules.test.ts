import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';

// The seed's style of job with the mkvextract module in the chain, through the real CLI:
// mkvextract the Japanese subtitles -> ffmpeg re-encodes video and audio and turns the
// extracted SRT into ASS -> mkvmerge muxes with names and languages -> cleanup moves the
// result and deletes the intermediates.
const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'core/bin/sisyphus.js');
const job = join(repo, 'examples/jobs/mkvextract-chain.json');

let dir = '';
let config = '';
let vars: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-chain-'));
  // 0 video, 1-3 audio (eng, eng, jpn), 4 subtitles eng, 5 subtitles jpn.
  await makeSample(join(dir, 'in', 'source.mkv'), { duration: 1, size: '160x120' });
  await mkdir(join(dir, 'work'));
  config = join(dir, 'sisyphus.config.yaml');
  // mkvextract is not (yet) a default plugin: the config lists every module package the job uses.
  const plugins = ['ffmpeg', 'mkvmerge', 'cleanup', 'mkvextract'].map((m) => `  - ${join(repo, 'modules', m)}`).join('\n');
  await writeFile(config, `workdir: work\nallowedRoots:\n  - .\nplugins:\n${plugins}\n`);
  vars = [
    '--var', 'job_title=Subtitles out and back in',
    '--var', `source_file=${join(dir, 'in', 'source.mkv')}`,
    '--var', 'video_title=Dark & Stormy',
    '--var', 'output_file=final.mkv',
    '--var', `done_dir=${join(dir, 'Done')}`,
  ];
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mkvextract -> ffmpeg -> mkvmerge -> cleanup, through the CLI', () => {
  it('validate shows the exact mkvextract command, the subtitle selection resolved to its track id', async () => {
    const r = await execa(process.execPath, [bin, 'validate', job, '--config', config, ...vars], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`mkvextract ${join(dir, 'in', 'source.mkv')} --gui-mode tracks 5:${join(dir, 'work')}/.sisyphus-tmp-XXXXXXXXXXXX/subtitles_jpn.srt`);
    expect(await readdir(join(dir, 'work'))).toEqual([]);
  });

  it('runs the chain: the Japanese subtitles come back as ASS in the final file, intermediates gone', async () => {
    const r = await execa(process.execPath, [bin, 'run', job, '--config', config, ...vars], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('[1/4 mkvextract] 100%');
    expect(r.stdout).toContain('[3/4 mkvmerge] 100%');

    const final = join(dir, 'Done', 'final.mkv');
    expect(existsSync(final)).toBe(true);
    expect(await readdir(join(dir, 'work'))).toEqual([]);

    const probe = JSON.parse((await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', final])).stdout);
    expect(probe.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`)).toEqual(['video:h264', 'audio:opus', 'subtitle:ass']);
    const mkv = JSON.parse((await execa('mkvmerge', ['-J', final])).stdout);
    expect(mkv.container.properties.title).toBe('Dark & Stormy');
    expect(mkv.tracks.map((t: { type: string; codec: string; properties: Record<string, unknown> }) => [t.type, t.codec, t.properties.language, t.properties.track_name])).toEqual([
      ['video', 'AVC/H.264/MPEG-4p10', 'und', 'Dark & Stormy'],
      ['audio', 'Opus', 'jpn', 'Stereo (OPUS)'],
      ['subtitles', 'SubStationAlpha', 'jpn', 'Japanese (ASS)'],
    ]);
    // The subtitle text is the source's Japanese track, carried through all four tasks.
    const back = join(dir, 'back.ass');
    await execa('mkvextract', [final, 'tracks', `2:${back}`]);
    const { stdout: ass } = await execa('cat', [back]);
    expect(ass).toContain('暗い嵐の夜だった。');
    expect(ass).toContain('エンコードは続いた。');
  }, 120_000);
});
