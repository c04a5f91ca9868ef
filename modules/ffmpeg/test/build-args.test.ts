import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, FfmpegProgressParser, PROGRESS_ARGS, parseTime, stderrSummary, type FfmpegData, type ResolvedOutputMap } from '@sisyphus/module-ffmpeg';

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

  it('writes to the given output path (the partial file) and has fixed progress flags', () => {
    expect(buildFfmpegArgs(base, [], '/w/.out.sisyphus-part.mkv').at(-1)).toBe('/w/.out.sisyphus-part.mkv');
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
    expect(block(['out_time_us=10000000', 'progress=end'], p)[0]).toMatchObject({ percent: 100, eta: 0 });
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
