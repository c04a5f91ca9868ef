import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { ErrorCodes, RunError, ValidationError, createPathGuard } from '@sisyphus/core';
import {
  MKVMERGE_OPTIONS,
  MKVMERGE_OPTION_SPELLINGS,
  buildMkvmergeArgs,
  checkEmbeddedFiles,
  findEmbeddedFileNames,
  findMkvOption,
  outputKind,
  reviewMkvmergeOptions,
  type MkvOptionScope,
  type MkvOptionSpec,
  type MkvmergeData,
} from '@sisyphus/module-mkvmerge';

type Options = NonNullable<MkvmergeData['options']>;

const base = (): MkvmergeData => ({ sources: [{ filename: '/media/in.mkv' }], tracks: [{ source: 0, track: 0 }], output_file: '/media/out.mkv' });

/** Data with `options` placed in `scope` (tracks[0] is track 2 of the source). */
function withOptions(scope: MkvOptionScope, options: Options): MkvmergeData {
  const data = base();
  if (scope === 'global') data.options = options;
  if (scope === 'source') data.sources[0]!.options = options;
  if (scope === 'track') data.tracks = [{ source: 0, track: 2, options }];
  return data;
}
const PREFIX: Record<MkvOptionScope, string> = { global: 'options', source: 'sources[0].options', track: 'tracks[0].options' };
const field = (scope: MkvOptionScope, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${PREFIX[scope]}.${key}` : `${PREFIX[scope]}[${JSON.stringify(key)}]`);

/** Full argv of a one-source job whose source has video tracks 0 and 2. */
const argv = (data: MkvmergeData, files: Record<string, string> = {}) => buildMkvmergeArgs(data, [[{ id: 0, type: 'video' }, { id: 2, type: 'video' }]], [], data.output_file, files);
/** The argv the options give: without `--gui-mode --output OUT`, the track selection, the file and `--track-order`. */
function optionArgv(data: MkvmergeData, files: Record<string, string> = {}): string[] {
  const args = argv(data, files).slice(3, -3);
  const selection = args.indexOf('--video-tracks');
  if (selection >= 0) args.splice(selection, 2);
  return args;
}

function refusal(data: MkvmergeData): string {
  try {
    reviewMkvmergeOptions(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe(ErrorCodes.VALIDATION);
    // Also the builder refuses it: it never emits what the review refuses.
    expect(() => argv(data)).toThrow((error as Error).message);
    return (error as Error).message;
  }
  throw new Error(`expected a ValidationError for ${JSON.stringify(data)}`);
}

const SCOPES: MkvOptionScope[] = ['global', 'source', 'track'];
const spellings = (spec: MkvOptionSpec) => [spec.name, ...(spec.aliases ?? [])];

describe('the option table', () => {
  it('knows every option `mkvmerge --help` lists', async () => {
    const { stdout } = await execa('mkvmerge', ['--help']);
    const long = new Set([...stdout.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
    const short = new Set([...stdout.matchAll(/^\s+(-[A-Za-z?])[,\s]/gm)].map((m) => m[1]!));
    expect(long.size).toBeGreaterThan(100);
    expect([...long].filter((o) => !MKVMERGE_OPTION_SPELLINGS.has(o))).toEqual([]);
    expect([...short].filter((o) => !MKVMERGE_OPTION_SPELLINGS.has(o))).toEqual([]);
  });

  it('has one entry per spelling, and gives every option a scope or a reason', () => {
    const names = MKVMERGE_OPTIONS.flatMap(spellings);
    expect(new Set(names).size).toBe(names.length);
    for (const spec of MKVMERGE_OPTIONS) {
      expect(spec.scopes.length > 0 !== Boolean(spec.refused), spec.name).toBe(true);
      if (spec.scopes.includes('track')) expect(spec.value, spec.name).toMatch(/^tid/);
    }
  });

  it('lists these options as naming files (and nothing else)', () => {
    const files = MKVMERGE_OPTIONS.filter((s) => s.file).map((s) => `${s.name} ${s.file!.access}${s.file!.xml ? ' xml' : ''}${s.refused ? ' refused' : ''}`);
    expect(files.sort()).toEqual([
      'attach-file read',
      'attach-file-once read',
      'chapters read xml',
      'global-tags read xml',
      'link-to-next read',
      'link-to-previous read',
      'output write refused',
      'redirect-output write refused',
      'segment-uid read',
      'segmentinfo read xml',
      'tags read xml',
      'timestamps read',
    ]);
    expect(findMkvOption('timecodes')).toBe(findMkvOption('timestamps'));
    expect(findMkvOption('generate-chapters-name-template')?.file).toBeUndefined();
  });
});

describe('options that name files', () => {
  // One case per file-naming option and scope: the value the job writes, the reference, and the argument built.
  const cases: Array<{ scope: MkvOptionScope; key: string; value: string; refs: Array<[string, string]>; arg: string }> = [
    { scope: 'global', key: 'attach-file', value: 'extras/notes.txt', refs: [['options["attach-file"]', 'extras/notes.txt']], arg: '/R/notes.txt' },
    { scope: 'global', key: 'attach-file-once', value: 'extras/notes.txt', refs: [['options["attach-file-once"]', 'extras/notes.txt']], arg: '/R/notes.txt' },
    { scope: 'global', key: 'chapters', value: 'chapters.xml', refs: [['options.chapters', 'chapters.xml']], arg: '/R/chapters.xml' },
    { scope: 'global', key: 'global-tags', value: 'tags.xml', refs: [['options["global-tags"]', 'tags.xml']], arg: '/R/tags.xml' },
    { scope: 'global', key: 'segmentinfo', value: 'info.xml', refs: [['options.segmentinfo', 'info.xml']], arg: '/R/info.xml' },
    { scope: 'global', key: 'link-to-previous', value: '=prev.mkv', refs: [['options["link-to-previous"]', 'prev.mkv']], arg: '=/R/prev.mkv' },
    { scope: 'global', key: 'link-to-next', value: '=next.mkv', refs: [['options["link-to-next"]', 'next.mkv']], arg: '=/R/next.mkv' },
    {
      scope: 'global',
      key: 'segment-uid',
      value: '=a.mkv,0x00112233445566778899aabbccddeeff,=b.mkv',
      refs: [['options["segment-uid"][0]', 'a.mkv'], ['options["segment-uid"][2]', 'b.mkv']],
      arg: '=/R/a.mkv,0x00112233445566778899aabbccddeeff,=/R/b.mkv',
    },
    { scope: 'track', key: 'tags', value: 'track-tags.xml', refs: [['tracks[0].options.tags', 'track-tags.xml']], arg: '2:/R/track-tags.xml' },
    { scope: 'source', key: 'tags', value: '1:track-tags.xml', refs: [['sources[0].options.tags', 'track-tags.xml']], arg: '1:/R/track-tags.xml' },
    { scope: 'global', key: 'tags', value: '-1:track-tags.xml', refs: [['options.tags', 'track-tags.xml']], arg: '-1:/R/track-tags.xml' },
    { scope: 'track', key: 'timestamps', value: 'ts.txt', refs: [['tracks[0].options.timestamps', 'ts.txt']], arg: '2:/R/ts.txt' },
    { scope: 'track', key: 'timecodes', value: 'ts.txt', refs: [['tracks[0].options.timecodes', 'ts.txt']], arg: '2:/R/ts.txt' },
    { scope: 'source', key: 'timestamps', value: '0: a:b.txt', refs: [], arg: '' }, // white space before the name: refused below
    { scope: 'source', key: 'timecodes', value: '0:a:b.txt', refs: [['sources[0].options.timecodes', 'a:b.txt']], arg: '0:/R/a:b.txt' },
  ];

  it.each(cases.filter((c) => c.refs.length))('$scope $key $value', ({ scope, key, value, refs, arg }) => {
    const data = withOptions(scope, { [key]: value });
    const { files } = reviewMkvmergeOptions(data);
    const spec = findMkvOption(key)!;
    expect(files).toEqual(refs.map(([f, v]) => ({ field: f, value: v, access: 'read', kind: 'file', option: spec.name, xml: spec.file!.xml === true })));
    const resolved = Object.fromEntries(refs.map(([f, v]) => [f, `/R/${v.split('/').pop()}`]));
    const args = argv(data, resolved);
    expect(args[args.indexOf(`--${key}`) + 1]).toBe(arg);
    // Never the job's own value: without the resolved path the builder stops.
    expect(() => argv(data)).toThrow(`no resolved path for ${refs[0]![0]}`);
  });

  it('the issue\'s case: attach-file from outside the allowed roots is a reference the path guard refuses', async () => {
    const data = withOptions('global', { 'attachment-mime-type': 'text/plain', 'attach-file': '/elsewhere/secret.txt' });
    const { files } = reviewMkvmergeOptions(data);
    expect(files).toEqual([{ field: 'options["attach-file"]', value: '/elsewhere/secret.txt', access: 'read', kind: 'file', option: 'attach-file', xml: false }]);
    const dir = await mkdtemp(join(tmpdir(), 'sis-policy-'));
    try {
      const guard = await createPathGuard({ roots: [dir], cwd: dir });
      await expect(guard.check(files[0]!.value, files[0]!.field)).rejects.toMatchObject({
        code: ErrorCodes.PATH_NOT_ALLOWED,
        message: expect.stringMatching(/^options\["attach-file"\] "\/elsewhere\/secret.txt" resolves to .* outside the allowed roots/),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // In the key order the MIME type follows the file, so it would bind to the next attachment.
    expect(refusal(withOptions('global', { 'attach-file': '/elsewhere/secret.txt', 'attachment-mime-type': 'text/plain' }))).toBe(
      'options["attachment-mime-type"] applies to the attach-file that follows it, and none follows; list attachments in attachments[] instead',
    );
  });

  it.each([
    [{ scope: 'global', options: { chapters: '' } }, 'options.chapters needs a value'],
    [{ scope: 'global', options: { chapters: ' chapters.xml' } }, 'options.chapters: the file name " chapters.xml" starts or ends with white space'],
    [{ scope: 'source', options: { timestamps: '0: a:b.txt' } }, 'sources[0].options.timestamps: the file name " a:b.txt" starts or ends with white space'],
    [{ scope: 'global', options: { chapters: '/dvd/VIDEO_TS:2' } }, 'options.chapters: a DVD title suffix (:2) is not supported'],
    [{ scope: 'source', options: { tags: 'tags.xml' } }, 'sources[0].options.tags needs a track id and a value (TID:VALUE, e.g. 1:FILE)'],
    [{ scope: 'source', options: { tags: '0:' } }, 'sources[0].options.tags needs a value after the track id (TID:VALUE)'],
    [{ scope: 'track', options: { tags: null } }, 'tracks[0].options.tags needs a value'],
    [{ scope: 'global', options: { 'link-to-next': '=' } }, null],
  ] as const)('%j: %s', (c, message) => {
    const data = withOptions(c.scope, c.options as Options);
    if (message === null) expect(reviewMkvmergeOptions(data).files).toEqual([]); // a lone `=` is a (bad) UID, not a file
    else expect(refusal(data)).toBe(message);
  });
});

describe('refused options', () => {
  const refused = MKVMERGE_OPTIONS.filter((s) => s.refused);
  it('covers what breaks the module or exits without muxing', () => {
    expect(refused.map((s) => s.name).sort()).toEqual(
      [
        'append-mode', 'append-to', 'audio-tracks', 'button-tracks', 'capabilities', 'command-line-charset', 'debug', 'engage', 'gui-mode',
        'help', 'identification-format', 'identify', 'J', 'list-audio-emphasis', 'list-languages', 'list-stereo-modes', 'list-types',
        'meta-seek-size', 'nalu-size-length', 'no-audio', 'no-buttons', 'no-subtitles', 'no-video', 'output', 'output-charset', 'quiet',
        'redirect-output', 'subtitle-tracks', 'track-order', 'ui-language', 'version', 'video-tracks',
      ].sort(),
    );
  });

  const cases = refused.flatMap((spec) =>
    [...spellings(spec), ...(spec.short ? [spec.short] : [])].flatMap((key) => SCOPES.map((scope) => ({ scope, key, reason: spec.refused! }))),
  );
  it.each(cases)('$scope $key', ({ scope, key, reason }) => {
    // Any value, even false: a refused option is refused, not ignored.
    for (const value of ['x', null, false]) expect(refusal(withOptions(scope, { [key]: value }))).toBe(`${field(scope, key)} is not allowed: ${reason}`);
  });
});

describe('unknown options and options out of place', () => {
  it.each([
    ['global', 'nonsense', 'options.nonsense is not an mkvmerge option'],
    ['source', 'nonsense', 'sources[0].options.nonsense is not an mkvmerge option for a source file'],
    ['track', 'no-such-flag', 'tracks[0].options["no-such-flag"] is not an mkvmerge option for a track'],
    ['track', 'title', 'tracks[0].options.title is not an mkvmerge option for a track: --title is a global option (options)'],
    ['source', 'title', 'sources[0].options.title is not an mkvmerge option for a source file: --title is a global option (options)'],
    ['track', 'no-chapters', 'tracks[0].options["no-chapters"] is not an mkvmerge option for a track: --no-chapters is a global option (options) or a source-file option (sources[].options)'],
    ['source', 'attach-file', 'sources[0].options["attach-file"] is not an mkvmerge option for a source file: --attach-file is a global option (options)'],
    ['source', 'M', "sources[0].options.M: write mkvmerge's long option name (no-attachments), not -M"],
    ['global', 'tracks', 'options.tracks is not an mkvmerge option'],
  ] as const)('%s %s', (scope, key, message) => {
    expect(refusal(withOptions(scope, { [key]: null }))).toBe(message);
  });

  it('every allowed option is refused in the positions it does not belong to', () => {
    for (const spec of MKVMERGE_OPTIONS.filter((s) => !s.refused)) {
      for (const scope of SCOPES.filter((s) => !spec.scopes.includes(s))) {
        expect(refusal(withOptions(scope, { [spec.name]: 'x' }))).toMatch(new RegExp(`^${field(scope, spec.name).replace(/[[\]."]/g, '\\$&')} is not an mkvmerge option for a (track|source file): --${spec.name} is `));
      }
    }
  });

  it('two spellings of one option are refused', () => {
    expect(refusal(withOptions('track', { timestamps: 'a.txt', timecodes: 'b.txt' }))).toBe(
      'tracks[0].options.timestamps and tracks[0].options.timecodes are the same mkvmerge option (--timestamps); give it once',
    );
  });

  it('_ keys are never passed on, false leaves an option out, _copy-* still keeps tracks', () => {
    const data = withOptions('source', { _note: 'x', 'no-chapters': false, 'no-global-tags': null, '_copy-video-tracks': true });
    expect(argv(data)).toEqual(['--gui-mode', '--output', '/media/out.mkv', '--no-global-tags', '/media/in.mkv', '--track-order', '0:0']);
  });
});

describe('null and empty values', () => {
  it("the issue's case: `title:` with nothing after it is an error, not a bare --title that swallows --no-global-tags", () => {
    const options = parseYaml('title:\nno-global-tags:\n') as Options;
    expect(options).toEqual({ title: null, 'no-global-tags': null });
    expect(refusal(withOptions('global', options))).toBe('options.title needs a value');
  });

  it('null and true are bare flags exactly for the options that take no value', () => {
    for (const spec of MKVMERGE_OPTIONS.filter((s) => !s.refused)) {
      for (const scope of spec.scopes) {
        for (const value of [null, true]) {
          const data = withOptions(scope, { [spec.name]: value });
          const f = field(scope, spec.name);
          if (scope !== 'track' && spec.value === 'none') expect(argv(data)).toContain(`--${spec.name}`);
          else if (scope === 'track' && (spec.value === 'tid' || spec.value === 'tid-bool')) {
            const args = argv(data);
            expect(args.slice(args.indexOf(`--${spec.name}`), args.indexOf(`--${spec.name}`) + 2)).toEqual([`--${spec.name}`, '2']);
          } else if (spec.value === 'value' || (scope === 'track' && spec.value === 'tid-value')) expect(refusal(data)).toBe(`${f} needs a value`);
          else if (spec.value === 'tid-value') expect(refusal(data)).toBe(`${f} needs a value (TID:VALUE): --${spec.name}`);
          else expect(refusal(data)).toMatch(new RegExp(`^${f.replace(/[[\]."]/g, '\\$&')} needs a track id`));
        }
      }
    }
  });

  it.each([
    // mkvmerge would take these as "no title" / "no name", but an empty value is usually a template that rendered empty.
    ['global', { title: '' }, 'options.title needs a value', null],
    ['track', { 'track-name': '' }, 'tracks[0].options["track-name"] needs a value', null],
    ['source', { 'track-name': '1:' }, 'sources[0].options["track-name"] needs a value after the track id (TID:VALUE)', null],
    ['global', { split: ' ' }, 'options.split needs a value', null],
    ['global', { 'default-language': true }, 'options["default-language"] needs a value', null],
    ['track', { language: '' }, 'tracks[0].options.language needs a value', null],
    ['track', { 'forced-display-flag': '' }, 'tracks[0].options["forced-display-flag"] needs a value (or null for the bare flag)', null],
    ['global', { 'no-cues': 'yes' }, 'options["no-cues"] takes no value; write null or true (false leaves it out)', null],
    ['source', { 'no-chapters': 1 }, 'sources[0].options["no-chapters"] takes no value; write null or true (false leaves it out)', null],
    ['track', { 'reduce-to-core': 'yes' }, 'tracks[0].options["reduce-to-core"] takes no value (the module adds the track id); write null or true', null],
  ] as const)('%s %j', (scope, options, message, args) => {
    const data = withOptions(scope, options as Options);
    if (message) expect(refusal(data)).toBe(message);
    else expect(optionArgv(data)).toEqual(expect.arrayContaining([...args!]));
  });
});

describe('TID forms', () => {
  it('track options: the module adds the track id; TID-only and TID[:bool] forms', () => {
    const data = withOptions('track', {
      language: 'jpn',
      'reduce-to-core': null,
      'remove-dialog-normalization-gain': true,
      'forced-display-flag': null,
      'default-track-flag': 'no',
      'aac-is-sbr': 1,
      sync: -200,
      'track-name': '--webm', // after "2:" mkvmerge cannot take it for an option
    });
    expect(argv(data)).toEqual([
      '--gui-mode', '--output', '/media/out.mkv',
      '--video-tracks', '2',
      '--language', '2:jpn', '--reduce-to-core', '2', '--remove-dialog-normalization-gain', '2', '--forced-display-flag', '2',
      '--default-track-flag', '2:no', '--aac-is-sbr', '2:1', '--sync', '2:-200', '--track-name', '2:--webm',
      '/media/in.mkv', '--track-order', '0:2',
    ]);
  });

  it('source (and global) options: the job writes the track id', () => {
    const data = withOptions('source', { language: '1:jpn', 'reduce-to-core': 1, 'default-track-flag': '1:0', 'forced-display-flag': '-1', sync: '-2:300' });
    expect(optionArgv(data)).toEqual(['--language', '1:jpn', '--reduce-to-core', '1', '--default-track-flag', '1:0', '--forced-display-flag', '-1', '--sync', '-2:300']);
    expect(optionArgv(withOptions('global', { language: '0:fre' }))).toEqual(['--language', '0:fre']);
  });

  it.each([
    ['source', { language: 'jpn' }, 'sources[0].options.language needs a track id and a value (TID:VALUE, e.g. 1:VALUE)'],
    ['source', { 'reduce-to-core': null }, 'sources[0].options["reduce-to-core"] needs a track id (e.g. 2): --reduce-to-core TID'],
    ['source', { 'reduce-to-core': '1:yes' }, 'sources[0].options["reduce-to-core"] needs a track id (e.g. 2): --reduce-to-core TID'],
    ['source', { 'default-track-flag': 'yes' }, 'sources[0].options["default-track-flag"] needs a track id (e.g. 2 or 2:0): --default-track-flag TID[:bool]'],
    ['global', { sync: 200 }, 'options.sync needs a track id and a value (TID:VALUE, e.g. 1:VALUE)'],
  ] as const)('%s %j', (scope, options, message) => {
    expect(refusal(withOptions(scope, options as Options))).toBe(message);
  });
});

describe('values mkvmerge would misread', () => {
  it.each(['--list-types', '-J', '--redirect-output', '--webm', '-o', '--gui-mode', '--command-line-charset', '-?', '--timecodes'])(
    'options.title %s',
    (title) => {
      expect(refusal(withOptions('global', { title }))).toBe(`options.title: the value ${JSON.stringify(title)} is an mkvmerge option name, and mkvmerge would read it as one`);
    },
  );
  it('other values starting with - or @ are fine, and a NUL is not', () => {
    expect(optionArgv(withOptions('global', { 'chapter-sync': '-200', title: '@home', 'generate-chapters-name-template': '--<NUM>--' }))).toEqual([
      '--chapter-sync', '-200', '--title', '@home', '--generate-chapters-name-template', '--<NUM>--',
    ]);
    expect(refusal(withOptions('global', { title: 'a\0b' }))).toBe('options.title contains a NUL character');
  });
  it('chapter options that mkvmerge needs before --chapters', () => {
    expect(refusal(withOptions('global', { chapters: 'c.xml', 'chapter-language': 'ger' }))).toBe('options["chapter-language"] must come before options.chapters (mkvmerge reads options in order)');
    expect(refusal(withOptions('global', { 'generate-chapters': 'interval:10s', 'chapter-language': 'ger' }))).toBe(
      'options["chapter-language"] must come before options["generate-chapters"] (mkvmerge reads options in order)',
    );
    expect(reviewMkvmergeOptions(withOptions('global', { 'chapter-language': 'ger', 'cue-chapter-name-format': '%t', chapters: 'c.xml' })).files).toHaveLength(1);
  });
});

describe('attachments the module passes on', () => {
  it('names and descriptions that are option names are refused (a file called -J would switch mkvmerge to identification)', () => {
    const data = (attachments: MkvmergeData['attachments']) => ({ ...base(), attachments });
    expect(refusal(data([{ filename: 'fonts/-J' }]))).toBe('attachments[0]: the file name "-J" is an mkvmerge option name, and mkvmerge would read it as one; give a name');
    expect(reviewMkvmergeOptions(data([{ filename: 'fonts/-J', name: 'J.ttf' }])).files).toEqual([]);
    expect(refusal(data([{ filename: 'a.ttf', name: '--list-types' }]))).toBe('attachments[0].name: the value "--list-types" is an mkvmerge option name, and mkvmerge would read it as one');
    expect(refusal(data([{ filename: 'a.ttf', description: '-r' }]))).toBe('attachments[0].description: the value "-r" is an mkvmerge option name, and mkvmerge would read it as one');
    // Files found in attachment_directories are only known at run time: the builder refuses them.
    expect(() => buildMkvmergeArgs(base(), [[{ id: 0, type: 'video' }]], [{ path: '/fonts/--webm', name: '--webm', mimeType: 'font/ttf' }])).toThrow(
      new RunError('attachment /fonts/--webm: "--webm" is an mkvmerge option name, and mkvmerge would read it as one'),
    );
  });

  it('a resolved path mkvmerge would trim or split is refused at build time', () => {
    expect(() => argv(withOptions('track', { tags: 't.xml' }), { 'tracks[0].options.tags': '/R/t.xml ' })).toThrow(
      'tracks[0].options.tags resolves to "/R/t.xml ", which starts or ends with white space',
    );
    expect(() => argv(withOptions('global', { 'segment-uid': '=a.mkv' }), { 'options["segment-uid"][0]': '/R,S/a.mkv' })).toThrow(
      'options["segment-uid"][0] resolves to /R,S/a.mkv, whose comma mkvmerge would take as a separator',
    );
  });
});

describe('outputKind', () => {
  it.each([
    [undefined, 'file'],
    [false, 'file'],
    ['50M', 'segments'],
    ['timestamps:00:00:10,00:00:20', 'segments'],
    ['chapters:all', 'segments'],
    ['parts:00:01:00-00:02:00', 'file'],
    ['parts:00:01:00-00:02:00,+00:03:00-00:04:00', 'file'],
    ['parts:00:01:00-00:02:00,00:03:00-00:04:00', 'segments'],
    ['parts-frames:10-20,30-40', 'segments'],
  ] as const)('split %j -> %s', (split, kind) => {
    expect(outputKind(withOptions('global', split === undefined ? {} : { split }))).toBe(kind);
  });
});

describe('files named inside XML files', () => {
  const tags = (simple: string) => `<?xml version="1.0"?>\n<Tags><Tag><Targets/><Simple><Name>X</Name>${simple}</Simple></Tag></Tags>\n`;
  it.each([
    ['<String>plain, x@example.org</String>', []],
    ['<Binary>@/etc/passwd</Binary>', ['/etc/passwd']],
    ['<Binary>  @secret.bin </Binary>', ['secret.bin']],
    ['<Binary>&#64;/etc/passwd</Binary>', ['/etc/passwd']],
    ['<Binary>&#x40;/etc/passwd</Binary>', ['/etc/passwd']],
    ['<Binary><![CDATA[ @/etc/passwd]]></Binary>', ['/etc/passwd']],
    ['<Binary><!-- note -->@/etc/passwd</Binary>', ['/etc/passwd']],
  ])('%s', (simple, names) => {
    expect(findEmbeddedFileNames(Buffer.from(tags(simple)))).toEqual({ names });
  });
  it('attributes, UTF-16 with and without a BOM, and encodings it cannot scan', () => {
    expect(findEmbeddedFileNames(Buffer.from('<Tags><Tag><Simple Binary="@/etc/passwd"/></Tag></Tags>'))).toEqual({ names: ['/etc/passwd'] });
    const u16 = Buffer.from(tags('<Binary>@/etc/passwd</Binary>'), 'utf16le');
    expect(findEmbeddedFileNames(Buffer.concat([Buffer.from([0xff, 0xfe]), u16]))).toEqual({ names: ['/etc/passwd'] });
    expect(findEmbeddedFileNames(u16)).toEqual({ names: ['/etc/passwd'] });
    expect(findEmbeddedFileNames(Buffer.from(tags('<Binary>+AEA-/etc/passwd</Binary>').replace('version="1.0"', 'version="1.0" encoding="UTF-7"')))).toEqual({ encoding: 'UTF-7' });
    expect(findEmbeddedFileNames(Buffer.from(tags('<String>x</String>').replace('version="1.0"', 'version="1.0" encoding="ISO-8859-1"')))).toEqual({ names: [] });
  });
  it('checkEmbeddedFiles throws the phase\'s error naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sis-policy-'));
    try {
      const file = join(dir, 'tags.xml');
      await writeFile(file, tags('<Binary>@/etc/passwd</Binary>'));
      await expect(checkEmbeddedFiles(file, 'tracks[0].options.tags', 'validate')).rejects.toThrow(ValidationError);
      await expect(checkEmbeddedFiles(file, 'tracks[0].options.tags', 'run')).rejects.toThrow(RunError);
      await expect(checkEmbeddedFiles(file, 'tracks[0].options.tags', 'run')).rejects.toThrow(
        `tracks[0].options.tags: ${file} makes mkvmerge read other files ("@/etc/passwd"); files named inside XML files are not allowed`,
      );
      await writeFile(file, tags('<String>fine</String>'));
      await expect(checkEmbeddedFiles(file, 'tracks[0].options.tags', 'validate')).resolves.toBeUndefined();
      await expect(checkEmbeddedFiles(join(dir, 'gone.xml'), 'options.chapters', 'validate')).rejects.toThrow(`options.chapters: cannot read ${join(dir, 'gone.xml')}: ENOENT`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('real mkvmerge accepts the argv', () => {
  let dir = '';
  let input = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sis-policy-real-'));
    input = join(dir, 'in.mkv');
    // 0.5 s, a key frame every frame (so splitting has points to split at), a title and ffmpeg's global ENCODER tag.
    await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=0.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1', '-metadata', 'title=Source title', input]);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Review, resolve every reference in `dir` (as the path guard would), build, and run mkvmerge through a JSON option file as the module does. */
  async function mux(data: MkvmergeData, name: string): Promise<{ out: string; exitCode: number }> {
    const out = join(dir, name);
    const resolved = Object.fromEntries(reviewMkvmergeOptions(data).files.map((f) => [f.field, join(dir, f.value)]));
    const args = buildMkvmergeArgs({ ...data, sources: [{ ...data.sources[0]!, filename: input }] }, [[{ id: 0, type: 'video' }]], [], out, resolved);
    const optionFile = join(dir, `${name}.json`);
    await writeFile(optionFile, JSON.stringify(args));
    const result = await execa('mkvmerge', [`@${optionFile}`], { reject: false });
    expect(result.exitCode, result.stdout).toBe(0);
    return { out, exitCode: result.exitCode! };
  }
  const identify = async (file: string) => JSON.parse((await execa('mkvmerge', ['-J', file])).stdout) as {
    container: { properties: { title?: string; segment_uid?: string } };
    chapters: Array<{ num_entries: number }>;
    global_tags: Array<{ num_entries: number }>;
    track_tags: Array<{ track_id: number; num_entries: number }>;
    attachments: Array<{ file_name: string; content_type: string }>;
  };
  const job = (options: Options, trackOptions?: Options, sourceOptions?: Options): MkvmergeData => ({
    sources: [{ filename: 'in.mkv', ...(sourceOptions ? { options: sourceOptions } : {}) }],
    tracks: [{ source: 0, track: 0, ...(trackOptions ? { options: trackOptions } : {}) }],
    options,
    output_file: 'out.mkv',
  });

  it('title and no-global-tags both take effect', async () => {
    expect((await identify(input)).global_tags.length).toBe(1);
    const { out } = await mux(job({ title: 'My title', 'no-global-tags': null }), 'titled.mkv');
    const info = await identify(out);
    expect(info.container.properties.title).toBe('My title');
    expect(info.global_tags).toEqual([]);
  });

  it('--tags 0:FILE from a track option', async () => {
    await writeFile(join(dir, 'track-tags.xml'), '<?xml version="1.0"?>\n<Tags><Tag><Targets/><Simple><Name>SISYPHUS</Name><String>rolled</String></Simple></Tag></Tags>\n');
    const { out } = await mux(job({ 'disable-track-statistics-tags': null }, { tags: 'track-tags.xml' }, { 'no-track-tags': null }), 'tagged.mkv');
    expect((await identify(out)).track_tags).toEqual([{ track_id: 0, num_entries: 1 }]);
    expect((await execa('mkvextract', [out, 'tags', '-'])).stdout).toContain('<Name>SISYPHUS</Name>');
  });

  it('--chapters FILE, chapter-language first', async () => {
    await writeFile(join(dir, 'chapters.txt'), 'CHAPTER01=00:00:00.000\nCHAPTER01NAME=Start\nCHAPTER02=00:00:00.200\nCHAPTER02NAME=Later\n');
    const { out } = await mux(job({ 'chapter-language': 'ger', chapters: 'chapters.txt' }), 'chaptered.mkv');
    expect((await identify(out)).chapters).toEqual([{ num_entries: 2 }]);
  });

  it('attach-file with the attachment options before it; timestamps file; segment-uid from =FILE', async () => {
    await writeFile(join(dir, 'notes.txt'), 'hello\n');
    await writeFile(join(dir, 'ts.txt'), '# timestamp format v2\n0\n100\n200\n300\n400\n');
    const { out } = await mux(
      job({ 'attachment-name': 'readme.txt', 'attachment-mime-type': 'text/plain', 'attach-file': 'notes.txt', 'segment-uid': '=in.mkv' }, { timestamps: 'ts.txt' }),
      'attached.mkv',
    );
    const info = await identify(out);
    expect(info.attachments.map((a) => [a.file_name, a.content_type])).toEqual([['readme.txt', 'text/plain']]);
    expect(info.container.properties.segment_uid).toBe((await identify(input)).container.properties.segment_uid);
  });

  it('split writes segments; a single parts: range writes the output name itself', async () => {
    const splitJob = job({ split: 'timestamps:00:00:00.25' });
    expect(outputKind(splitJob)).toBe('segments');
    await mux(splitJob, 'seg.mkv');
    const partsJob = job({ split: 'parts:00:00:00-00:00:00.2' });
    expect(outputKind(partsJob)).toBe('file');
    await mux(partsJob, 'part.mkv');
    const names = (await readdir(dir)).filter((n) => /^(seg|part)[-.]/.test(n) && n.endsWith('.mkv'));
    expect(names.sort()).toEqual(['part.mkv', 'seg-001.mkv', 'seg-002.mkv']);
  });

  it('mkvmerge really reads @NAME in a tags file, which is why checkEmbeddedFiles refuses it', async () => {
    await writeFile(join(dir, 'secret.bin'), 'TOP-SECRET-BYTES');
    const evil = join(dir, 'evil-tags.xml');
    await writeFile(evil, `<?xml version="1.0"?>\n<Tags><Tag><Targets/><Simple><Name>X</Name><Binary>@${join(dir, 'secret.bin')}</Binary></Simple></Tag></Tags>\n`);
    const { out } = await mux(job({ 'global-tags': 'evil-tags.xml' }), 'evil.mkv');
    expect((await execa('mkvextract', [out, 'tags', '-'])).stdout).toContain(Buffer.from('TOP-SECRET-BYTES').toString('hex'));
    await expect(checkEmbeddedFiles(evil, 'options["global-tags"]', 'validate')).rejects.toThrow(/makes mkvmerge read other files/);
  });
});
