import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, link, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ErrorCodes } from '@sisyphus/core';
import { createTestFolder, phaseTrail, planTask, runTask, type TestFolder } from '@sisyphus/core/testing';
import { handbrakeModule, type HandbrakeData } from '@sisyphus/module-handbrake';
// @ts-ignore -- plain ESM script without type declarations
import { makeSample } from '../../../scripts/make-sample.mjs';

const make = makeSample as (out: string, options: { duration?: number; size?: string; rate?: number }) => Promise<void>;

// The sample: 2 s, 160x120 at 24 fps; 1 video (h264), 3 audio (aac: eng, eng, jpn), 2 subtitles (srt: eng, jpn).
let samples = '';
beforeAll(async () => {
  samples = await mkdtemp(join(tmpdir(), 'sis-handbrake-sample-'));
  await make(join(samples, 'sample.mkv'), { duration: 2, size: '160x120' });
}, 60_000);
afterAll(async () => {
  if (samples) await rm(samples, { recursive: true, force: true });
});

let folder: TestFolder;
beforeEach(async () => {
  folder = await createTestFolder({ prefix: 'sis-handbrake-' });
  await copyFile(join(samples, 'sample.mkv'), folder.resolve('sample.mkv'));
});
afterEach(() => folder.remove());

interface Stream {
  codec_type: string;
  codec_name: string;
  channels?: number;
  tags?: { title?: string; DURATION?: string };
}
async function probe(file: string): Promise<{ streams: Stream[] }> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', file]);
  return JSON.parse(stdout) as { streams: Stream[] };
}
const seconds = (s: Stream) => {
  const m = /^(\d+):(\d+):([\d.]+)$/.exec(s.tags?.DURATION ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : Number.NaN;
};

/** Pids of running HandBrakeCLI processes whose command line mentions `needle`. */
function handbrakesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes('HandBrakeCLI') && cmd.includes(needle) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

const FAST = { encoder: 'x264', encoder_preset: 'ultrafast', quality: 40 } as const;

describe('handbrake module: encodes with real HandBrakeCLI', () => {
  it('encodes audio and subtitle lists, start/stop offsets and a filter; the result is checked and renamed into place', async () => {
    await folder.mkdir('out');
    const data: HandbrakeData = {
      source: 'sample.mkv',
      output_file: 'out/encoded.mkv',
      source_options: { start_at: { seconds: 0.5 }, stop_at: { seconds: 1 } },
      video_options: { ...FAST },
      audio_options: { audio: [1, 3], aencoder: ['opus', 'av_aac'], ab: [64, 96], mixdown: ['stereo', 'mono'], aname: ['English', 'Japanese'] },
      subtitles_options: { subtitle: [1, 2], subname: ['Eng', 'Jpn'] },
      filters_options: { hqdn3d: { preset: 'light' } },
    };
    const run = await runTask(handbrakeModule, data, { folder });
    expect(run.result.completed, run.result.message).toBe(true);
    expect(phaseTrail(run)).toEqual(['init:start', 'init:end', 'validate:start', 'validate:end', 'run:start', 'run:end', 'cleanup:start', 'cleanup:end']);
    const { streams } = await probe(folder.resolve('out/encoded.mkv'));
    expect(streams.map((s) => `${s.codec_type}:${s.codec_name}`)).toEqual(['video:h264', 'audio:opus', 'audio:aac', 'subtitle:ass', 'subtitle:ass']);
    expect(streams.filter((s) => s.codec_type !== 'video').map((s) => s.tags?.title)).toEqual(['English', 'Japanese', 'Eng', 'Jpn']);
    expect(streams[2]!.channels).toBe(1);
    // stop_at is a duration counted from start_at: 1 s of video.
    expect(seconds(streams[0]!)).toBeGreaterThan(0.9);
    expect(seconds(streams[0]!)).toBeLessThan(1.15);
    // Progress from --json; 100 only at the end, after the check.
    const percents = run.progress.map((p) => p.percent);
    expect(percents.at(-1)).toBe(100);
    expect(percents.slice(0, -1).every((p) => p !== undefined && p < 100)).toBe(true);
    expect(await folder.list()).toEqual(['out/', 'out/encoded.mkv', 'sample.mkv']);
  });

  it('sisyphus validate shows the exact command', async () => {
    await writeFile(folder.resolve('signs.srt'), '1\n00:00:00,000 --> 00:00:01,000\nSigns\n');
    const plan = await planTask(
      handbrakeModule,
      {
        source: 'sample.mkv',
        output_file: 'encoded.mkv',
        source_options: { start_at: { seconds: 0.5 }, stop_at: { seconds: 1 } },
        video_options: { ...FAST, encopts: { ref: 1, 'no-fast-pskip': null } },
        audio_options: { audio: [1, 3], aencoder: ['opus', 'copy:aac'], aname: ['Main', 'Japanese'] },
        subtitles_options: { subtitle: [1], subtitle_burned: 1, srt_file: ['signs.srt'], srt_lang: ['eng'], srt_default: 1 },
        filters_options: { rotate: { angle: 90, hflip: true }, deinterlace: { custom: { mode: 1 } }, detelecine: true, grayscale: false },
        picture_options: { crop: { top: 8, left: 2 }, max_width: 1280 },
      },
      { folder },
    );
    const p = folder.path;
    expect(plan.tasks[0]!.plan).toEqual([
      `/usr/bin/stdbuf -oL /usr/bin/HandBrakeCLI --json --input ${p}/sample.mkv --output ${p}/.sisyphus-tmp-XXXXXXXXXXXX/encoded.mkv` +
        ` --start-at seconds:0.5 --stop-at seconds:1 --encoder x264 --encoder-preset ultrafast --quality 40 --encopts ref=1:no-fast-pskip` +
        ` --audio 1,3 --aencoder opus,copy:aac --aname Main,Japanese` +
        ` --subtitle 1 --subtitle-burned=1 --srt-file ${p}/signs.srt --srt-lang eng --srt-default=1` +
        ` --rotate=angle=90:hflip=1 --deinterlace=mode=1 --detelecine --no-grayscale --crop 8:0:2:0 --maxWidth 1280`,
      `then check it with ffprobe (streams, codec, duration) and rename it -> ${p}/encoded.mkv`,
    ]);
  });

  it('a bad encoder preset fails with HandBrake\'s own reason and leaves no file', async () => {
    const run = await runTask(handbrakeModule, { source: 'sample.mkv', output_file: 'encoded.mkv', video_options: { ...FAST, encoder_preset: 'warp-speed' } }, { folder });
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(run.result.message).toMatch(/^HandBrakeCLI failed \(exit 3: initialisation failed\): .*invalid preset 'warp-speed'/);
    const details = run.result.tasks[0]!.error!.details as { exitCode: number; lines: string[] };
    expect(details.exitCode).toBe(3);
    expect(details.lines.length).toBeGreaterThan(0);
    expect(await folder.list()).toEqual(['sample.mkv']);
    expect(await folder.leftovers()).toEqual([]);
  });

  it('a source HandBrake cannot open fails with "No title found" and leaves no file', async () => {
    await folder.write('broken.mkv', Buffer.alloc(64 * 1024, 0x5a));
    const run = await runTask(handbrakeModule, { source: 'broken.mkv', output_file: 'encoded.mkv', video_options: { ...FAST } }, { folder });
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(run.result.message).toMatch(/^HandBrakeCLI failed \(exit 2: wrong input\): .*No title found\./);
    expect(await folder.list()).toEqual(['broken.mkv', 'sample.mkv']);
    expect(await folder.leftovers()).toEqual([]);
  });

  it('HandBrakeCLI exiting 0 without writing anything is a failure with its reason', async () => {
    // HandBrakeCLI refuses the fallback encoder, prints "ERROR: Invalid fallback audio codec (bogus)" and exits 0.
    const run = await runTask(handbrakeModule, { source: 'sample.mkv', output_file: 'encoded.mkv', video_options: { ...FAST }, audio_options: { audio_fallback: 'bogus' } }, { folder });
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(run.result.message).toBe('HandBrakeCLI exited 0 but wrote nothing: ERROR: Invalid fallback audio codec (bogus); Failed to initialize job');
    expect(await folder.list()).toEqual(['sample.mkv']);
    expect(await folder.leftovers()).toEqual([]);
  });

  it('HandBrakeCLI exiting 0 with a file that holds no video is not promoted', async () => {
    // Starting past the end: HandBrakeCLI writes a container without frames and exits 0.
    const run = await runTask(handbrakeModule, { source: 'sample.mkv', output_file: 'encoded.mkv', video_options: { ...FAST }, source_options: { start_at: { seconds: 100 } } }, { folder });
    expect(run.result.code).toBe(ErrorCodes.OUTPUT_UNVERIFIED);
    expect(run.result.message).toMatch(/^output_file: the encode \(encoded\.mkv\) cannot be read back: .*; not promoted$/);
    expect(await folder.list()).toEqual(['sample.mkv']);
    expect(await folder.leftovers()).toEqual([]);
  });

  it('a track the source does not have is found at validate', async () => {
    const run = await runTask(handbrakeModule, { source: 'sample.mkv', output_file: 'encoded.mkv', audio_options: { audio: [1, 7] } }, { folder });
    expect(run.result.code).toBe(ErrorCodes.VALIDATION);
    expect(run.result.message).toContain('audio_options.audio[1] is track 7 but the source');
    expect(run.result.message).toContain('has 3 audio (aac, aac, aac)');
    expect(phaseTrail(run).at(-1)).toBe('validate:failed');
    // A crop HandBrake cannot apply (it would say so and encode uncropped, exit 0).
    await expect(planTask(handbrakeModule, { source: 'sample.mkv', output_file: 'e.mkv', picture_options: { crop: { top: 100, bottom: 20 } } }, { folder })).rejects.toThrow(
      "picture_options.crop removes 120 of the source's 120 rows",
    );
  });

  it('cancel kills HandBrakeCLI and leaves nothing', async () => {
    await make(folder.resolve('long.mkv'), { duration: 30, size: '640x360' });
    const controller = new AbortController();
    let running: number[] = [];
    const run = await runTask(
      handbrakeModule,
      { source: 'long.mkv', output_file: 'encoded.mkv', video_options: { encoder: 'x264', encoder_preset: 'veryslow', quality: 20 } },
      {
        folder,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.percent === undefined || controller.signal.aborted) return;
          running = handbrakesMentioning(folder.path);
          controller.abort();
        },
      },
    );
    expect(running.length).toBeGreaterThan(0);
    expect(run.result.cancelled).toBe(true);
    expect(run.progress.at(-1)!.percent).toBeLessThan(100);
    expect(handbrakesMentioning(folder.path)).toEqual([]);
    expect(await folder.list()).toEqual(['long.mkv', 'sample.mkv']);
  }, 120_000);

  it('a missing binary fails init naming where it looked', async () => {
    const run = await runTask(handbrakeModule, { source: 'sample.mkv', output_file: 'encoded.mkv' }, { folder, settings: { handbrake: '/opt/nowhere/HandBrakeCLI' } });
    expect(run.result.code).toBe(ErrorCodes.INIT);
    expect(run.result.message).toContain('/opt/nowhere/HandBrakeCLI');
  });
});

describe('handbrake module: files stay inside the allowed roots', () => {
  it('refuses an SRT file outside the roots', async () => {
    await expect(planTask(handbrakeModule, { source: 'sample.mkv', output_file: 'e.mkv', subtitles_options: { srt_file: ['../elsewhere.srt'] } }, { folder })).rejects.toMatchObject({
      code: ErrorCodes.PATH_NOT_ALLOWED,
      message: expect.stringContaining('subtitles_options.srt_file[0]'),
    });
  });

  it('refuses an encoder option that writes outside the roots, and one that loads code', async () => {
    await expect(planTask(handbrakeModule, { source: 'sample.mkv', output_file: 'e.mkv', video_options: { encopts: { stats: '/tmp/x264.log' } } }, { folder })).rejects.toMatchObject({
      code: ErrorCodes.PATH_NOT_ALLOWED,
      message: expect.stringContaining('video_options.encopts.stats'),
    });
    await expect(planTask(handbrakeModule, { source: 'sample.mkv', output_file: 'e.mkv', video_options: { encopts: { 'opencl-clbin': 'x.bin' } } }, { folder })).rejects.toThrow(
      'video_options.encopts["opencl-clbin"] is refused: it loads a compiled OpenCL program',
    );
  });

  it('checks encoder options that name files and hands HandBrake the real path', async () => {
    const plan = await planTask(handbrakeModule, { source: 'sample.mkv', output_file: 'e.mkv', video_options: { encoder: 'x265', encopts: { csv: 'stats.csv' } } }, { folder });
    expect(plan.tasks[0]!.plan[0]).toContain(`--encopts csv=${folder.path}/stats.csv`);
  });

  it('refuses writing onto the source, also through a symlink or a hard link', async () => {
    await folder.mkdir('lib');
    await symlink(folder.path, folder.resolve('lib/linked'));
    await link(folder.resolve('sample.mkv'), folder.resolve('hard.mkv'));
    for (const output of ['sample.mkv', 'lib/linked/sample.mkv', 'hard.mkv']) {
      await expect(planTask(handbrakeModule, { source: 'sample.mkv', output_file: output }, { folder })).rejects.toThrow(/^output_file .* is the same file as source/);
    }
  });

  it('a source that does not exist (and that no earlier task writes) is found at validate', async () => {
    await expect(planTask(handbrakeModule, { source: 'missing.mkv', output_file: 'e.mkv' }, { folder })).rejects.toThrow(`source: ${folder.path}/missing.mkv does not exist`);
  });
});
