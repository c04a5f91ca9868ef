import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { copyFile, chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { processesMentioning } from '../../../test/support/processes.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, createEngine, createMemoryDataStore } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import ffmpegPlugin, { ffmpegModule } from '@sisyphus/module-ffmpeg';
// @ts-expect-error plain JS helper script
import { makeSample } from '../../../scripts/make-sample.mjs';

let dir = '';
let sample = '';
const fast = { name: 'fast', options: { codec: 'libx264', preset: 'ultrafast' } };
const dataStore = createMemoryDataStore({ ffmpeg: { fast, 'opus-64k': { options: { codec: 'libopus', b: '64k' } } } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-ffmpeg-'));
  sample = join(dir, 'sample.mkv');
  await makeSample(sample, { duration: 1, size: '160x120' });
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A fresh output folder per test. */
async function outDir(): Promise<string> {
  return mkdtemp(join(dir, 'out-'));
}

const job = (out: string, patch: Record<string, unknown> = {}) => ({
  sources: [sample],
  source_maps: [{ source: 0, specifier: 'v', stream: 0 }, { source: 0, specifier: 'a', stream: 2 }],
  output_maps: [{ specifier: 'v', stream: 0, option_set: 'fast' }, { specifier: 'a', stream: 0, options: { codec: 'aac', b: '64k' } }],
  output_file: join(out, 'out.mkv'),
  overwrite: false,
  ...patch,
});

async function streamsOf(file: string) {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', file]);
  return (JSON.parse(stdout).streams as Array<{ codec_type: string; codec_name: string; tags?: { language?: string } }>).map((s) => `${s.codec_type}:${s.codec_name}:${s.tags?.language ?? ''}`);
}


describe('ffmpeg module', () => {
  it('encodes with option sets laid over map options, reports progress, renames into place', async () => {
    const out = await outDir();
    const { result, progress } = await runTask(ffmpegModule, job(out), { dataStore });
    expect(result.completed, result.message).toBe(true);
    expect(await streamsOf(join(out, 'out.mkv'))).toEqual(['video:h264:', 'audio:aac:jpn']);
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
    expect(progress.some((p) => p.frames !== undefined && p.fps !== undefined)).toBe(true);
    expect(await readdir(out)).toEqual(['out.mkv']);
  });

  it('shows the exact command in the plan', async () => {
    const out = await outDir();
    const plan = await planTask(ffmpegModule, job(out, { input_options: { t: 1 } }), { dataStore });
    expect(plan.tasks[0]!.plan[0]).toMatch(
      new RegExp(`^/\\S+/ffmpeg -hide_banner -nostdin -loglevel level\\+warning -nostats -progress pipe:1 -n -t 1 -i ${sample} -map 0:v:0 -map 0:a:2 -codec:v:0 libx264 -preset:v:0 ultrafast -codec:a:0 aac -b:a:0 64k ${out}/\\.sisyphus-tmp-X{12}/out\\.mkv$`),
    );
    expect(plan.tasks[0]!.plan[1]).toBe(`then check the result with ffprobe and rename it -> ${join(out, 'out.mkv')}`);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a non-integer stream', { output_maps: [{ specifier: 'v', stream: 0 }, { specifier: 'a', stream: 'one' }] }, 'output_maps[1].stream must be an integer'],
    ['an unknown specifier', { source_maps: [{ source: 0, specifier: 'x' }] }, 'source_maps[0].specifier must be one of "v", "V", "a", "s", "d", "t"'],
    ['no sources', { sources: [] }, 'sources must have at least 1 item'],
    ['duplicate sources', { sources: ['a', 'a'] }, 'sources must not contain duplicates'],
    ['an unknown key', { output_maps: [{ specifier: 'v', options: { codec: 'x' }, optoins: {} }] }, 'output_maps[0].optoins is not an allowed field'],
    ['a bad option name', { output_maps: [{ options: { '-y': true } }] }, 'output_maps[0].options["-y"] is not an allowed field'],
    ['a missing output', { output_file: null }, 'output_file must be a string'],
    ['input options with a bad value', { input_options: { ss: { a: 1 } } }, 'input_options.ss must be a string or a number or a boolean'],
  ])('schema errors name the field: %s', async (_name, patch, message) => {
    const { result } = await runTask(ffmpegModule, job(await outDir(), patch), { dataStore });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(message);
  });

  it('a missing option set is a validation error naming it', async () => {
    const { result } = await runTask(ffmpegModule, job(await outDir(), { output_maps: [{ specifier: 'v', stream: 0, option_set: 'x265-nope' }] }), { dataStore });
    expect(result.code).toBe(ErrorCodes.DATA_NOT_FOUND);
    expect(result.phase).toBe('validate');
    expect(result.message).toBe('output_maps[0].option_set: option set "x265-nope" does not exist');
  });

  it('stream checks with ffprobe say which streams the file has', async () => {
    const out = await outDir();
    const missing = await runTask(ffmpegModule, job(out, { source_maps: [{ source: 0, specifier: 'a', stream: 3 }] }), { dataStore });
    expect(missing.result.code).toBe(ErrorCodes.VALIDATION);
    expect(missing.result.message).toBe(
      `source_maps[0] (0:a:3) matches no stream: ${sample} has 1 video (h264), 3 audio (aac, aac, aac), 2 subtitle (subrip, subrip)`,
    );
    const optional = await runTask(ffmpegModule, job(out, { source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'd', optional: true }], output_maps: [{ specifier: 'v', stream: 0, option_set: 'fast' }] }), { dataStore });
    expect(optional.result.completed, optional.result.message).toBe(true);
    const badOutput = await runTask(ffmpegModule, job(await outDir(), { output_maps: [{ specifier: 'a', stream: 1, options: { codec: 'aac' } }] }), { dataStore });
    expect(badOutput.result.message).toBe('output_maps[0] (a:1) addresses no stream: the source maps give the output 1 video (h264), 1 audio (aac)');
  });

  it('checks sources, source indices and the output before anything runs', async () => {
    const out = await outDir();
    await writeFile(join(out, 'exists.mkv'), 'old');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ sources: [join(out, 'nope.mkv')] }, `sources[0]: ${join(out, 'nope.mkv')} does not exist (and no earlier task of the job writes it)`],
      [{ source_maps: [{ source: 1 }] }, 'source_maps[0].source is 1 but there is only 1 source'],
      [{ output_file: join(out, 'exists.mkv') }, `output_file ${join(out, 'exists.mkv')} exists and overwrite is false`],
      [{ output_file: sample, overwrite: true }, `output_file ${sample} is the same file as sources[0] (${sample})`],
    ];
    for (const [patch, message] of cases) {
      const { result } = await runTask(ffmpegModule, job(out, patch), { dataStore });
      expect(result.code, message).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(message);
    }
    expect(await readFile(join(out, 'exists.mkv'), 'utf8')).toBe('old');
  });

  it('a source written by an earlier task of the job passes validation', async () => {
    const out = await outDir();
    const engine = createEngine({ plugins: [ffmpegPlugin], dataStore });
    const first = job(out, { output_file: join(out, 'step1.mkv') });
    const second = job(out, { sources: [join(out, 'step1.mkv')], source_maps: [{ source: 0, specifier: 'v', stream: 0 }], output_maps: [{ specifier: 'v', stream: 0, option_set: 'fast' }], output_file: join(out, 'step2.mkv') });
    const result = await engine.run({ job_title: 'chain', tasks: [{ module: 'ffmpeg', data: first }, { module: 'ffmpeg', data: second }] });
    expect(result.completed, result.message).toBe(true);
    expect(await streamsOf(join(out, 'step2.mkv'))).toEqual(['video:h264:']);
  });

  it('a failing ffmpeg (bad codec option) is a RunError with the stderr tail, and leaves no output', async () => {
    const out = await outDir();
    const { result, logs } = await runTask(ffmpegModule, job(out, { output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'warp-speed' } }] }), { dataStore });
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toMatch(/^ffmpeg exited with code \d+: .*(preset|warp-speed)/i);
    const details = result.tasks[0]!.error!.details as { exitCode: number; stderrTail: string[] };
    expect(details.exitCode).not.toBe(0);
    expect(details.stderrTail.length).toBeGreaterThan(0);
    expect(details.stderrTail.length).toBeLessThanOrEqual(20);
    expect(details.stderrTail.join('\n')).toMatch(/preset|warp-speed/i);
    expect(logs.filter((l) => l.level === 'error').length).toBe(details.stderrTail.length);
    expect(await readdir(out)).toEqual([]);
  });

  it('cancellation mid-encode kills ffmpeg and leaves no output that looks complete', async () => {
    const out = await outDir();
    const long = join(out, 'long.mkv');
    await makeSample(long, { duration: 30, size: '640x360' });
    const controller = new AbortController();
    let seen = 0;
    const running = runTask(
      ffmpegModule,
      job(out, { sources: [long], output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx265', preset: 'medium' } }] }),
      { dataStore, signal: controller.signal },
    );
    const poll = setInterval(() => {
      if (processesMentioning('ffmpeg', `${out}/.sisyphus-tmp-`).length && ++seen === 2) controller.abort();
    }, 100);
    const { result } = await running;
    clearInterval(poll);
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(result.cancelled).toBe(true);
    expect(processesMentioning('ffmpeg', out)).toEqual([]);
    expect(await readdir(out)).toEqual(['long.mkv']);
  }, 60_000);

  it('death by signal is retried a bounded number of times, then a RunError', async () => {
    const out = await outDir();
    const fake = join(out, 'ffmpeg');
    await copyFile(fileURLToPath(new URL('../../../test/fixtures/fake-ffmpeg-segv.mjs', import.meta.url)), fake);
    await chmod(fake, 0o755);
    process.env.FAKE_FFMPEG_COUNTER = join(out, 'runs');
    const { result, logs } = await runTask(ffmpegModule, job(out), { dataStore, settings: { ffmpeg: fake, signal_retries: 2 } });
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toBe('ffmpeg was killed by SIGSEGV 3 times: Segmentation fault (pretend)');
    expect((await readFile(join(out, 'runs'), 'utf8')).trim().split('\n')).toHaveLength(3);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'ffmpeg was killed by SIGSEGV; starting again (attempt 2 of 3)',
      'ffmpeg was killed by SIGSEGV; starting again (attempt 3 of 3)',
    ]);
  });

  it('a missing binary fails init naming where it looked', async () => {
    const { result } = await runTask(ffmpegModule, job(await outDir()), { dataStore, settings: { ffprobe: '/opt/nowhere/ffprobe' } });
    expect(result.code).toBe(ErrorCodes.INIT);
    expect(result.message).toBe('ffprobe not found (searched /opt/nowhere/ffprobe); install it or set settings.ffmpeg.ffprobe');
  });
});
