import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@sisyphus/core';
import { buildFfmpegArgs, FfmpegProgressParser, optionArgs, PROGRESS_ARGS, parseTime, stderrSummary, type FfmpegData, type ResolvedOutputMap } from '@sisyphus/module-ffmpeg';

const base: FfmpegData = { sources: ['a.mkv'], source_maps: [{ source: 0 }], output_file: 'out.mkv' };

describe('buildFfmpegArgs (golden argv)', () => {
  it('builds the SPEC example exactly', () => {
    const data: FfmpegData = {
      sources: ['a.mkv', 'b.ac3'],
      source_maps: [
        { source: 0, specifier: 'v', stream: 0 },
        { source: 1, specifier: 'a', stream: 0 },
        { source: 0, specifier: 's', stream: 0 },
      ],
      output_maps: [],
      output_file: 'out.mkv',
      overwrite: true,
    };
    const maps: ResolvedOutputMap[] = [
      { specifier: 'v', stream: 0, options: { codec: 'libx265', crf: 19, 'x265-params': { 'aq-mode': 3 } } },
      { specifier: 's', stream: 0, options: { codec: 'copy' } },
    ];
    expect(['ffmpeg', ...buildFfmpegArgs(data, maps)].join(' ')).toBe(
      'ffmpeg -y -i a.mkv -i b.ac3 -map 0:v:0 -map 1:a:0 -map 0:s:0 -codec:v:0 libx265 -crf:v:0 19 -x265-params:v:0 aq-mode=3 -codec:s:0 copy out.mkv',
    );
  });

  it.each<[string, Partial<FfmpegData>, ResolvedOutputMap[], string[]]>([
    ['no overwrite -> -n', {}, [], ['-n', '-i', 'a.mkv', '-map', '0', 'out.mkv']],
    [
      'input options before the inputs; true is a bare flag, false is left out',
      { input_options: { ss: '0:10:00', t: 30, re: true, autorotate: false }, sources: ['a.mkv', 'b.mkv'] },
      [],
      ['-n', '-ss', '0:10:00', '-t', '30', '-re', '-i', 'a.mkv', '-i', 'b.mkv', '-map', '0', 'out.mkv'],
    ],
    [
      'source maps: source only, specifier only, stream only, optional',
      { source_maps: [{ source: 0 }, { source: 0, specifier: 'a' }, { source: 0, stream: 3 }, { source: 0, specifier: 's', stream: 1, optional: true }, { source: 0, specifier: 'V' }] },
      [],
      ['-n', '-i', 'a.mkv', '-map', '0', '-map', '0:a', '-map', '0:3', '-map', '0:s:1?', '-map', '0:V', 'out.mkv'],
    ],
    [
      'output maps: specifier+stream, specifier only, stream only, neither',
      {},
      [
        { specifier: 'a', stream: 1, options: { b: '128k', ac: 2 } },
        { specifier: 'v', options: { codec: 'libx264' } },
        { stream: 2, options: { codec: 'copy' } },
        { options: { 'metadata:g': 'title=x' } },
      ],
      ['-n', '-i', 'a.mkv', '-map', '0', '-b:a:1', '128k', '-ac:a:1', '2', '-codec:v', 'libx264', '-codec:2', 'copy', '-metadata:g', 'title=x', 'out.mkv'],
    ],
    [
      'object values become k=v:k=v (booleans as 1/0); bare flags and dropped false in output options',
      {},
      [{ specifier: 'v', stream: 0, options: { 'x265-params': { 'limit-sao': 1, bframes: 8, 'no-sao': true, open: false }, an: false, shortest: true } }],
      ['-n', '-i', 'a.mkv', '-map', '0', '-x265-params:v:0', 'limit-sao=1:bframes=8:no-sao=1:open=0', '-shortest:v:0', 'out.mkv'],
    ],
    [
      'values with spaces and shell characters stay single argv elements',
      { sources: ['my file; rm -rf ~.mkv'], output_file: 'out $(x).mkv' },
      [{ options: { metadata: 'title=Tom & "Jerry"' } }],
      ['-n', '-i', 'my file; rm -rf ~.mkv', '-map', '0', '-metadata', 'title=Tom & "Jerry"', 'out $(x).mkv'],
    ],
  ])('%s', (_name, patch, maps, expected) => {
    expect(buildFfmpegArgs({ ...base, ...patch }, maps)).toEqual(expected);
  });

  it('metadata in a map with a stream suffix becomes -metadata:s:SPEC; an object gives one pair per entry', () => {
    expect(buildFfmpegArgs(base, [
      { specifier: 'a', stream: 0, options: { metadata: 'language=eng' } },
      { specifier: 's', options: { metadata: { language: 'jpn', title: 'Signs: & songs' } } },
      { stream: 2, options: { metadata: { handler_name: 'x' } } },
      { options: { metadata: { title: 'T', year: 2024 }, 'metadata:s:v:0': 'title=V', 'metadata:c:0': 'title=Ch1', 'metadata:p:0': 'title=P' } },
    ])).toEqual([
      '-n', '-i', 'a.mkv', '-map', '0',
      '-metadata:s:a:0', 'language=eng',
      '-metadata:s:s', 'language=jpn', '-metadata:s:s', 'title=Signs: & songs',
      '-metadata:s:2', 'handler_name=x',
      '-metadata', 'title=T', '-metadata', 'year=2024', '-metadata:s:v:0', 'title=V', '-metadata:c:0', 'title=Ch1', '-metadata:p:0', 'title=P',
      'out.mkv',
    ]);
  });

  it.each<[string, ResolvedOutputMap, string]>([
    ['own specifier in a map with a specifier', { specifier: 'v', stream: 0, options: { 'codec:v:0': 'libx264' } }, 'output_maps[0].options["codec:v:0"]: the key carries its own specifier (:v:0) but its map already addresses streams :v:0; use one or the other'],
    ['own metadata specifier in a map with a stream', { stream: 1, options: { 'metadata:g': 'title=x' } }, 'output_maps[0].options["metadata:g"]: the key carries its own specifier (:g) but its map already addresses streams :1; use one or the other'],
    ['a metadata specifier that is not g, s, c:N, p:N', { options: { 'metadata:v': 'title=x' } }, 'output_maps[0].options["metadata:v"]: metadata specifier "v" is not g, s[:stream], c:N or p:N'],
    ['true on an option that needs a value', { specifier: 'v', options: { crf: true } }, 'output_maps[0].options.crf needs a value (true is only for flags such as shortest)'],
    ['an empty value', { options: { crf: '' } }, 'output_maps[0].options.crf needs a value (an empty string is not a flag)'],
    ['a value after a flag', { options: { shortest: 'out2.mkv' } }, 'output_maps[0].options.shortest is a flag: give true or false, not "out2.mkv" (ffmpeg would read a value after it as an extra output file)'],
  ])('refuses %s, naming the field', (_name, map, message) => {
    expect(() => buildFfmpegArgs(base, [map])).toThrow(ValidationError);
    expect(() => buildFfmpegArgs(base, [map])).toThrow(message);
  });

  it('a key with its own specifier in a map without one keeps it; object values are escaped for av_dict_parse_string', () => {
    expect(optionArgs('codec:v:0', '', 'libx264')).toEqual(['-codec:v:0', 'libx264']);
    expect(optionArgs('x265-params', ':v', { csv: '/a b/c:d.csv', crf: 20 })).toEqual(['-x265-params:v', 'csv=/a\\ b/c\\:d.csv:crf=20']);
    expect(optionArgs('kvazaar-params', '', { preset: 'fast', gop: 8 })).toEqual(['-kvazaar-params', 'preset=fast,gop=8']);
    expect(() => optionArgs('x264opts', '', { stats: 'a:b' }, 'f')).toThrow(/cannot carry/);
    expect(optionArgs('noautorotate', '', true)).toEqual(['-noautorotate']);
    expect(() => optionArgs('autorotate', '', true, 'input_options.autorotate')).toThrow(/use noautorotate: true/);
  });

  it("writes to the given output path (the attempt's own) and has fixed progress flags", () => {
    expect(buildFfmpegArgs(base, [], '/w/.sisyphus-tmp-0123456789ab/out.mkv').at(-1)).toBe('/w/.sisyphus-tmp-0123456789ab/out.mkv');
    expect(PROGRESS_ARGS).toEqual(['-hide_banner', '-nostdin', '-loglevel', 'level+warning', '-nostats', '-progress', 'pipe:1']);
  });
});

describe('stderrSummary', () => {
  it('picks the first error line (the root cause), else the last line', () => {
    expect(stderrSummary([
      '[warning] deprecated pixel format used',
      'x265 [error]: Lookahead depth must be greater than the max consecutive bframe count',
      '[libx265 @ 0x1] [error] Cannot open libx265 encoder.',
      '[error] Error initializing output stream 0:0 -- Error while opening encoder',
      'Conversion failed!',
    ])).toBe('x265 [error]: Lookahead depth must be greater than the max consecutive bframe count');
    expect(stderrSummary(['[warning] something odd', ''])).toBe('[warning] something odd');
    expect(stderrSummary([])).toBeUndefined();
  });
});

describe('progress', () => {
  const block = (lines: string[], parser: FfmpegProgressParser) => lines.map((l) => parser.push(l)).filter(Boolean);

  it('takes percent from frames when the total is known, with fps, speed and eta', () => {
    const p = new FfmpegProgressParser(10, 240);
    const [r] = block(['frame=60', 'fps=30.0', 'out_time_us=2500000', 'speed=1.25x', 'progress=continue'], p);
    expect(r).toEqual({ percent: 25, frames: 60, totalFrames: 240, fps: 30, speed: 1.25, eta: 6, info: { current_frame: 60, total_frames: 240 } });
  });

  it('falls back to out_time_us against the duration, never says 100 before the end', () => {
    const p = new FfmpegProgressParser(10);
    expect(block(['frame=0', 'fps=0.00', 'out_time_us=5000000', 'speed=N/A', 'progress=continue'], p)[0]).toMatchObject({ percent: 50 });
    expect(block(['out_time_us=10000000', 'speed=2x', 'progress=continue'], p)[0]).toMatchObject({ percent: 99.9, eta: 0 });
    // ffmpeg writes progress=end when it is stopped too: 100 comes only from succeeded(), after a successful exit.
    expect(block(['out_time_us=10000000', 'progress=end'], p)[0]).toMatchObject({ percent: 99.9 });
    expect(p.succeeded()).toMatchObject({ percent: 100, eta: 0 });
  });

  it('parses ffmpeg time syntax', () => {
    expect(parseTime('0:10:00')).toBe(600);
    expect(parseTime('01:02:03.5')).toBe(3723.5);
    expect(parseTime('90')).toBe(90);
    expect(parseTime(42)).toBe(42);
    expect(parseTime('1500ms')).toBe(1.5);
    expect(parseTime('nonsense')).toBeUndefined();
  });
});

describe('real ffmpeg accepts what buildFfmpegArgs builds', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sis-args-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const lavfi: FfmpegData = {
    input_options: { f: 'lavfi' },
    sources: ['testsrc=s=32x32:d=0.2'],
    source_maps: [{ source: 0 }, { source: 1 }],
    output_file: 'unused',
    overwrite: true,
  };
  async function run(maps: ResolvedOutputMap[], name: string, patch: Partial<FfmpegData> = {}) {
    const out = join(dir, name);
    const data = { ...lavfi, ...patch };
    const args = buildFfmpegArgs(data, maps, out);
    // The second source needs its own -f lavfi: insert it before the second -i.
    const second = args.lastIndexOf('-i');
    args.splice(second, 0, '-f', 'lavfi');
    await execa('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...args]);
    const { stdout } = await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', out]);
    return JSON.parse(stdout) as { format: { tags?: Record<string, string>; duration: string }; streams: Array<{ codec_type: string; tags?: Record<string, string> }> };
  }
  const sources = ['testsrc=s=32x32:d=0.2', 'sine=d=1'];

  it('metadata:g and a per-stream metadata object', async () => {
    const probe = await run(
      [
        { options: { 'metadata:g': 'title=Global', c: 'ffv1' } },
        { specifier: 'a', stream: 0, options: { c: 'flac', metadata: { language: 'jpn', title: 'Audio: one' } } },
      ],
      'meta.mkv',
      { sources },
    );
    expect(probe.format.tags?.title).toBe('Global');
    const audio = probe.streams.find((s) => s.codec_type === 'audio')!;
    expect(audio.tags).toMatchObject({ language: 'jpn', title: 'Audio: one' });
  });

  it('shortest: true stands bare and ends with the shorter input', async () => {
    const probe = await run([{ options: { shortest: true, c: 'ffv1' } }, { specifier: 'a', options: { c: 'flac' } }], 'short.mkv', { sources });
    expect(Number(probe.format.duration)).toBeLessThan(0.6);
  });

  it('an x265-params-style object and a stream-addressed option', async () => {
    const probe = await run([{ specifier: 'v', stream: 0, options: { c: 'libx264', 'x264-params': { keyint: 10, 'no-scenecut': true }, preset: 'ultrafast' } }, { specifier: 'a', options: { c: 'flac' } }], 'x264.mkv', { sources });
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
  });
});
