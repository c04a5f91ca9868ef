import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { schemaProblems } from '@sisyphus/core';
import { createTestFolder, planTask, runTask, type TestFolder } from '@sisyphus/core/testing';
import {
  HandbrakeDataSchema,
  HandbrakeOutputReader,
  buildHandbrakeArgs,
  handbrakeModule,
  handbrakeReason,
  progressFrom,
  reviewHandbrakeData,
  workDoneError,
  type HandbrakeData,
  type JsonBlock,
} from '@sisyphus/module-handbrake';
// @ts-ignore -- plain ESM script without type declarations
import { makeSample } from '../../../scripts/make-sample.mjs';

/*
 * Job data of the original Sisyphus handbrake module, as its library
 * (JamesTheBard/sisyphus-handbrake: README.md, example.py) and the
 * original's documentation (sisyphus-docs, operations/modules/handbrake.md)
 * show it. `valid` is what the original's own JSON schema
 * (handbrake/schema/handbrake.schema.yaml, checked with Python's jsonschema
 * 4.26) decides for each.
 */
const README_JOB = {
  source: 'cool_video.mkv',
  output_file: 'output.mkv',
  video_options: { encoder: 'x265_10bit', encoder_preset: 'slow', quality: 19 },
  audio_options: { audio: [1, 3], aencoder: ['opus', 'opus'], ab: [128, 192], mixdown: ['stereo', '5_2_lfe'] },
  subtitles_options: { subtitle: [1, 2], subname: ['Signs and Songs', 'Full Subtitles'] },
};
const base = { source: 'cool_video.mkv', output_file: 'output.mkv' };
const ORIGINAL_SAMPLES: Array<{ name: string; data: unknown; valid: boolean }> = [
  { name: 'README "JSON Format Breakdown" input (also example.py)', data: README_JOB, valid: true },
  { name: 'README load_from_object example', data: { source: 'test_file.mkv', output_file: 'output.mkv' }, valid: true },
  { name: 'docs task skeleton', data: { source: '', output_file: '', source_options: {}, destination_options: {}, video_options: {}, audio_options: {}, picture_options: {}, filters_options: {}, subtitles_options: {} }, valid: true },
  { name: 'README audio list', data: { ...base, audio_options: { audio: [1, 2, 3] } }, valid: true },
  { name: 'docs comb_detect custom settings written directly', data: { ...base, filters_options: { comb_detect: { mode: 3, spatial_metric: 2, motion_thresh: 1, spatial_thresh: 1, filter_mode: 2, block_thresh: 40, block_width: 16, block_height: 16 } } }, valid: false },
  { name: 'docs comb_detect: false', data: { ...base, filters_options: { comb_detect: false } }, valid: true },
  { name: 'README bwdif: true', data: { ...base, filters_options: { bwdif: true } }, valid: false },
  { name: 'README bwdif: "bob"', data: { ...base, filters_options: { bwdif: 'bob' } }, valid: false },
  { name: 'README bwdif custom written directly', data: { ...base, filters_options: { bwdif: { mode: 3, parity: 1 } } }, valid: false },
  { name: 'bwdif {custom}', data: { ...base, filters_options: { bwdif: { custom: { mode: 3, parity: 1 } } } }, valid: true },
  { name: 'bwdif {preset}', data: { ...base, filters_options: { bwdif: { preset: 'bob' } } }, valid: true },
  { name: 'README keep_display_aspect: false, pixel_aspect "3:2"', data: { ...base, picture_options: { keep_display_aspect: false, pixel_aspect: '3:2' } }, valid: true },
  { name: 'README crop with up/down', data: { ...base, picture_options: { crop: { up: 10, down: 10, left: 0, right: 0 } } }, valid: true },
  { name: 'start_at with two units', data: { ...base, source_options: { start_at: { seconds: 1, frames: 3 } } }, valid: false },
  { name: 'stop_at with two units', data: { ...base, source_options: { stop_at: { seconds: 1, frames: 3 } } }, valid: true },
  { name: 'comb_detect {presets}', data: { ...base, filters_options: { comb_detect: { presets: 'fast' } } }, valid: true },
  { name: 'comb_detect {preset}', data: { ...base, filters_options: { comb_detect: { preset: 'fast' } } }, valid: false },
  { name: 'detelecine with a key it does not have', data: { ...base, filters_options: { detelecine: { foo: 1 } } }, valid: true },
  { name: 'rotate 45', data: { ...base, filters_options: { rotate: { angle: 45 } } }, valid: false },
  { name: 'VP9_10bit (not in the original\'s list)', data: { ...base, video_options: { encoder: 'VP9_10bit' } }, valid: false },
  { name: 'nvenv_h265_10bit (the original\'s misspelling)', data: { ...base, video_options: { encoder: 'nvenv_h265_10bit' } }, valid: true },
  { name: 'drc below 1', data: { ...base, audio_options: { drc: [0.5] } }, valid: false },
  { name: 'subtitle: false', data: { ...base, subtitles_options: { subtitle: false } }, valid: true },
  { name: 'audio: null', data: { ...base, audio_options: { audio: null } }, valid: true },
  { name: 'an unknown group', data: { ...base, general_options: {} }, valid: false },
  { name: 'no output_file', data: { source: 'a.mkv' }, valid: false },
];

describe('the original\'s job data', () => {
  it.each(ORIGINAL_SAMPLES)('$name: the schema decides as the original\'s', ({ data, valid }) => {
    expect(schemaProblems(HandbrakeDataSchema, data).length === 0).toBe(valid);
  });

  describe('run unchanged', () => {
    let samples = '';
    let folder: TestFolder;
    beforeAll(async () => {
      samples = await mkdtemp(join(tmpdir(), 'sis-handbrake-orig-'));
      await (makeSample as (o: string, p: object) => Promise<void>)(join(samples, 'sample.mkv'), { duration: 2, size: '160x120' });
    }, 60_000);
    afterAll(() => rm(samples, { recursive: true, force: true }));
    beforeEach(async () => {
      folder = await createTestFolder({ prefix: 'sis-handbrake-orig-' });
      await copyFile(join(samples, 'sample.mkv'), folder.resolve('cool_video.mkv'));
    });
    afterEach(() => folder.remove());

    it('the README\'s job encodes as it says', async () => {
      const run = await runTask(handbrakeModule, README_JOB as HandbrakeData, { folder });
      expect(run.result.completed, run.result.message).toBe(true);
      const { stdout } = await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', folder.resolve('output.mkv')]);
      const streams = (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string; profile?: string; tags?: { title?: string } }> }).streams;
      expect(streams.map((s) => `${s.codec_type}:${s.codec_name}`)).toEqual(['video:hevc', 'audio:opus', 'audio:opus', 'subtitle:ass', 'subtitle:ass']);
      expect(streams[0]!.profile).toBe('Main 10');
      expect(streams.slice(3).map((s) => s.tags?.title)).toEqual(['Signs and Songs', 'Full Subtitles']);
    }, 60_000);

    /** Data the original's schema accepts, but HandBrakeCLI cannot run as written: refused at validate, naming the field. */
    const STRICT: Array<[string, Partial<HandbrakeData>, string]> = [
      ['empty source', { source: '' }, 'source must not be empty'],
      ['crop with up/down', { picture_options: { crop: { up: 10 } as never } }, 'picture_options.crop.up is not a side: use top, bottom, left, right'],
      ['stop_at with two units', { source_options: { stop_at: { seconds: 1, frames: 3 } } }, 'source_options.stop_at needs exactly one of frames, seconds, pts (it has seconds, frames)'],
      ['stop_at without a unit', { source_options: { stop_at: {} } }, 'source_options.stop_at needs exactly one of frames, seconds, pts (it has none)'],
      ['start and stop in different units', { source_options: { start_at: { seconds: 1 }, stop_at: { frames: 3 } } }, 'source_options.stop_at.frames: the unit must be start_at\'s (seconds)'],
      ['title 0 (scan only)', { source_options: { title: 0 } }, 'source_options.title must be 1 or more'],
      ['the misspelled encoder', { video_options: { encoder: 'nvenv_h265_10bit' } }, 'video_options.encoder "nvenv_h265_10bit" is not a HandBrakeCLI encoder'],
      ['detelecine with an unknown key', { filters_options: { detelecine: { foo: 1 } as never } }, 'filters_options.detelecine.foo is not a detelecine setting'],
      ['decomb custom with an unknown key', { filters_options: { decomb: { custom: { foo: 1 } as never } } }, 'filters_options.decomb.custom.foo is not a decomb setting'],
      ['subtitle: true', { subtitles_options: { subtitle: true } }, 'subtitles_options.subtitle: true names no track'],
      ['a name with a comma', { audio_options: { audio: [1], aname: ['Stereo, loud'] } }, 'audio_options.aname[0] cannot contain ","'],
      ['an empty audio list', { audio_options: { audio: [] } }, 'audio_options.audio must not be empty (null for no audio)'],
      ['an unknown sample rate', { audio_options: { audio: [1], arate: [7] } }, 'audio_options.arate[0] must be one of 8, 11.025, 12, 16, 22.05, 24, 32, 44.1, 48'],
      ['a frame rate out of range', { video_options: { rate: 0.5 } }, 'video_options.rate must be between 1 and 1000'],
      ['two frame rate modes', { video_options: { vfr: true, cfr: true } }, 'video_options: choose one of vfr, cfr'],
      ['an encoder option value with ":"', { video_options: { encopts: { 'psy-rd': '1.0:0.1' } } }, 'video_options.encopts["psy-rd"]: a value cannot contain ":" or "="'],
    ];
    it.each(STRICT)('%s is refused at validate', async (_name, patch, message) => {
      expect(schemaProblems(HandbrakeDataSchema, { ...base, ...patch })).toEqual([]);
      await expect(planTask(handbrakeModule, { ...base, ...patch } as HandbrakeData, { folder })).rejects.toThrow(message);
    });
  });
});

describe('per-track lists', () => {
  const data = (audio: Record<string, unknown>, subtitles: Record<string, unknown> = {}) => ({ ...base, audio_options: audio, subtitles_options: subtitles }) as HandbrakeData;

  it('lists HandBrake pairs must be as long as the tracks they pair with', () => {
    expect(() => reviewHandbrakeData(data({ audio: [1, 2], aencoder: ['opus'] }))).toThrow('audio_options.aencoder has 1 value but audio has 2: give one per output track');
    expect(() => reviewHandbrakeData(data({ audio: [1], ab: [64, 96] }))).toThrow('audio_options.ab has 2 values but audio has 1');
    expect(() => reviewHandbrakeData(data({ aencoder: ['opus', 'av_aac'], mixdown: ['stereo'] }))).toThrow('audio_options.mixdown has 1 value but aencoder has 2');
    expect(() => reviewHandbrakeData(data({ ab: [64], gain: [1, 2] }))).toThrow('audio_options.gain has 2 values but ab has 1');
    expect(() => reviewHandbrakeData(data({ audio: null, ab: [64] }))).toThrow('audio_options.ab has nothing to apply to: audio is null');
    expect(() => reviewHandbrakeData(data({}, { subtitle: [1, 2], subname: ['One'] }))).toThrow('subtitles_options.subname has 1 name but subtitle lists 2 tracks');
    expect(() => reviewHandbrakeData(data({}, { subtitle: [1], subtitle_forced: [2] }))).toThrow('subtitles_options.subtitle_forced[0] is 2 but subtitle lists 1');
    expect(() => reviewHandbrakeData(data({}, { srt_file: ['a.srt', 'b.srt'], srt_lang: ['eng'] }))).toThrow('subtitles_options.srt_lang has 1 value but srt_file has 2: give one per file');
    expect(() => reviewHandbrakeData(data({}, { srt_burn: 1 }))).toThrow('subtitles_options.srt_burn needs srt_file');
  });

  it('become HandBrakeCLI comma lists, and the expected track counts follow them', () => {
    const d = data({ audio: [1, 3, 3], aencoder: ['opus', 'none', 'copy:aac'], normalize_mix: [true, false, false] }, { subtitle: [2, 1], subtitle_burned: 2, srt_file: ['s.srt'] });
    const review = reviewHandbrakeData(d);
    expect(review.expect).toMatchObject({ audio: 2, subtitles: 2, videoCodec: 'h264' });
    const args = buildHandbrakeArgs(d, { source: '/m/in.mkv', output_file: '/m/out.mkv', 'subtitles_options.srt_file[0]': '/m/s.srt' });
    expect(args).toEqual([
      '--json', '--input', '/m/in.mkv', '--output', '/m/out.mkv',
      '--audio', '1,3,3', '--aencoder', 'opus,none,copy:aac', '--normalize-mix', '1,0,0',
      '--subtitle', '2,1', '--subtitle-burned=2', '--srt-file', '/m/s.srt',
    ]);
  });

  it('writes the original\'s spellings as HandBrakeCLI 1.6.1 has them', () => {
    const d: HandbrakeData = {
      ...base,
      video_options: { enable_hw_decoding: true, vfr: false, two_pass: false },
      picture_options: { max_height: 720, keep_display_aspect: false, non_anamorphic: false },
      subtitles_options: { first_subtitles: true, subtitle: false, ssa_file: ['x.ass'], ssa_default: false },
      filters_options: { comb_detect: { presets: 'fast' }, nlmeans: { custom: { y_strength: 2, cb_patch_size: 5 } }, pad: { width: 200, color: 'black' } },
      audio_options: { audio: null },
    };
    expect(buildHandbrakeArgs(d, { source: '/i', output_file: '/o', 'subtitles_options.ssa_file[0]': '/x.ass' }).slice(5)).toEqual([
      '--enable-hw-decoding', 'nvdec', '--no-two-pass',
      '--maxHeight', '720', '--no-keep-display-aspect',
      '--first-subtitle', '--subtitle', 'none', '--ssa-file', '/x.ass',
      '--comb-detect=fast', '--nlmeans=y-strength=2:cb-patch-size=5', '--pad', 'width=200:color=black',
      '--audio', 'none',
    ]);
  });
});

describe('HandBrakeCLI --json output', () => {
  const blocks = (text: string) => {
    const reader = new HandbrakeOutputReader();
    const out: JsonBlock[] = [];
    const other: string[] = [];
    for (const line of text.split('\n')) {
      const item = reader.push(line);
      if (item.kind === 'block') out.push(item.block);
      if (item.kind === 'text') other.push(item.text);
    }
    return { out, other };
  };
  // As HandBrakeCLI 1.6.1 prints it (values from a real run; a title with braces added).
  const SAMPLE = [
    'Version: {', '    "Name": "HandBrake {x}",', '    "VersionString": "1.6.1"', '}',
    'libdvdread: Encrypted DVD support unavailable.************************************************', '',
    'Progress: {', '    "State": "WORKING",', '    "Working": {', '        "ETASeconds": 0,', '        "Hours": -1,', '        "Pass": 1,', '        "PassCount": 1,',
    '        "Progress": 0.4791666567325592,', '        "Rate": 1.9821459318336565e-7,', '        "RateAvg": 0.0', '    }', '}',
    'Progress: {', '    "State": "WORKING",', '    "Working": {', '        "ETASeconds": 12,', '        "Hours": 0,', '        "Pass": 2,', '        "PassCount": 2,',
    '        "Progress": 0.5,', '        "Rate": 68.347335815429688,', '        "RateAvg": 60.5', '    }', '}',
    'Progress: {', '    "State": "WORKDONE",', '    "WorkDone": {', '        "Error": 0,', '        "SequenceID": 1', '    }', '}',
  ].join('\n');

  it('reads the blocks and the progress in them', () => {
    const { out, other } = blocks(SAMPLE);
    expect(out.map((b) => b.label)).toEqual(['Version', 'Progress', 'Progress', 'Progress']);
    expect(other[0]).toMatch(/^libdvdread/);
    expect(progressFrom(out[0]!)).toBeUndefined();
    // No rate measured yet (1e-7), no ETA (Hours -1).
    expect(progressFrom(out[1]!)).toEqual({ percent: 47.91666567325592, info: { pass: 1, passes: 1 } });
    // Pass 2 of 2 at half: 75 % of the whole.
    expect(progressFrom(out[2]!)).toEqual({ percent: 75, fps: 68.35, eta: 12, info: { pass: 2, passes: 2, average_fps: 60.5 } });
    expect(progressFrom(out[3]!)).toBeUndefined();
    expect(workDoneError(out[3]!)).toBe(0);
  });

  it('never reports 100 from a progress line', () => {
    const done = { label: 'Progress', value: { State: 'WORKING', Working: { Progress: 1, Pass: 1, PassCount: 1 } } };
    expect(progressFrom(done)!.percent).toBe(99.9);
  });

  it('finds HandBrake\'s reason among its chatter', () => {
    const lines = [
      '[10:07:43] hb_scan: path=junk.mkv, title_index=1', 'udfread ERROR: ECMA 167 Volume Recognition failed', 'disc.c:333: failed opening UDF image junk.mkv',
      '[10:07:43] bd: not a bd - trying as a stream/file instead', 'libdvdnav: vm: vm: failed to read VIDEO_TS.IFO',
      '[10:07:43] hb_stream_open: open junk.mkv failed', '[10:07:43] scan: unrecognized file type', '[10:07:43] libhb: scan thread found 0 valid title(s)', 'No title found.', 'HandBrake has exited.',
    ];
    expect(handbrakeReason(lines)).toEqual(['hb_stream_open: open junk.mkv failed', 'scan: unrecognized file type', 'No title found.']);
  });
});
