import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, ValidationError, createPathGuard } from '@sisyphus/core';
import { outputKind, resolveOptionFiles, reviewFfmpegOptions, reviewPathField, type FfmpegData, type OptionPolicy, type ResolvedOutputMap } from '@sisyphus/module-ffmpeg';
import {
  DEVICE_OPTIONS,
  FILE_OPTIONS,
  FILTER_FILE_OPTIONS,
  FILTER_FORMAT_OPTIONS,
  FILTER_REFUSED_OPTIONS,
  FLAG_OPTIONS,
  KV_OPTIONS,
  PROTOCOLS,
  REFUSED_FILTERS,
  REFUSED_INPUT_FORMATS,
  REFUSED_OPTIONS,
  REFUSED_OUTPUT_FORMATS,
  VERSION_DEPENDENT_BOOLS,
} from '../src/ffmpeg-option-table.js';
import { parseFilterGraph } from '../src/filtergraph.js';
import { optionField } from '../src/build-args.js';

type Options = NonNullable<ResolvedOutputMap['options']>;
const input = (input_options: Record<string, string | number | boolean>, policy?: OptionPolicy) => reviewFfmpegOptions({ input_options }, [], policy);
const output = (options: Options, policy?: OptionPolicy, map: Partial<ResolvedOutputMap> = {}) => reviewFfmpegOptions({}, [{ ...map, options }], policy);
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
};
/** Resolve every reference to /R + its path, as a stand-in for PathGuard. */
const fake = (review: ReturnType<typeof output>) => review.apply(new Map(review.files.map((f) => [f.field, `/R${f.path.startsWith('/') ? '' : '/'}${f.path}`])));

describe('the issue: option values reached files outside allowedRoots', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sis-policy-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('input_options.vstats_file outside the roots is refused by the path guard', async () => {
    const guard = await createPathGuard({ roots: [root], cwd: root });
    const review = input({ vstats_file: '/elsewhere/v.txt' });
    expect(review.files).toMatchObject([{ field: 'input_options.vstats_file', path: '/elsewhere/v.txt', access: 'write' }]);
    await expect(resolveOptionFiles(review, guard)).rejects.toMatchObject({ code: ErrorCodes.PATH_NOT_ALLOWED, message: expect.stringMatching(/^input_options\.vstats_file "\/elsewhere\/v\.txt" resolves to/) });
  });

  it('output_maps[].options.passlogfile outside the roots is refused; inside, it is passed resolved', async () => {
    const guard = await createPathGuard({ roots: [root], cwd: root });
    await expect(resolveOptionFiles(output({ pass: 1, passlogfile: '/elsewhere/plog' }), guard)).rejects.toMatchObject({ code: ErrorCodes.PATH_NOT_ALLOWED });
    const done = await resolveOptionFiles(output({ pass: 1, passlogfile: 'logs/plog' }), guard);
    expect(done.output_maps[0]!.options).toEqual({ pass: 1, passlogfile: join(root, 'logs/plog') });
  });

  it('a filter that reads a file outside the roots is refused; one inside is rewritten to its resolved path', async () => {
    const guard = await createPathGuard({ roots: [root], cwd: root });
    await expect(resolveOptionFiles(output({ vf: "movie='/etc/pass'wd" }), guard)).rejects.toThrow(/output_maps\[0\]\.options\.vf\[0:movie\]\.filename "\/etc\/passwd" resolves to/);
    const done = await resolveOptionFiles(output({ vf: 'scale=64:-1,drawtext=fontfile=fonts/a b.ttf:text=hi' }), guard);
    const graph = done.output_maps[0]!.options!.vf as string;
    expect(parseFilterGraph(graph)[1]!.items.map((i) => [i.key, i.value])).toEqual([['fontfile', join(root, 'fonts/a b.ttf')], ['text', 'hi']]);
    expect(graph.startsWith('scale=64:-1,drawtext=')).toBe(true);
  });
});

describe('flags: true is only for options that take no value', () => {
  it.each([...FLAG_OPTIONS.keys()].filter((k) => !REFUSED_OPTIONS.has(k)))('%s', (name) => {
    expect(input({ [name]: true }).files).toEqual([]);
    expect(input({ [`no${name}`]: true }).files).toEqual([]);
    expect(refusal(() => input({ [name]: '/elsewhere/out.mkv' }))).toMatch(new RegExp(`^input_options\\.${name} is a flag: give true or false`));
    expect(refusal(() => input({ [name]: 1 }))).toMatch(/is a flag/);
  });

  it.each([...VERSION_DEPENDENT_BOOLS.keys()])('%s (5.1 needs a value, master takes none)', (name) => {
    expect(refusal(() => input({ [name]: true }))).toMatch(new RegExp(`use no${name}: true`));
    expect(refusal(() => input({ [name]: 0 }))).toMatch(/5\.1 needs a value/);
    expect(input({ [name]: false }).files).toEqual([]);
    expect(input({ [`no${name}`]: true }).files).toEqual([]);
  });

  it('true on an option that needs a value, and an empty value, name the field', () => {
    expect(refusal(() => output({ crf: true }))).toBe('output_maps[0].options.crf needs a value (true is only for flags such as shortest)');
    expect(refusal(() => output({ crf: '' }))).toBe('output_maps[0].options.crf needs a value (an empty string is not a flag)');
    expect(refusal(() => input({ dump_attachment: true }))).toMatch(/^input_options\.dump_attachment needs a value/);
    expect(refusal(() => output({ 'x265-params': { csv: '' } }))).toBe('output_maps[0].options["x265-params"].csv needs a value (an empty string is not a flag)');
  });
});

describe('refused options', () => {
  it.each([...REFUSED_OPTIONS.entries()])('%s: %s', (name, reason) => {
    const value = FLAG_OPTIONS.has(name) ? true : 'x';
    const message = refusal(() => input({ [name]: value }));
    expect(message).toBe(`input_options.${name}: -${name} is refused: ${reason}`);
    expect(refusal(() => output({ [name]: value }))).toMatch(/^output_maps\[0\]\.options(\.|\[").+ is refused/);
  });

  it('the negated spelling of a refused flag is refused too', () => {
    expect(refusal(() => input({ nostdin: true }))).toMatch(/-nostdin is refused/);
    expect(refusal(() => input({ nostats: true }))).toMatch(/-nostats is refused/);
  });

  it('a specifier does not hide the option', () => {
    expect(refusal(() => output({ 'filter_script:v': 'x' }))).toMatch(/^output_maps\[0\]\.options\["filter_script:v"\]: -filter_script is refused/);
  });
});

describe('options that name files', () => {
  it.each([...FILE_OPTIONS.entries()])('%s (%s)', (name, option) => {
    const review = output({ [name]: 'sub/f.bin' });
    expect(review.files).toEqual([{ field: `output_maps[0].options${/^[a-z_]+$/.test(name) ? `.${name}` : `["${name}"]`}`, path: 'sub/f.bin', access: option.access, kind: option.kind, reason: option.reason, rewrite: true }]);
    expect(fake(review).output_maps[0]!.options![name]).toBe('/R/sub/f.bin');
    expect(refusal(() => output({ [name]: 'http://example.com/x' }))).toMatch(/uses the "http:" protocol, which the worker does not allow/);
    expect(refusal(() => output({ [name]: '-' }))).toMatch(/"-" is a pipe/);
    expect(output({ [name]: 'file:/abs/f' }, { allowedProtocols: ['file'] }).files[0]).toMatchObject({ path: '/abs/f' });
  });
});

describe('devices', () => {
  it.each([...DEVICE_OPTIONS.keys()].filter((k) => k !== 'init_hw_device'))('%s', (name) => {
    expect(input({ [name]: '0' }).files).toEqual([]);
    expect(input({ [name]: 'gpu1' }).files).toEqual([]);
    expect(input({ [name]: '/dev/dri/renderD128' }).files).toEqual([]);
    expect(input({ [name]: '/elsewhere/dev' }).files).toMatchObject([{ path: '/elsewhere/dev', rewrite: false }]);
    expect(input({ [name]: '/dev/dri/../sda' }).files).toMatchObject([{ path: '/dev/dri/../sda' }]);
    expect(refusal(() => input({ [name]: 'remote:0' }))).toMatch(/neither a device name/);
    expect(refusal(() => input({ [name]: '..' }))).toMatch(/not a device name/);
  });

  it('init_hw_device', () => {
    expect(input({ init_hw_device: 'vaapi=va:/dev/dri/renderD128' }).files).toEqual([]);
    expect(input({ init_hw_device: 'cuda=cu:0' }).files).toEqual([]);
    expect(input({ init_hw_device: 'qsv=hw@va' }).files).toEqual([]);
    expect(input({ init_hw_device: 'qsv=hw:hw,child_device=/dev/dri/renderD128' }).files).toEqual([]);
    expect(input({ init_hw_device: 'vaapi=va:/tmp/x' }).files).toMatchObject([{ field: 'input_options.init_hw_device', path: '/tmp/x' }]);
    expect(input({ init_hw_device: 'qsv=hw:hw,child_device=/tmp/y' }).files).toMatchObject([{ field: 'input_options.init_hw_device.child_device', path: '/tmp/y' }]);
    expect(refusal(() => input({ init_hw_device: 'list' }))).toMatch(/prints information/);
    expect(refusal(() => input({ init_hw_device: 'vaapi:host:0' }))).toMatch(/neither a device name/);
  });
});

describe('formats (-f)', () => {
  it.each([...REFUSED_INPUT_FORMATS.entries()])('input %s', (name, reason) => {
    expect(refusal(() => input({ f: name.toUpperCase() }))).toBe(`input_options.f: format "${name.toUpperCase()}" is refused as an input format: ${reason}`);
  });
  it.each([...REFUSED_OUTPUT_FORMATS.entries()])('output %s', (name, reason) => {
    expect(refusal(() => output({ f: name }))).toBe(`output_maps[0].options.f: format "${name}" is refused as an output format: ${reason}`);
  });
  it('ordinary formats pass', () => {
    expect(input({ f: 'matroska' }).files).toEqual([]);
    expect(output({ f: 'mp4' }).files).toEqual([]);
    expect(output({ f: 'hls' }).files).toEqual([]);
  });
  it('pattern_type glob is refused', () => {
    expect(refusal(() => input({ pattern_type: 'glob' }))).toMatch(/pattern_type glob expands wildcards/);
    expect(input({ pattern_type: 'sequence' }).files).toEqual([]);
  });
});

describe('filters', () => {
  const cases = [...FILTER_FILE_OPTIONS.entries()].flatMap(([filter, options]) => options.flatMap((o) => o.names.map((name) => [filter, name, o] as const)));
  it.each(cases)('%s %s', (filter, name, option) => {
    const review = output({ vf: `${filter}=${name}=/elsewhere/f` });
    expect(review.files).toEqual([{ field: `output_maps[0].options.vf[0:${filter}].${name}`, path: '/elsewhere/f', access: option.access, kind: option.kind, reason: option.reason, rewrite: true, ...(option.media ? { media: true } : {}) }]);
    // Relative values are known files too: resolved against the workdir, then written back escaped.
    const rel = output({ filter_complex: `[0:v]${filter}=${name}='a b,c'[x]` });
    expect(rel.files[0]).toMatchObject({ path: 'a b,c', rewrite: true });
    const graph = fake(rel).output_maps[0]!.options!.filter_complex as string;
    expect(parseFilterGraph(graph)[0]!.items[0]).toMatchObject({ key: name, value: '/R/a b,c' });
    if (option.position !== undefined) {
      const args = [...Array(option.position).fill('1'), '/elsewhere/p'].join(':');
      const found = output({ af: `${filter}=${args}` }).files.find((f) => f.path === '/elsewhere/p');
      expect(found).toMatchObject({ field: `output_maps[0].options.af[0:${filter}].${option.names[0]}`, access: option.access });
    }
    expect(refusal(() => output({ vf: `${filter}=a:${name}=b:/elsewhere/q` }))).toMatch(/a positional value after key=value/);
  });

  it.each([...REFUSED_FILTERS.entries()])('%s is refused', (filter, reason) => {
    expect(refusal(() => output({ vf: `null,${filter}=x` }))).toBe(`output_maps[0].options.vf: filter ${filter} is refused: ${reason}`);
    expect(refusal(() => input({ filter_complex: `'${filter}'` }))).toMatch(/is refused/);
  });

  const refusedOptions = [...FILTER_REFUSED_OPTIONS.entries()].flatMap(([filter, options]) => [...options].map(([name, reason]) => [filter, name, reason] as const));
  it.each(refusedOptions)('%s %s is refused', (filter, name, reason) => {
    expect(refusal(() => output({ vf: `${filter}=${name}=x` }))).toBe(`output_maps[0].options.vf[0:${filter}].${name}: refused: ${reason}`);
  });

  const formatOptions = [...FILTER_FORMAT_OPTIONS.entries()].flatMap(([filter, names]) => names.map((n) => [filter, n] as const));
  it.each(formatOptions)('%s %s uses the input format rules', (filter, name) => {
    expect(refusal(() => output({ vf: `${filter}=in.mkv:${name}=v4l2` }))).toMatch(/format "v4l2" is refused as an input format/);
  });

  it('unknown filters go through the safety net; option names starting with / are refused', () => {
    expect(output({ vf: 'scale=w=iw/2:h=-2,fps=30000/1001' }).files).toEqual([]);
    expect(output({ vf: 'newfilter=x=/elsewhere/y' }).files).toMatchObject([{ path: '/elsewhere/y', access: 'unknown' }]);
    expect(output({ vf: 'newfilter=x=../y' }).files).toMatchObject([{ path: '../y' }]);
    expect(refusal(() => output({ vf: 'drawtext=/fontfile=x' }))).toMatch(/loads its value from a file/);
    expect(refusal(() => output({ vf: 'null=a]b' }))).toMatch(/not a filter graph ffmpeg can parse/);
    expect(output({ apad: 'whole_len=10' }).files).toEqual([]);
    expect(output({ apad: 'x=/elsewhere/a' }).files).toMatchObject([{ path: '/elsewhere/a' }]);
  });

  it('instance names and quoting do not hide a filter', () => {
    expect(output({ vf: "movie@logo='/x\\,y'" }).files).toMatchObject([{ path: '/x,y' }]);
    expect(output({ filter: "'mov'ie=/x" }).files).toMatchObject([{ path: '/x' }]);
    expect(refusal(() => output({ vf: "'send'cmd=f=x" }))).toMatch(/filter sendcmd is refused/);
  });
});

describe('encoder parameters and nested option dictionaries', () => {
  const cases = [...KV_OPTIONS.entries()].flatMap(([option, kv]) => [...kv.fileKeys].map(([key, file]) => [option, key, file] as const));
  it.each(cases)('%s %s', (option, key, file) => {
    const fromString = output({ [option]: `crf=20:${key}=/elsewhere/k` });
    expect(fromString.files).toMatchObject([{ field: optionField(optionField('output_maps[0].options', option), key), path: '/elsewhere/k', access: file.access, reason: file.reason }]);
    expect(fake(output({ [option]: `${key}=rel/k:crf=20` })).output_maps[0]!.options![option]).toBe(`${key}=/R/rel/k:crf=20`);
    const fromObject = output({ [option]: { [key]: 'rel/k', crf: 20 } });
    expect(fake(fromObject).output_maps[0]!.options![option]).toEqual({ [key]: '/R/rel/k', crf: 20 });
    for (const keyword of file.keywords ?? []) expect(output({ [option]: { [key]: keyword } }).files).toEqual([]);
  });

  const refusedKeys = [...KV_OPTIONS.entries()].flatMap(([option, kv]) => [...kv.refusedKeys].map(([key, reason]) => [option, key, reason] as const));
  it.each(refusedKeys)('%s %s is refused', (option, key, reason) => {
    expect(refusal(() => output({ [option]: `${key}=x` }))).toBe(`${optionField(optionField('output_maps[0].options', option), key)}: refused: ${reason}`);
  });

  it('escapes in a parameter string are read as ffmpeg reads them, and written back escaped', () => {
    const review = output({ 'x265-params': "csv='a:b.csv':crf=20" });
    expect(review.files).toMatchObject([{ path: 'a:b.csv' }]);
    expect(fake(review).output_maps[0]!.options!['x265-params']).toBe('csv=/R/a\\:b.csv:crf=20');
    expect(refusal(() => output({ 'x265-params': 'crf' }))).toMatch(/must be key=value pairs/);
  });

  it('x264opts has no escapes; kvazaar-params pairs are separated by commas', () => {
    expect(output({ x264opts: 'stats=/elsewhere/s:crf=20' }).files).toMatchObject([{ path: '/elsewhere/s' }]);
    expect(output({ 'kvazaar-params': 'preset=fast,x=/elsewhere/k' }).files).toMatchObject([{ path: '/elsewhere/k' }]);
  });

  it('entries of nested dictionaries are reviewed as options', () => {
    for (const option of [...KV_OPTIONS].filter(([, kv]) => kv.nestedOptions).map(([name]) => name)) {
      expect(refusal(() => output({ [option]: 'segment_list=/x' }))).toMatch(/-segment_list is refused/);
      expect(output({ [option]: 'movflags=+faststart' }).files).toEqual([]);
      expect(output({ [option]: 'ifo_palette=/elsewhere/p.ifo' }).files).toMatchObject([{ path: '/elsewhere/p.ifo', access: 'read' }]);
    }
  });
});

describe('protocols and the safety net', () => {
  it.each([...PROTOCOLS])('%s:', (protocol) => {
    expect(refusal(() => output({ somefutureoption: `${protocol}:x` }))).toMatch(new RegExp(`uses the "${protocol}:" protocol, which the worker does not allow`));
    const allowed = output({ somefutureoption: `${protocol}:x` }, { allowedProtocols: [protocol] });
    if (protocol === 'file') expect(allowed.files).toMatchObject([{ path: 'x' }]);
    else expect(allowed.urls).toEqual([{ field: 'output_maps[0].options.somefutureoption', url: `${protocol}:x`, protocol }]);
  });

  it('nested and old-style protocol spellings are caught', () => {
    expect(refusal(() => output({ x: 'crypto+file:/x' }))).toMatch(/"crypto\+file:" protocol/);
    expect(refusal(() => output({ x: 'subfile,,start,0,end,1,,:/x' }))).toMatch(/"subfile:" protocol/);
    expect(refusal(() => output({ x: 'model=path=http://h/m' }))).toMatch(/"http:" protocol/);
  });

  it('absolute paths and .. are file references; relative plain values are left alone', () => {
    expect(output({ x: 'rel/file' }).files).toEqual([]);
    expect(output({ x: '00:10:00' }).files).toEqual([]);
    expect(output({ x: '/abs' }).files).toMatchObject([{ field: 'output_maps[0].options.x', path: '/abs', rewrite: true, access: 'unknown' }]);
    expect(output({ x: 'a/../../b' }).files).toMatchObject([{ path: 'a/../../b', rewrite: true }]);
    expect(output({ x: 'path=/abs/m.json|name=x' }).files).toMatchObject([{ path: '/abs/m.json', rewrite: false }]);
    expect(refusal(() => output({ x: 'path=../m.json' }))).toMatch(/relative path with "\.\."/);
  });

  it('metadata and program values are text, never opened', () => {
    expect(output({ metadata: 'comment=/etc/passwd is a file' }).files).toEqual([]);
    expect(output({ metadata: { comment: '/etc/passwd', url: 'http://x' } }).files).toEqual([]);
    expect(output({ program: 'title=/x:st=0' }).files).toEqual([]);
  });
});

describe('reviewPathField: inputs and outputs are files', () => {
  it.each(['-', 'pipe:1', 'concat:a.mkv|b.mkv', 'http://h/x.mkv', 'tcp://h:1', 'subfile,,start,0,end,1,,:a.mkv', 'file:a.mkv'])('%s is refused by default', (value) => {
    expect(refusal(() => reviewPathField(value, 'sources[0]'))).toMatch(/^sources\[0\]: .* not a file; protocols must be allowed by name/);
  });
  it('plain paths pass; allowed protocols pass by name; file: is a path again', () => {
    expect(reviewPathField('/a/b.mkv', 'output_file')).toEqual({ kind: 'path', path: '/a/b.mkv' });
    expect(reviewPathField('dir/a:b.mkv', 'output_file')).toEqual({ kind: 'path', path: 'dir/a:b.mkv' });
    // Only protocols ffmpeg has (or the worker allows) make a URL; the module hands ffmpeg absolute paths.
    expect(reviewPathField('Alien: Romulus.mkv', 'output_file')).toEqual({ kind: 'path', path: 'Alien: Romulus.mkv' });
    expect(reviewPathField('unknownproto:x', 'sources[0]')).toEqual({ kind: 'path', path: 'unknownproto:x' });
    expect(reviewPathField('myproto://x', 'sources[0]', { allowedProtocols: ['myproto'] })).toEqual({ kind: 'url', protocol: 'myproto' });
    expect(reviewPathField('https://h/x', 'sources[0]', { allowedProtocols: ['https'] })).toEqual({ kind: 'url', protocol: 'https' });
    expect(reviewPathField('file:/a/b.mkv', 'sources[0]', { allowedProtocols: ['file'] })).toEqual({ kind: 'path', path: '/a/b.mkv' });
    expect(() => reviewPathField('crypto+file:/a', 'sources[0]', { allowedProtocols: ['file'] })).toThrow(ValidationError);
  });
});

describe('outputKind', () => {
  const kind = (output_file: string, options: Options = {}) => outputKind({ output_file } as FfmpegData, [{ options }]);
  it.each<[string, Options, string]>([
    ['out.mkv', {}, 'file'],
    ['out.mkv', { f: 'null' }, 'null'],
    ['/dev/null', {}, 'null'],
    ['frames/%04d.png', {}, 'sequence'],
    ['frames/img%d.jpg', {}, 'sequence'],
    ['frames/%d.raw', { f: 'image2' }, 'sequence'],
    ['frames/100%%.png', {}, 'file'],
    ['still.png', {}, 'file'],
    ['frames/%03d.mkv', {}, 'file'],
    ['list.m3u8', {}, 'segments'],
    ['manifest.mpd', {}, 'segments'],
    ['seg%03d.ts', { f: 'segment' }, 'segments'],
    ['x.csv', { f: 'ssegment' }, 'segments'],
    ['x.ts', { f: 'stream_segment' }, 'segments'],
    ['x', { f: 'hls' }, 'segments'],
    ['x', { f: 'dash' }, 'segments'],
    ['list.m3u8', { f: 'mpegts' }, 'file'],
  ])('%s %j -> %s', (file, options, expected) => {
    expect(kind(file, options)).toBe(expected);
  });
});

describe('rewritten graphs are read by the real ffmpeg as the resolved path', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sis q'uote,; "));
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub', 'f.cube'), 'LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lut3d file with quotes, commas, semicolons and spaces in the folder name', async () => {
    const guard = await createPathGuard({ roots: [dir], cwd: dir });
    const done = await resolveOptionFiles(output({ filter_complex: "color=s=16x16:d=0.2,lut3d=file='sub/f.cube'" }), guard);
    const graph = done.output_maps[0]!.options!.filter_complex as string;
    const { stderr } = await execa('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'debug', '-f', 'lavfi', '-i', graph, '-t', '0.2', '-f', 'null', '-']);
    expect(stderr).toContain(`Setting 'file' to value '${join(dir, 'sub', 'f.cube')}'`);
  });
});
