import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ErrorCodes, createEngine } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import {
  buildMkvmergeArgs,
  detectMimeType,
  mkvmergeModule,
  type IdentifiedTrack,
  type MkvmergeData,
  type ResolvedAttachment,
} from '@sisyphus/module-mkvmerge';
// @ts-ignore -- plain ESM script without type declarations
import { makeSample } from '../../../scripts/make-sample.mjs';

const make = makeSample as (out: string, options: { duration?: number; size?: string; rate?: number }) => Promise<void>;

const dirs: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sis-mkvmerge-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

/** What `mkvmerge -J` says about a file (the parts the tests look at). */
interface Identification {
  container: { properties: { title?: string } };
  tracks: Array<{ id: number; type: string; codec: string; properties: { language?: string; track_name?: string; default_track?: boolean } }>;
  attachments: Array<{ file_name: string; content_type: string; description?: string; size: number }>;
}
async function identifyFile(file: string): Promise<Identification> {
  const { stdout } = await execa('mkvmerge', ['-J', file]);
  return JSON.parse(stdout) as Identification;
}

const leftovers = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('sisyphus'));

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const TTF = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x80]), Buffer.alloc(56, 7)]);
const OTF = Buffer.concat([Buffer.from('OTTO', 'latin1'), Buffer.from([0x00, 0x0a, 0x00, 0x80]), Buffer.alloc(56, 7)]);
// A 1x1 24-bit BMP.
const BMP = Buffer.concat([
  Buffer.from('BM', 'latin1'),
  Buffer.from([58, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 24, 0]),
  Buffer.alloc(24, 0),
  Buffer.from([0, 0, 255, 0]),
]);
const BLOB = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc]);

// The sample: 0 video (h264), 1-3 audio (aac: eng "English", eng "Commentary", jpn "Japanese"), 4-5 subtitles (srt: eng, jpn).
let sampleDir = '';
let sample = '';
beforeAll(async () => {
  sampleDir = await mkdtemp(join(tmpdir(), 'sis-mkvmerge-sample-'));
  sample = join(sampleDir, 'sample.mkv');
  await make(sample, { duration: 1, size: '160x120' });
});
afterAll(async () => {
  if (sampleDir) await rm(sampleDir, { recursive: true, force: true });
});

const track = (id: number, type: string, codec?: string): IdentifiedTrack => ({ id, type, ...(codec ? { codec } : {}) });
const SAMPLE_TRACKS: IdentifiedTrack[] = [
  track(0, 'video', 'AVC/H.264/MPEG-4p10'),
  track(1, 'audio', 'AAC'),
  track(2, 'audio', 'AAC'),
  track(3, 'audio', 'AAC'),
  track(4, 'subtitles', 'SubRip/SRT'),
  track(5, 'subtitles', 'SubRip/SRT'),
];

describe('buildMkvmergeArgs (golden argv)', () => {
  const cases: Array<{ name: string; data: MkvmergeData; identified: IdentifiedTrack[][]; attachments?: ResolvedAttachment[]; output?: string; expected: string[] }> = [
    {
      name: 'one source: only listed tracks, --no-subtitles, track options before the file, bare flags, false and _ left out',
      data: {
        sources: [{ filename: '/media/in.mkv', options: { 'no-chapters': null, 'no-attachments': false, _note: 'never passed on' } }],
        tracks: [
          { source: 0, track: 0, options: { language: 'jpn', 'default-track': 'yes', _comment: 'never passed on' } },
          { source: 0, track: 1, options: { 'track-name': 'Stereo (OPUS)', 'forced-display-flag': false } },
          { source: 0, track: 2, options: { 'reduce-to-core': null, 'sync': -200 } },
        ],
        options: { 'no-global-tags': null, title: 'My Film', 'disable-track-statistics-tags': true, 'disable-lacing': false, 'split-max-files': 2, _priority: 'high' },
        output_file: '/media/out.mkv',
      },
      identified: [SAMPLE_TRACKS],
      expected: [
        '--gui-mode', '--output', '/media/out.mkv',
        '--no-global-tags', '--title', 'My Film', '--disable-track-statistics-tags', '--split-max-files', '2',
        '--video-tracks', '0', '--audio-tracks', '1,2', '--no-subtitles',
        '--language', '0:jpn', '--default-track', '0:yes',
        '--track-name', '1:Stereo (OPUS)',
        '--reduce-to-core', '2', '--sync', '2:-200',
        '--no-chapters', '/media/in.mkv',
        '--track-order', '0:0,0:1,0:2',
      ],
    },
    {
      name: 'two sources: _copy-audio-tracks keeps all audio (no selection flag), --no-video, track order across sources',
      data: {
        sources: [
          { filename: '/media/video.mkv', options: { '_copy-audio-tracks': true } },
          { filename: '/media/dub.mkv', options: { 'no-chapters': null } },
        ],
        tracks: [
          { source: 0, track: 0 },
          { source: 1, track: 1, options: { language: 'jpn' } },
          { source: 0, track: 1 },
          { source: 1, track: 0, options: { 'track-name': 'Stereo (OPUS)', 'default-track': 'yes' } },
        ],
        output_file: '/media/out.mkv',
      },
      identified: [
        [track(0, 'video'), track(1, 'audio'), track(2, 'audio'), track(3, 'subtitles')],
        [track(0, 'audio', 'Opus'), track(1, 'audio', 'Opus'), track(2, 'video')],
      ],
      expected: [
        '--gui-mode', '--output', '/media/out.mkv',
        '--video-tracks', '0', '--no-subtitles', '/media/video.mkv',
        '--no-video', '--audio-tracks', '1,0',
        '--language', '1:jpn', '--track-name', '0:Stereo (OPUS)', '--default-track', '0:yes',
        '--no-chapters', '/media/dub.mkv',
        '--track-order', '0:0,1:1,0:1,1:0',
      ],
    },
    {
      name: '_copy-subtitles-tracks and _copy-video-tracks: no flag for those types, listed tracks still get options and order',
      data: {
        sources: [{ filename: '/media/in.mkv', options: { '_copy-subtitles-tracks': null, '_copy-video-tracks': 'yes' } }],
        tracks: [
          { source: 0, track: 3 },
          { source: 0, track: 5, options: { language: 'jpn' } },
        ],
        output_file: '/media/out.mkv',
      },
      identified: [SAMPLE_TRACKS],
      expected: [
        '--gui-mode', '--output', '/media/out.mkv',
        '--audio-tracks', '3',
        '--language', '5:jpn', '/media/in.mkv',
        '--track-order', '0:3,0:5',
      ],
    },
    {
      name: '_copy-audio-tracks: false still selects; attachments (with and without description); the partial output path',
      data: {
        sources: [{ filename: '/media/in.mkv', options: { '_copy-audio-tracks': false } }],
        tracks: [{ source: 0, track: 0 }, { source: 0, track: 4 }, { source: 0, track: 3 }],
        output_file: '/media/out.mkv',
      },
      identified: [SAMPLE_TRACKS],
      attachments: [
        { path: '/fonts/Font One.ttf', name: 'Font One.ttf', mimeType: 'font/ttf' },
        { path: '/art/cover.png', name: 'cover.png', mimeType: 'image/png', description: 'Front cover' },
      ],
      output: '/media/.sisyphus-tmp-0123456789ab/out.mkv',
      expected: [
        '--gui-mode', '--output', '/media/.sisyphus-tmp-0123456789ab/out.mkv',
        '--video-tracks', '0', '--audio-tracks', '3', '--subtitle-tracks', '4', '/media/in.mkv',
        '--attachment-mime-type', 'font/ttf', '--attachment-name', 'Font One.ttf', '--attach-file', '/fonts/Font One.ttf',
        '--attachment-description', 'Front cover', '--attachment-mime-type', 'image/png', '--attachment-name', 'cover.png', '--attach-file', '/art/cover.png',
        '--track-order', '0:0,0:4,0:3',
      ],
    },
  ];

  it.each(cases)('$name', ({ data, identified, attachments, output, expected }) => {
    const args = output ? buildMkvmergeArgs(data, identified, attachments ?? [], output) : buildMkvmergeArgs(data, identified, attachments ?? []);
    expect(args).toEqual(expected);
  });
});

describe('validation', () => {
  const ok = { sources: [{ filename: 'in.mkv' }], tracks: [{ source: 0, track: 0 }], output_file: 'out.mkv' };
  it.each([
    [{ ...ok, tracks: [{ source: 0, track: 'x' }] }, 'tracks[0].track must be an integer'],
    [{ ...ok, tracks: [{ source: 0, track: 1.5 }] }, 'tracks[0].track must be an integer'],
    [{ ...ok, tracks: [{ source: 0 }] }, 'tracks[0].track is required'],
    [{ ...ok, sources: [] }, 'sources must have at least 1 item'],
    [{ ...ok, tracks: [] }, 'tracks must have at least 1 item'],
    [{ ...ok, bogus: 1 }, 'bogus is not an allowed field'],
    [{ ...ok, sources: [{ filename: 'in.mkv', file: 'x' }] }, 'sources[0].file is not an allowed field'],
    [{ ...ok, sources: [{ filename: '' }] }, 'sources[0].filename must not be empty'],
    [{ sources: ok.sources, tracks: ok.tracks }, 'output_file is required'],
    [{ ...ok, options: { title: { text: 'x' } } }, 'options.title must be a string or a number or a boolean or a null'],
    [{ ...ok, attachments: [{ filename: 'a.ttf', mime: 'font/ttf' }] }, 'attachments[0].mime is not an allowed field'],
  ])('rejects bad data %j naming the field', async (data, message) => {
    const { result } = await runTask(mkvmergeModule, data as Record<string, unknown>);
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(message);
    expect(result.phase).toBe('validate');
  });

  it("the module's own checks: source index, duplicate track, missing source, output that is a source", async () => {
    const d = await temp();
    await writeFile(join(d, 'in.mkv'), 'not read at validation');
    const check = async (data: Record<string, unknown>) => {
      const { result } = await runTask(mkvmergeModule, data, { cwd: d });
      expect(result.code, JSON.stringify(data)).toBe(ErrorCodes.VALIDATION);
      return result.message;
    };
    expect(await check({ ...ok, tracks: [{ source: 0, track: 0 }, { source: 1, track: 0 }] })).toBe('tracks[1].source is 1 but there is only 1 source');
    expect(await check({ ...ok, sources: [{ filename: 'in.mkv' }, { filename: 'in.mkv' }], tracks: [{ source: 2, track: 0 }] })).toBe(
      'tracks[0].source is 2 but there are only 2 sources',
    );
    expect(await check({ ...ok, tracks: [{ source: 0, track: 1 }, { source: 0, track: 0 }, { source: 0, track: 1 }] })).toBe(
      'tracks[2] lists track 1 of source 0 a second time',
    );
    expect(await check({ ...ok, sources: [{ filename: 'in.mkv' }, { filename: 'nope.mkv' }] })).toBe(
      `sources[1].filename: ${join(d, 'nope.mkv')} does not exist (and no earlier task of the job writes it)`,
    );
    expect(await check({ ...ok, attachments: [{ filename: 'gone.ttf' }] })).toBe(
      `attachments[0].filename: ${join(d, 'gone.ttf')} does not exist (and no earlier task of the job writes it)`,
    );
    expect(await check({ ...ok, output_file: join(d, 'in.mkv') })).toBe(`output_file ${join(d, 'in.mkv')} is the same file as sources[0].filename (${join(d, 'in.mkv')})`);
  });

  it('plans the exact command when the sources exist (identified at validate), else the shape of it', async () => {
    const d = await temp();
    await copyFile(sample, join(d, 'in.mkv'));
    const plan = await planTask(mkvmergeModule, { ...ok, tracks: [{ source: 0, track: 2 }, { source: 0, track: 0 }] }, { cwd: d });
    const line = plan.tasks[0]!.plan;
    expect(line).toHaveLength(2);
    expect(line[0]).toMatch(new RegExp(`^/\\S+/mkvmerge --gui-mode --output ${join(d, '.sisyphus-tmp-XXXXXXXXXXXX', 'out.mkv')} --video-tracks 0 --audio-tracks 2 --no-subtitles ${join(d, 'in.mkv')} --track-order 0:2,0:0$`));
    expect(line[1]).toBe(`then read it back with mkvmerge -J and rename it -> ${join(d, 'out.mkv')}`);
  });
});

describe('running mkvmerge', () => {
  it('muxes the listed tracks in order with languages, names, default flags and a title', async () => {
    const d = await temp();
    const out = join(d, 'film.mkv');
    const { result, progress } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample, options: { 'no-global-tags': null } }],
      tracks: [
        { source: 0, track: 0, options: { language: 'eng', 'track-name': 'Picture', 'default-track': 'yes' } },
        { source: 0, track: 3, options: { language: 'jpn', 'track-name': 'Stereo (OPUS)', 'default-track': 'yes' } },
        { source: 0, track: 1, options: { 'default-track': 'no' } },
        { source: 0, track: 5, options: { language: 'ja', 'track-name': 'Signs & Songs', 'default-track': 'no' } },
      ],
      options: { title: 'My Film (2024)' },
      output_file: out,
    });
    expect(result.message).toBeUndefined();
    expect(result.completed).toBe(true);
    expect(result.tasks[0]!.warnings).toBeUndefined();
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.percent).toBe(100);

    const info = await identifyFile(out);
    expect(info.container.properties.title).toBe('My Film (2024)');
    expect(info.tracks.map((t) => [t.id, t.type, t.codec, t.properties.language, t.properties.track_name, t.properties.default_track])).toEqual([
      [0, 'video', 'AVC/H.264/MPEG-4p10', 'eng', 'Picture', true],
      [1, 'audio', 'AAC', 'jpn', 'Stereo (OPUS)', true],
      [2, 'audio', 'AAC', 'eng', 'English', false],
      [3, 'subtitles', 'SubRip/SRT', 'jpn', 'Signs & Songs', false],
    ]);
    expect(await readdir(d)).toEqual(['film.mkv']);
  });

  it('passes values starting with @ literally (mkvmerge reads a bare @NAME argument as an option file)', async () => {
    const d = await temp();
    const folder = join(d, 'extras');
    await mkdir(folder);
    await writeFile(join(folder, '@cover.png'), PNG);
    const out = join(d, 'at.mkv');
    const { result } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample }],
      tracks: [{ source: 0, track: 0 }],
      options: { title: '@home' },
      attachment_directories: [folder],
      output_file: out,
    });
    expect(result.message).toBeUndefined();
    expect(result.completed).toBe(true);
    const info = await identifyFile(out);
    expect(info.container.properties.title).toBe('@home');
    expect(info.attachments.map((a) => a.file_name)).toEqual(['@cover.png']);
  });

  it('keeps all tracks of a type with _copy-audio-tracks', async () => {
    const d = await temp();
    const out = join(d, 'all-audio.mkv');
    const { result } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample, options: { '_copy-audio-tracks': true } }],
      tracks: [{ source: 0, track: 2 }, { source: 0, track: 0 }],
      output_file: out,
    });
    expect(result.completed).toBe(true);
    const info = await identifyFile(out);
    // Listed tracks first in list order; the other copied audio tracks follow.
    expect(info.tracks.map((t) => [t.type, t.properties.track_name])).toEqual([
      ['audio', 'Commentary'],
      ['video', undefined],
      ['audio', 'English'],
      ['audio', 'Japanese'],
    ]);
    expect(await leftovers(d)).toEqual([]);
  });

  it('exit 1 is success with warnings, kept in the task record', async () => {
    const d = await temp();
    const out = join(d, 'warned.mkv');
    // A source option naming a track the file lacks: mkvmerge warns and ignores it (exit 1).
    const { result, logs } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample, options: { language: '7:fre' } }],
      tracks: [{ source: 0, track: 0 }, { source: 0, track: 1 }],
      output_file: out,
    });
    expect(result.completed).toBe(true);
    expect(result.tasks[0]!.status).toBe('done');
    expect(result.tasks[0]!.warnings).toEqual([
      `'${sample}': A track with the ID 7 was requested but not found in the file. The corresponding option will be ignored.`,
    ]);
    expect(logs.some((l) => l.level === 'info' && l.message === 'mkvmerge finished with warnings')).toBe(true);
    expect((await identifyFile(out)).tracks.map((t) => t.type)).toEqual(['video', 'audio']);
    expect(await leftovers(d)).toEqual([]);
  });

  it('a track the source does not have is an error naming the source and listing its tracks', async () => {
    const d = await temp();
    const { result } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample }],
      tracks: [{ source: 0, track: 0 }, { source: 0, track: 9 }],
      output_file: join(d, 'out.mkv'),
    });
    // The source exists: identified at validate, before anything runs.
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.phase).toBe('validate');
    expect(result.message).toBe(
      `tracks[1]: source 0 (${sample}) has no track 9; its tracks are ` +
        '0 video (AVC/H.264/MPEG-4p10), 1 audio (AAC), 2 audio (AAC), 3 audio (AAC), 4 subtitles (SubRip/SRT), 5 subtitles (SubRip/SRT)',
    );
    expect(await readdir(d)).toEqual([]);
  });

  it('a source mkvmerge cannot read is an error naming it, found at validate', async () => {
    const d = await temp();
    const junk = join(d, 'junk.mkv');
    await writeFile(junk, BLOB);
    const { result } = await runTask(mkvmergeModule, { sources: [{ filename: junk }], tracks: [{ source: 0, track: 0 }], output_file: join(d, 'out.mkv') });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toMatch(new RegExp(`^sources\\[0\\]\\.filename: mkvmerge cannot read ${junk}: `));
  });

  it.each([
    [{ options: { split: 'nonsense' } }, "mkvmerge failed (exit 2): Invalid format for '--split' in '--split nonsense'."],
    [
      { trackOptions: { language: 'zzzz' } },
      "mkvmerge failed (exit 2): 'zzzz' is not a valid IETF BCP 47/RFC 5646 language tag in '--language 0:zzzz'. " +
        'Additional information from the parser: Four-letter language codes are reserved for future use and not supported.',
    ],
  ])('exit 2 is a RunError with mkvmerge\'s message (%j)', async (bad, message) => {
    const d = await temp();
    const { result } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample }],
      tracks: [{ source: 0, track: 0, ...('trackOptions' in bad ? { options: bad.trackOptions } : {}) }],
      ...('options' in bad ? { options: bad.options } : {}),
      output_file: join(d, 'out.mkv'),
    });
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toBe(message);
    expect(result.tasks[0]!.error?.details).toMatchObject({ exitCode: 2 });
    expect(await readdir(d)).toEqual([]);
  });

  it('a missing mkvmerge binary fails init naming the path searched', async () => {
    const { result } = await runTask(
      mkvmergeModule,
      { sources: [{ filename: sample }], tracks: [{ source: 0, track: 0 }], output_file: join(sampleDir, 'never.mkv') },
      { settings: { mkvmerge: '/nonexistent/mkvmerge' } },
    );
    expect(result.code).toBe(ErrorCodes.INIT);
    expect(result.phase).toBe('init');
    expect(result.message).toBe('mkvmerge not found (searched /nonexistent/mkvmerge); install mkvtoolnix or set settings.mkvmerge.mkvmerge');
  });
});

describe('attachments', () => {
  it('detects MIME types from magic numbers and text extensions', async () => {
    const d = await temp();
    const files: Array<[string, Buffer | string, string | undefined]> = [
      ['cover.png', PNG, 'image/png'],
      ['font.bin', TTF, 'font/ttf'],
      ['font.otf', OTF, 'font/otf'],
      ['notes.txt', 'release notes\n', 'text/plain'],
      ['apple.ttf', Buffer.concat([Buffer.from('true', 'latin1'), Buffer.from([0x00, 0x0a]), Buffer.alloc(10)]), 'font/ttf'],
      ['picture.bmp', BMP, 'image/bmp'],
      // Text that happens to start like a weak signature is still text.
      ['bmw.txt', 'BMW service notes\n', 'text/plain'],
      ['story.nfo', 'true story\n', 'text/plain'],
      ['blob.bin', BLOB, undefined],
      ['blob', BLOB, undefined],
      ['empty.dat', '', undefined],
    ];
    for (const [name, body] of files) await writeFile(join(d, name), body);
    for (const [name, , mime] of files) expect(await detectMimeType(join(d, name)), name).toBe(mime);
  });

  it('a listed attachment whose type cannot be told fails validation naming it', async () => {
    const d = await temp();
    const blob = join(d, 'blob.bin');
    await writeFile(blob, BLOB);
    const { result } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample }],
      tracks: [{ source: 0, track: 0 }],
      attachments: [{ filename: blob }],
      output_file: join(d, 'out.mkv'),
    });
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.message).toBe(`attachments[0]: cannot tell the MIME type of ${blob}; give mime_type`);
    expect(existsSync(join(d, 'out.mkv'))).toBe(false);
  });

  it('attaches listed files and the top-level files of a folder, skipping unknown types', async () => {
    const d = await temp();
    const folder = join(d, 'extras');
    await mkdir(join(folder, 'nested'), { recursive: true });
    await writeFile(join(folder, 'cover.png'), PNG);
    await writeFile(join(folder, 'Font.ttf'), TTF);
    await writeFile(join(folder, 'blob.bin'), BLOB);
    await writeFile(join(folder, 'nested', 'deep.png'), PNG);
    await writeFile(join(d, 'readme.txt'), 'hello\n');
    await writeFile(join(d, 'data.bin'), BLOB);
    const out = join(d, 'out.mkv');
    const { result, logs } = await runTask(mkvmergeModule, {
      sources: [{ filename: sample }],
      tracks: [{ source: 0, track: 0 }],
      attachments: [
        { filename: join(d, 'readme.txt'), name: 'Read me.txt', description: 'Notes' },
        { filename: join(d, 'data.bin'), mime_type: 'application/octet-stream' },
      ],
      attachment_directories: [folder],
      output_file: out,
    });
    expect(result.message).toBeUndefined();
    expect(result.completed).toBe(true);
    const info = await identifyFile(out);
    expect(info.attachments.map((a) => [a.file_name, a.content_type, a.description || null, a.size])).toEqual([
      ['Read me.txt', 'text/plain', 'Notes', 6],
      ['data.bin', 'application/octet-stream', null, BLOB.length],
      ['cover.png', 'image/png', null, PNG.length],
      ['Font.ttf', 'font/ttf', null, TTF.length],
    ]);
    expect(logs.map((l) => l.message)).toContain(`attachment_directories[0]: skipping ${join(folder, 'blob.bin')} (unknown file type)`);
    expect(await leftovers(d)).toEqual([]);
  });
});

describe('cancellation', () => {
  it('a run cancelled mid-mux leaves neither the output nor the partial file', async () => {
    const d = await temp();
    const big = join(d, 'big.mkv');
    await make(big, { duration: 20, size: '640x480' });
    const out = join(d, 'out.mkv');
    // runTask only hands its events back at the end: watch progress on the engine itself.
    const engine = createEngine({ modules: [mkvmergeModule] });
    const controller = new AbortController();
    let partialAtAbort: boolean | undefined;
    const percents: Array<number | undefined> = [];
    engine.on('progress', (p) => {
      percents.push(p.percent);
      if (controller.signal.aborted) return;
      partialAtAbort = readdirSync(d).some((n) => n.startsWith('.sisyphus-tmp-') && readdirSync(join(d, n)).includes('out.mkv'));
      controller.abort();
    });
    const result = await engine.run(
      {
        job_title: 'cancel me',
        tasks: [{ module: 'mkvmerge', data: { sources: [{ filename: big }], tracks: [{ source: 0, track: 0 }, { source: 0, track: 1 }], output_file: out } }],
      },
      { signal: controller.signal },
    );
    expect(percents.length).toBeGreaterThan(0);
    expect(partialAtAbort).toBe(true);
    expect(result.cancelled).toBe(true);
    expect(result.completed).toBe(false);
    expect(result.code).toBe(ErrorCodes.CANCELLED);
    expect(result.phase).toBe('run');
    expect(result.tasks[0]!.status).toBe('cancelled');
    expect(existsSync(out)).toBe(false);
    expect(await readdir(d)).toEqual(['big.mkv']);
    expect(percents).not.toContain(100);
  });
});
