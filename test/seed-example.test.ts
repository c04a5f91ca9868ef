import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'core/dist/cli/bin.js');
const job = join(repo, 'examples/jobs/seed-example.json');

let dir = '';
let config = '';
let vars: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-seed-'));
  await makeSample(join(dir, 'in', 'source.mkv'), { duration: 1, size: '160x120' });
  // The example's option sets with x265's preset swapped for a fast one: a test option set; the
  // example job is untouched. (superfast, not ultrafast: ultrafast's lookahead of 5 is shorter
  // than the set's bframes=8, which x265 refuses.)
  await mkdir(join(dir, 'data', 'ffmpeg'), { recursive: true });
  for (const name of ['x265-dark-and-stormy', 'opus-128k-stereo']) {
    const set = JSON.parse(await readFile(join(repo, 'examples/data/ffmpeg', `${name}.json`), 'utf8'));
    if (set.options.preset) set.options.preset = 'superfast';
    await writeFile(join(dir, 'data', 'ffmpeg', `${name}.json`), JSON.stringify(set));
  }
  await mkdir(join(dir, 'work'));
  config = join(dir, 'sisyphus.config.yaml');
  await writeFile(config, `dataDir: data\nworkdir: work\nallowedRoots:\n  - .\n`);
  vars = [
    '--var', 'job_title=It was a dark & stormy night',
    '--var', `source_file=${join(dir, 'in', 'source.mkv')}`,
    '--var', 'video_title=Dark & "Stormy"',
    '--var', 'output_file=final.mkv',
    '--var', `done_dir=${join(dir, 'Done')}`,
  ];
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the seed's example job, for real", () => {
  it('validate shows the exact ffmpeg command with both option sets applied', async () => {
    const r = await execa(process.execPath, [bin, 'validate', job, '--config', config, ...vars], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `-map 0:v:0 -map 0:a:2 -map 0:a:0 -map 0:s:0 -map 0:s:1 -codec:v:0 libx265 -crf:v:0 19 -pix_fmt:v:0 yuv420p10le -preset:v:0 superfast -x265-params:v:0 limit-sao=1:bframes=8:psy-rd=1:psy-rdoq=2:aq-mode=3 -codec:a:0 libopus -b:a:0 128k -ac:a:0 2 -vbr:a:0 on -compression_level:a:0 10 -application:a:0 audio -codec:a:1 libopus`,
    );
    expect(r.stdout).toContain(`${join(dir, 'work')}/.sisyphus-tmp-XXXXXXXXXXXX/output_file.mkv`);
  });

  it('ffmpeg -> mkvmerge -> cleanup produces the muxed file where cleanup moved it', async () => {
    const r = await execa(process.execPath, [bin, 'run', job, '--config', config, ...vars], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('[1/3 ffmpeg] 100%');
    expect(r.stdout).toContain('[2/3 mkvmerge] 100%');

    const final = join(dir, 'Done', 'final.mkv');
    expect(existsSync(final)).toBe(true);
    expect(await readdir(join(dir, 'work'))).toEqual([]);

    const probe = JSON.parse((await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', final])).stdout);
    expect(probe.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`)).toEqual([
      'video:hevc', 'audio:opus', 'audio:opus', 'subtitle:subrip',
    ]);
    expect(probe.streams[0].pix_fmt).toBe('yuv420p10le');
    expect(probe.streams[1].channels).toBe(2);

    const mkv = JSON.parse((await execa('mkvmerge', ['-J', final])).stdout);
    expect(mkv.container.properties.title).toBe('Dark & "Stormy"');
    expect(
      mkv.tracks.map((t: { type: string; properties: Record<string, unknown> }) => [t.type, t.properties.language, t.properties.track_name, t.properties.default_track]),
    ).toEqual([
      ['video', 'eng', 'Dark & "Stormy"', true],
      ['audio', 'jpn', 'Stereo (OPUS)', true],
      ['audio', 'eng', 'Stereo (OPUS)', false],
      ['subtitles', 'eng', 'Subtitles', true],
    ]);
    // --no-global-tags / --no-track-tags: the source's tags are gone.
    expect(mkv.global_tags ?? []).toEqual([]);
    expect(mkv.track_tags ?? []).toEqual([]);
  }, 120_000);
});
