import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, link, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { processesMentioning } from '../../../test/support/processes.js';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ErrorCodes, createEngine } from '@sisyphus/core';
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
          running = processesMentioning('HandBrakeCLI', folder.path);
          controller.abort();
        },
      },
    );
    expect(running.length).toBeGreaterThan(0);
    expect(run.result.cancelled).toBe(true);
    expect(run.progress.at(-1)!.percent).toBeLessThan(100);
    expect(processesMentioning('HandBrakeCLI', folder.path)).toEqual([]);
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

/**
 * Run one handbrake task through a real engine, calling `beforeRun` (sync)
 * between validate and run: what an earlier task of the job (or anyone)
 * could do to the files in between.
 */
async function runSwapping(data: HandbrakeData, beforeRun: () => void): Promise<{ code?: string; message?: string; completed: boolean; phases: string[] }> {
  const engine = createEngine({ modules: [handbrakeModule], cwd: folder.path, allowedRoots: [folder.path] });
  const phases: string[] = [];
  engine.on('task:phase', (e) => {
    phases.push(`${e.phase}:${e.status}`);
    if (e.phase === 'run' && e.status === 'start') beforeRun();
  });
  const result = await engine.run({ job_title: 'swap', tasks: [{ module: 'handbrake', data }] });
  return { ...(result.code ? { code: result.code } : {}), ...(result.message ? { message: result.message } : {}), completed: result.completed, phases };
}

describe('handbrake module: what changes or hides behind a name', () => {
  let outside = '';
  beforeEach(async () => {
    outside = await mkdtemp(join(tmpdir(), 'sis-handbrake-outside-'));
  });
  afterEach(async () => {
    await rm(outside, { recursive: true, force: true });
  });
  const playlist = (segment: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${segment}\n#EXT-X-ENDLIST\n`;

  it('a source that is an HLS playlist (whatever its name) is refused at validate, and at run', async () => {
    await copyFile(join(samples, 'sample.mkv'), join(outside, 'secret.mkv'));
    await writeFile(folder.resolve('innocent.mkv'), playlist(join(outside, 'secret.mkv')));
    await expect(planTask(handbrakeModule, { source: 'innocent.mkv', output_file: 'e.mkv', video_options: { ...FAST } }, { folder })).rejects.toMatchObject({
      code: ErrorCodes.VALIDATION,
      message: expect.stringContaining(`source: ${folder.path}/innocent.mkv is read as "hls", which opens further`),
    });
    // A playlist ffprobe cannot read (its segment is missing) is still one to HandBrake: refused as text.
    await writeFile(folder.resolve('broken.mkv'), playlist(join(outside, 'missing.ts')));
    await expect(planTask(handbrakeModule, { source: 'broken.mkv', output_file: 'e.mkv' }, { folder })).rejects.toThrow(/^source: .*broken\.mkv is a playlist or list ffprobe cannot read/);
    // Swapped in after validate: refused before HandBrake starts.
    const run = await runSwapping({ source: 'sample.mkv', output_file: 'e.mkv', video_options: { ...FAST } }, () => {
      writeFileSync(folder.resolve('sample.mkv'), playlist(join(outside, 'secret.mkv')));
    });
    expect(run.code).toBe(ErrorCodes.RUN);
    expect(run.message).toContain('is read as "hls"');
    expect(await folder.list()).toEqual(['broken.mkv', 'innocent.mkv', 'sample.mkv']);
    // The source was replaced on purpose: clear the suite's source guard record of it.
    rmSync(process.env.SISYPHUS_SOURCE_GUARD!, { force: true });
  });

  it('files x264 derives from encopts.stats are checked like outputs: no symlink (in or out of the roots), no special file, not an input', async () => {
    await folder.mkdir('out');
    await writeFile(join(outside, 'victim'), 'keep me');
    await writeFile(folder.resolve('out/st'), ''); // read+write: it must exist, like any file an option reads
    const data: HandbrakeData = { source: 'sample.mkv', output_file: 'out/e.mkv', video_options: { ...FAST, encopts: { pass: 1, stats: 'out/st' } } };
    await symlink(join(outside, 'victim'), folder.resolve('out/st.temp'));
    await expect(planTask(handbrakeModule, data, { folder })).rejects.toThrow(`video_options.encopts.stats (.temp): ${folder.path}/out/st.temp is a symlink`);
    await rm(folder.resolve('out/st.temp'));
    await symlink(folder.resolve('sample.mkv'), folder.resolve('out/st.mbtree.temp'));
    await expect(planTask(handbrakeModule, data, { folder })).rejects.toThrow('video_options.encopts.stats (.mbtree.temp)');
    await rm(folder.resolve('out/st.mbtree.temp'));
    execFileSync('mkfifo', [folder.resolve('out/st.cutree')]);
    await expect(planTask(handbrakeModule, data, { folder })).rejects.toThrow(`video_options.encopts.stats (.cutree): ${folder.path}/out/st.cutree is not a regular file`);
    await rm(folder.resolve('out/st.cutree'));
    await link(folder.resolve('sample.mkv'), folder.resolve('out/st.mbtree'));
    await expect(planTask(handbrakeModule, data, { folder })).rejects.toThrow(/video_options\.encopts\.stats \(\.mbtree\) names .* which is the same file as source/);
    await rm(folder.resolve('out/st.mbtree'));
    // The symlink planted after validate: refused at run, the victim untouched.
    const run = await runSwapping(data, () => symlinkSync(join(outside, 'victim'), folder.resolve('out/st.temp')));
    expect(run.message).toContain('video_options.encopts.stats (.temp)');
    expect(run.code).toBe(ErrorCodes.RUN);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep me');
  });

  it('an output that became a FIFO after validate is refused before HandBrake starts', async () => {
    const run = await runSwapping({ source: 'sample.mkv', output_file: 'e.mkv', video_options: { ...FAST } }, () => execFileSync('mkfifo', [folder.resolve('e.mkv')]));
    expect(run.code).toBe(ErrorCodes.RUN);
    expect(run.message).toBe(`output_file: ${folder.path}/e.mkv is not a regular file (any more); HandBrakeCLI writes a file, which is checked before it is put in place`);
    expect(processesMentioning('HandBrakeCLI', folder.path)).toEqual([]);
  }, 30_000);

  it('start_at past the end: refused at validate when the length is known, HandBrake\'s own count at run when not', async () => {
    const run = await runTask(handbrakeModule, { source: 'sample.mkv', output_file: 'encoded.mkv', video_options: { ...FAST }, source_options: { start_at: { seconds: 2.021 } } }, { folder });
    expect(run.result.message).toBe(`source_options.start_at.seconds (2.021 s) is at or past the end of the source (${folder.path}/sample.mkv, 2.021 s): nothing would be encoded`);
    expect(run.result.code).toBe(ErrorCodes.VALIDATION);
    await expect(planTask(handbrakeModule, { source: 'sample.mkv', output_file: 'e.mkv', source_options: { start_at: { frames: 49 } } }, { folder })).rejects.toThrow('source_options.start_at.frames (49)');
    // A raw H.264 stream has no duration ffprobe knows: HandBrake writes a container without frames and exits 0.
    await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=d=1:s=160x120:r=24', '-c:v', 'libx264', '-f', 'h264', folder.resolve('raw.h264')]);
    const raw = await runTask(handbrakeModule, { source: 'raw.h264', output_file: 'encoded.mkv', video_options: { ...FAST }, source_options: { start_at: { seconds: 100 } } }, { folder });
    expect(raw.result.code).toBe(ErrorCodes.RUN);
    expect(raw.result.message).toMatch(/^HandBrakeCLI exited 0 but wrote no video frames \(\d+ bytes\): mux: track 0, 0 frames, 0 bytes/);
    expect(await folder.list()).toEqual(['raw.h264', 'sample.mkv']);
    expect(await folder.leftovers()).toEqual([]);
  }, 60_000);
});
