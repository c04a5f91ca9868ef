import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmod, link, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Check } from 'typebox/schema';
import { ErrorCodes, ValidationError, createEngine } from '@sisyphus/core';
import { planTask, runTask } from '@sisyphus/core/testing';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { parseGuiLine } from '@sisyphus/module-mkvmerge';
import {
  MkvextractDataSchema,
  buildMkvextractArgs,
  checkExtractionData,
  mkvextractModule,
  type MkvextractData,
  type ResolvedExtraction,
} from '@sisyphus/module-mkvextract';
import { FONT, SUBTITLES, identify, makeSource } from './media.js';

let dir = '';
let source = '';
let plain = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-mkvextract-'));
  ({ source, plain } = await makeSource(join(dir, 'src')));
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A fresh output folder; relative names in the data resolve from it; `dir` is the only allowed root. */
const out = () => mkdtemp(join(dir, 'out-'));
const run = (cwd: string, data: MkvextractData) => runTask(mkvextractModule, data, { cwd, allowedRoots: [dir] });
const plan = (cwd: string, data: MkvextractData) => planTask(mkvextractModule, data, { cwd, allowedRoots: [dir] });
const listing = async (d: string) => (await readdir(d)).sort();

describe('buildMkvextractArgs and parseGuiLine', () => {
  it('puts every mode in one run, ids before the private paths, timestamps as timestamps_v2', () => {
    const x = (mode: ResolvedExtraction['mode'], sourceId?: number): ResolvedExtraction => ({ mode, entry: mode, field: mode, given: 'x', ...(sourceId === undefined ? {} : { sourceId }) });
    const list = [x('cues', 0), x('tracks', 3), x('chapters'), x('attachments', 1), x('tracks', 1), x('timestamps', 0), x('tags')];
    const paths = ['/o/cues.txt', '/o/s.srt', '/o/ch.xml', '/o/f.ttf', '/o/a.opus', '/o/ts.txt', '/o/tags.xml'];
    expect(buildMkvextractArgs('/in/src.mkv', list, paths)).toEqual([
      '/in/src.mkv', '--gui-mode',
      'tracks', '3:/o/s.srt', '1:/o/a.opus',
      'attachments', '1:/o/f.ttf',
      'chapters', '/o/ch.xml',
      'tags', '/o/tags.xml',
      'timestamps_v2', '0:/o/ts.txt',
      'cues', '0:/o/cues.txt',
    ]);
  });

  it('reads progress, warnings and errors of --gui-mode', () => {
    expect(parseGuiLine('#GUI#progress 42%')).toMatchObject({ kind: 'progress', percent: 42 });
    expect(parseGuiLine('#GUI#error No track with the ID 9 was found in the source file.')).toEqual({ kind: 'error', text: 'No track with the ID 9 was found in the source file.' });
    expect(parseGuiLine('#GUI#warning something odd')).toEqual({ kind: 'warning', text: 'something odd' });
    expect(parseGuiLine("Extracting track 0 with the CodecID 'V_MPEG4/ISO/AVC'")).toMatchObject({ kind: 'other' });
  });
});

describe('mkvextract: extract every kind of item', () => {
  it('writes tracks, the attachment, chapters, tags, timestamps and cues, each checked, with honest progress', async () => {
    const d = await out();
    const data: MkvextractData = {
      source,
      tracks: [
        { id: 0, filename: 'video.h264' },
        { id: 1, filename: 'eng.opus' },
        { id: 2, filename: 'jpn.aac' },
        { id: 3, filename: 'subs.srt' },
      ],
      attachments: [{ id: 1, filename: 'font.ttf' }],
      chapters: 'chapters.xml',
      tags: 'tags.xml',
      timestamps: [{ id: 0, filename: 'timestamps.txt' }],
      cues: [{ id: 0, filename: 'cues.txt' }],
    };
    const r = await run(d, data);
    expect(r.result.completed, r.result.message).toBe(true);
    expect(await listing(d)).toEqual(['chapters.xml', 'cues.txt', 'eng.opus', 'font.ttf', 'jpn.aac', 'subs.srt', 'tags.xml', 'timestamps.txt', 'video.h264']);

    const kinds = async (f: string) => (await identify(join(d, f))).tracks.map((t) => `${t.type} ${t.codec}`);
    expect(await kinds('video.h264')).toEqual(['video AVC/H.264/MPEG-4p10']);
    expect(await kinds('eng.opus')).toEqual(['audio Opus']);
    expect(await kinds('jpn.aac')).toEqual(['audio AAC']);
    expect(await kinds('subs.srt')).toEqual(['subtitles SubRip/SRT']);
    const srt = await readFile(join(d, 'subs.srt'), 'utf8');
    for (const line of SUBTITLES) expect(srt).toContain(line);
    expect(await readFile(join(d, 'font.ttf'))).toEqual(FONT);
    const chapters = await readFile(join(d, 'chapters.xml'), 'utf8');
    expect(chapters).toContain('<ChapterString>Opening</ChapterString>');
    expect(chapters).toContain('<ChapterString>Storm</ChapterString>');
    expect(await readFile(join(d, 'tags.xml'), 'utf8')).toMatch(/<Name>ARTIST<\/Name>\s*<String>Sisyphus test<\/String>/);
    const ts = (await readFile(join(d, 'timestamps.txt'), 'utf8')).trim().split('\n');
    expect(ts[0]).toBe('# timestamp format v2');
    expect(ts.length - 1).toBeGreaterThanOrEqual(20); // 2 s at 10 fps (and the end)
    expect(ts.slice(1).every((l) => /^\d+(\.\d+)?$/.test(l))).toBe(true);
    expect(await readFile(join(d, 'cues.txt'), 'utf8')).toMatch(/^timestamp=00:00:00\.\d+ duration=\S+ cluster_position=\d+/);

    const percents = r.progress.map((p) => p.percent);
    expect(percents.at(-1)).toBe(100);
    expect(percents.slice(0, -1).every((p) => p !== undefined && p < 100)).toBe(true);
    expect(r.logs.some((l) => l.message.includes('#GUI#'))).toBe(false);
  });

  it('selects tracks by type and language, as the original did (an ordinal among the matching tracks)', async () => {
    const d = await out();
    const r = await run(d, {
      source,
      tracks: [
        { id: 0, track_type: 'audio', language: 'jpn', filename: 'first-jpn-audio.aac' },
        { id: 0, track_type: 'audio', filename: 'first-audio.opus' },
        { id: 0, track_type: 'subtitles', filename: 'first-subs.srt' },
      ],
    });
    expect(r.result.completed, r.result.message).toBe(true);
    // An extracted elementary stream has no language: the codec tells the tracks apart (eng is Opus, jpn AAC).
    const got = async (dd: string, f: string) => (await identify(join(dd, f))).tracks.map((t) => `${t.type} ${t.codec}`);
    expect(await got(d, 'first-jpn-audio.aac')).toEqual(['audio AAC']);
    expect(await got(d, 'first-audio.opus')).toEqual(['audio Opus']);
    expect(await got(d, 'first-subs.srt')).toEqual(['subtitles SubRip/SRT']);

    // The IETF tag matches too; without a filter id is the track id; a negative id counts from the
    // last match (Python's list index in the original).
    const e = await out();
    const r2 = await run(e, {
      source,
      tracks: [{ id: 0, language: 'ja', filename: 'ja.aac' }, { id: 3, filename: 'track3.srt' }, { id: -2, track_type: 'audio', filename: 'second-to-last-audio.opus' }],
    });
    expect(r2.result.completed, r2.result.message).toBe(true);
    expect(await got(e, 'ja.aac')).toEqual(['audio AAC']);
    expect(await got(e, 'track3.srt')).toEqual(['subtitles SubRip/SRT']);
    expect(await got(e, 'second-to-last-audio.opus')).toEqual(['audio Opus']);
  });

  it('sisyphus validate shows the exact command, with the ids the selections resolve to', async () => {
    const d = await out();
    const p = await plan(d, { source, tracks: [{ id: 0, track_type: 'audio', language: 'jpn', filename: 'jpn.aac' }], chapters: 'ch.xml' });
    const lines = p.tasks[0]!.plan!;
    expect(lines[0]).toMatch(new RegExp(`mkvextract ${source} --gui-mode tracks 2:${d}/\\.sisyphus-tmp-X{12}/jpn\\.aac chapters ${d}/\\.sisyphus-tmp-X{12}/ch\\.xml$`));
    expect(lines[1]).toBe(`then check each file and rename it into place -> ${join(d, 'jpn.aac')}, ${join(d, 'ch.xml')}`);
    expect(await listing(d)).toEqual([]);
  });
});

describe('mkvextract: clear errors, nothing left behind', () => {
  const refused = async (data: MkvextractData, message: string | RegExp, cwd?: string, code: string = ErrorCodes.VALIDATION) => {
    const d = cwd ?? (await out());
    const before = await listing(d);
    const r = await run(d, data);
    expect(r.result.code, r.result.message).toBe(code);
    if (typeof message === 'string') expect(r.result.message).toBe(message);
    else expect(r.result.message).toMatch(message);
    expect(await listing(d)).toEqual(before);
  };

  it('a track id, type or language that selects nothing is a ValidationError naming the entry', async () => {
    await refused({ source, tracks: [{ id: 0, filename: 'a.srt' }, { id: 7, filename: 'b.srt' }] },
      'tracks[1].id: the source has no track 7; its tracks are 0 video (AVC/H.264/MPEG-4p10, und), 1 audio (Opus, eng), 2 audio (AAC, jpn), 3 subtitles (SubRip/SRT, eng)');
    await refused({ source, tracks: [{ id: 0, track_type: 'subtitles', language: 'jpn', filename: 'a.srt' }] },
      /^tracks\[0\]: no track of the source has track_type subtitles and language jpn; its tracks are 0 video/);
    await refused({ source, tracks: [{ id: 2, track_type: 'audio', filename: 'a.aac' }] },
      'tracks[0].id: 2 asks for the 3rd track with track_type audio, but there are only 2: 1 audio (Opus, eng), 2 audio (AAC, jpn)');
    await refused({ source, attachments: [{ id: 0, filename: 'f.ttf' }] },
      'attachments[0].id: the source has no attachment 0 (attachment ids start at 1); its attachments are 1 in-font.ttf');
    await refused({ source, timestamps: [{ id: 9, filename: 't.txt' }] }, /^timestamps\[0\]\.id: the source has no track 9;/);
    await refused({ source, cues: [{ id: 4, filename: 'c.txt' }] }, /^cues\[0\]\.id: the source has no track 4;/);
    await refused({ source: plain, chapters: 'ch.xml' }, 'chapters: the source has no chapters (mkvextract would write nothing)');
  });

  it('the same track twice, the same output twice (by real identity) or the source as an output is refused', async () => {
    await refused({ source, tracks: [{ id: 2, filename: 'a.aac' }, { id: 1, track_type: 'audio', filename: 'b.aac' }] },
      'tracks[1] selects track 2, which tracks[0] extracts already (mkvextract writes each track once per mode)');
    const d = await out();
    await mkdir(join(d, 'real'));
    await symlink(join(d, 'real'), join(d, 'alias'));
    await refused({ source, tracks: [{ id: 3, filename: 'real/s.srt' }], chapters: 'alias/../alias/s.srt' },
      `chapters: ${join(d, 'alias/s.srt')} is the same file as tracks[0].filename; each output needs its own file`, d);
    await link(source, join(d, 'hardlink.mkv'));
    await refused({ source, tracks: [{ id: 3, filename: 'hardlink.mkv' }] },
      `tracks[0].filename: ${join(d, 'hardlink.mkv')} is the same file as source (${source}); the source is never written`, d);
    await refused({ source, tags: source }, /^tags: .* is the same file as source/);
  });

  it('nothing to extract, outputs outside the allowed roots, misspelt keys and a missing source are refused', async () => {
    // The schema refuses these (where a job is submitted, too); validate says the same in words when called without it.
    await refused({ source, tracks: [], cues: [] }, 'does not match any allowed form');
    await refused({ source }, /^must have at least one of source, tracks, attachments, chapters, tags, timestamps, cues; does not match any allowed form$/);
    expect(() => checkExtractionData({ source, tracks: [], cues: [] }, ValidationError)).toThrow('nothing to extract: name at least one of tracks, attachments, chapters, tags, timestamps, cues (tracks, cues are empty)');
    expect(() => checkExtractionData({ source }, ValidationError)).toThrow(/^nothing to extract: name at least one of tracks, attachments, chapters, tags, timestamps, cues$/);
    const elsewhere = await mkdtemp(join(tmpdir(), 'sis-mkvextract-elsewhere-'));
    try {
      await refused({ source, chapters: join(elsewhere, 'ch.xml') }, /^chapters .* outside the allowed roots/, undefined, ErrorCodes.PATH_NOT_ALLOWED);
      expect(await readdir(elsewhere)).toEqual([]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
    // @ts-expect-error a misspelt filter would silently change which track is extracted
    await refused({ source, tracks: [{ id: 0, langauge: 'jpn', filename: 'a.aac' }] }, /tracks\[0\]/);
    // @ts-expect-error mkvmerge's type names are full words
    await refused({ source, tracks: [{ id: 0, track_type: 'a', filename: 'a.aac' }] }, /tracks\[0\]\.track_type/);
    await refused({ source: join(dir, 'src', 'missing.mkv'), chapters: 'ch.xml' }, `source: ${join(dir, 'src', 'missing.mkv')} does not exist (and no earlier task of the job writes it)`);
  });

  it('a FIFO (or a symlink to one) as an output is refused at validate, before mkvextract could block on it', async () => {
    const d = await out();
    await execa('mkfifo', [join(d, 'fifo')]);
    await symlink(join(d, 'fifo'), join(d, 'to-fifo'));
    const why = 'is not a regular file; mkvextract writes each output to a file of its own, which is checked before it is put in place';
    await refused({ source, tracks: [{ id: 1, filename: 'fifo' }] }, `tracks[0].filename: ${join(d, 'fifo')} ${why}`, d);
    await refused({ source, chapters: 'fifo' }, `chapters: ${join(d, 'fifo')} ${why}`, d);
    await refused({ source, tags: 'ok.xml', cues: [{ id: 0, filename: 'to-fifo' }] }, new RegExp(`^cues\\[0\\]\\.filename: .*fifo ${why}$`), d);
    expect((await lstat(join(d, 'fifo'))).isFIFO()).toBe(true);
  }, 30_000);

  it('an output that becomes a FIFO after validate is refused at run, before mkvextract starts', async () => {
    const d = await out();
    // mkvmerge as the task calls it: the second call (the run's identification) first turns the
    // chapters target into a FIFO, after the run's own path checks.
    const count = join(d, '.count');
    const wrapper = join(d, '.mkvmerge-then-fifo.sh');
    await writeFile(wrapper, `#!/bin/sh\necho x >> '${count}'\n[ "$(wc -l < '${count}')" -eq 2 ] && mkfifo '${join(d, 'ch.xml')}'\nexec mkvmerge "$@"\n`);
    await chmod(wrapper, 0o755);
    const r = await runTask(mkvextractModule, { source, tracks: [{ id: 3, filename: 'subs.srt' }], chapters: 'ch.xml' }, { cwd: d, allowedRoots: [dir], settings: { mkvmerge: wrapper } });
    expect(r.result.code, r.result.message).toBe(ErrorCodes.RUN);
    expect(r.result.message).toBe(`chapters: ${join(d, 'ch.xml')} is not a regular file; mkvextract writes each output to a file of its own, which is checked before it is put in place`);
    expect(r.progress.some((p) => p.percent === 100)).toBe(false);
    expect(await listing(d)).toEqual(['.count', '.mkvmerge-then-fifo.sh', 'ch.xml']);
  }, 30_000);

  it('thousands of entries are refused at once: the same selection twice, more entries than the source has items', async () => {
    // Every entry selects the same track, each into its own file: found in the data, before any file check.
    const same = Array.from({ length: 3000 }, (_, i) => ({ id: 0, track_type: 'audio' as const, filename: `h${i}.opus` }));
    await refused({ source, tracks: same }, 'tracks[1] selects the same track as tracks[0] (mkvextract writes each track once per mode)');
    // All different, but the source has 4 tracks and 1 attachment.
    const tracks = Array.from({ length: 3000 }, (_, i) => ({ id: i, filename: `t${i}.bin` }));
    await refused({ source, tracks }, 'tracks: 3000 entries, but the source has only 4 tracks (mkvextract writes each track once per mode)');
    await refused({ source, attachments: [{ id: 1, filename: 'a.ttf' }, { id: 2, filename: 'b.ttf' }] }, 'attachments: 2 entries, but the source has only 1 attachment (mkvextract writes each attachment once per mode)');
    await refused({ source: plain, cues: [{ id: 0, filename: 'c.txt' }], attachments: [{ id: 1, filename: 'a.ttf' }] }, 'attachments: 1 entries, but the source has no attachments (mkvextract writes each attachment once per mode)');
  }, 30_000);

  it('a thousand distinct outputs of a source an earlier task writes are checked in linear time, then refused at run', async () => {
    const d = await out();
    const engine = createEngine({ plugins: [cleanupPlugin], modules: [mkvextractModule], cwd: d, allowedRoots: [dir] });
    const job = {
      job_title: 'copy then extract too much',
      tasks: [
        { module: 'cleanup', data: { copy: [{ source, destination: join(d, 'copy.mkv') }] } },
        { module: 'mkvextract', data: { source: 'copy.mkv', timestamps: Array.from({ length: 1000 }, (_, i) => ({ id: i, filename: `ts${i}.txt` })) } },
      ],
    };
    const planned = await engine.validate(job);
    expect(planned.tasks[1]!.plan).toHaveLength(2);
    const r = await engine.run(job);
    expect(r.code).toBe(ErrorCodes.RUN);
    expect(r.message).toBe('timestamps: 1000 entries, but the source has only 4 tracks (mkvextract writes each track once per mode)');
    expect(await listing(d)).toEqual(['copy.mkv']);
  }, 30_000);

  it('a line break in the file name of an ID:FILE entry is refused at validate, naming the entry', async () => {
    const why = (field: string, name: string, mode: string) => `${field}: ${JSON.stringify(name)} holds a line break, which mkvextract cannot take in a file name of ${mode} (ID:FILE); name the file without one`;
    await refused({ source, tracks: [{ id: 3, filename: 's.srt' }, { id: 1, filename: 'a\nb.opus' }] }, why('tracks[1].filename', 'a\nb.opus', 'tracks'));
    await refused({ source, tracks: [{ id: 3, filename: 's.srt\n' }] }, why('tracks[0].filename', 's.srt\n', 'tracks'));
    await refused({ source, attachments: [{ id: 1, filename: 'f\r\n.ttf' }] }, why('attachments[0].filename', 'f\r\n.ttf', 'attachments'));
    await refused({ source, timestamps: [{ id: 0, filename: 't\r.txt' }] }, why('timestamps[0].filename', 't\r.txt', 'timestamps'));
    await refused({ source, chapters: 'ch.xml', cues: [{ id: 0, filename: '\nc.txt' }] }, why('cues[0].filename', '\nc.txt', 'cues'));
  });

  it('a failure at run leaves no file, not even the outputs that were extracted fine', async () => {
    const d = await out();
    // The audio track has no cues: mkvextract fails after writing the other files into the attempt's folders.
    const r = await run(d, { source, tracks: [{ id: 3, filename: 'subs.srt' }], chapters: 'ch.xml', cues: [{ id: 1, filename: 'cues.txt' }] });
    expect(r.result.completed).toBe(false);
    expect(r.result.code).toBe(ErrorCodes.RUN);
    expect(r.result.message).toBe('cues[0]: mkvextract failed (exit 2): There are no cues for track ID 1.');
    expect(await listing(d)).toEqual([]);
  });

  it('an output that fails its check is not promoted, and neither are the good ones', async () => {
    const d = await out();
    const fake = fileURLToPath(new URL('./fixtures/fake-mkvextract-truncated.mjs', import.meta.url));
    const r = await runTask(mkvextractModule, { source, tracks: [{ id: 3, filename: 'subs.srt' }], attachments: [{ id: 1, filename: 'font.ttf' }], chapters: 'ch.xml' }, {
      cwd: d,
      allowedRoots: [dir],
      settings: { mkvextract: fake },
    });
    expect(r.result.code).toBe(ErrorCodes.OUTPUT_UNVERIFIED);
    expect(r.result.message).toBe('chapters: the extracted chapters (ch.xml) is not a complete <Chapters> XML document; nothing was promoted');
    expect(r.progress.some((p) => p.percent === 100)).toBe(false);
    expect(await listing(d)).toEqual([]);
  });

  it('a cancelled extraction leaves no file (the outputs written so far are removed with the attempt)', async () => {
    const d = await out();
    const fake = fileURLToPath(new URL('./fixtures/fake-mkvextract-hang.mjs', import.meta.url));
    const controller = new AbortController();
    const started = Date.now();
    const r = await runTask(mkvextractModule, { source, tracks: [{ id: 3, filename: 'subs.srt' }], chapters: 'ch.xml' }, {
      cwd: d,
      allowedRoots: [dir],
      settings: { mkvextract: fake },
      signal: controller.signal,
      onProgress: (p) => {
        if (p.percent === 50) controller.abort();
      },
    });
    expect(r.result.tasks[0]!.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.progress.map((p) => p.percent)).toEqual([50]);
    expect(await listing(d)).toEqual([]);
  });

  it('a source an earlier task writes is identified at run; an id it lacks then fails the run naming the entry', async () => {
    const d = await out();
    const engine = createEngine({ plugins: [cleanupPlugin], modules: [mkvextractModule], cwd: d, allowedRoots: [dir] });
    const job = (trackId: number) => ({
      job_title: 'copy then extract',
      tasks: [
        { module: 'cleanup', data: { copy: [{ source, destination: join(d, 'copy.mkv') }] } },
        { module: 'mkvextract', data: { source: 'copy.mkv', tracks: [{ id: trackId, track_type: 'subtitles', filename: 'subs.srt' }] } },
      ],
    });
    const planned = await engine.validate(job(0));
    expect(planned.tasks[1]!.plan![0]).toMatch(/^mkvmerge -J .*copy\.mkv \(written by an earlier task\), then: .*mkvextract .*copy\.mkv --gui-mode tracks 0:.*subs\.srt \(track ids by type\/language resolved then\)$/);
    const ok = await engine.run(job(0));
    expect(ok.completed, ok.message).toBe(true);
    expect((await identify(join(d, 'subs.srt'))).tracks.map((t) => t.type)).toEqual(['subtitles']);
    // Gone again: the source is then identified at run, not at validate.
    await rm(join(d, 'subs.srt'));
    await rm(join(d, 'copy.mkv'));
    const bad = await engine.run(job(1));
    expect(bad.code).toBe(ErrorCodes.RUN);
    expect(bad.message).toBe('tracks[0].id: 1 asks for the 2nd track with track_type subtitles, but there is only 1: 3 subtitles (SubRip/SRT, eng)');
    expect(await listing(d)).toEqual(['copy.mkv']);
  });
});

describe('mkvextract: the original data shape', () => {
  // The sample job data of the original (sisyphus-docs, docs/operations/modules/mkvextract.md, its trailing
  // commas removed) and edge cases of the original schema (JamesTheBard/sisyphus-matroska,
  // schema/mkvextract.schema.json). `original` is what that schema decides (checked with Python's jsonschema).
  const samples: Array<{ name: string; data: unknown; original: boolean; ours: boolean; why?: string }> = [
    {
      name: 'the docs full example',
      original: true,
      ours: true,
      data: {
        source: 'source_file.mkv',
        tracks: [{ id: 0, track_type: 'subtitles', language: 'jpn', filename: 'subtitles.ass' }],
        attachments: [{ id: 0, filename: 'cool_font.ttf' }],
        chapters: 'chapters.xml',
        tags: 'tags.xml',
        timestamps: [{ id: 0, filename: 'timestamps_v2.txt' }],
        cues: [{ id: 0, filename: 'cue_information.txt' }],
      },
    },
    { name: 'the docs tracks example', original: true, ours: true, data: { source: 's.mkv', tracks: [{ id: 0, track_type: 'subtitles', language: 'jpn', filename: 'subtitles.ass' }] } },
    { name: 'the docs task skeleton', original: true, ours: false, why: 'items without id/filename: the original worker failed at run', data: { source: '', tracks: [{}], attachments: [{}], chapters: '', tags: '', timestamps: [{}], cues: [{}] } },
    { name: 'source only', original: false, ours: false, data: { source: 'a.mkv' } },
    { name: 'no source', original: false, ours: false, data: { chapters: 'c.xml', tags: 't.xml' } },
    { name: 'an unknown top-level key', original: false, ours: false, data: { source: 'a.mkv', chapters: 'c.xml', output: 'x' } },
    { name: 'an item without filename', original: true, ours: false, why: 'the original worker failed at run', data: { source: 'a.mkv', tracks: [{ id: 0 }] } },
    { name: 'a numeric language', original: true, ours: false, why: 'matched no track: the original failed at run', data: { source: 'a.mkv', tracks: [{ id: 0, filename: 'x', language: 5 }] } },
    { name: 'a misspelt item key', original: true, ours: false, why: 'refused: it would silently pick another track', data: { source: 'a.mkv', tracks: [{ id: 0, filename: 'x', langauge: 'jpn' }] } },
    { name: 'an empty tracks list', original: true, ours: false, why: 'nothing to extract: refused where the job is submitted, not on a worker', data: { source: 'a.mkv', tracks: [] } },
    { name: 'empty lists beside chapters', original: true, ours: true, data: { source: 'a.mkv', tracks: [], cues: [], chapters: 'c.xml' } },
    { name: 'only empty lists and a misspelt key', original: false, ours: false, data: { source: 'a.mkv', tracks: [], chapter: 'c.xml' } },
  ];
  for (const s of samples) {
    it(`${s.name}: the original schema says ${s.original ? 'valid' : 'invalid'}, ours ${s.ours ? 'valid' : 'invalid'}${s.why ? ` (${s.why})` : ''}`, () => {
      expect(Check(MkvextractDataSchema, s.data)).toBe(s.ours);
      if (s.original !== s.ours) expect(s.why).toBeTruthy();
    });
  }

  it('the docs full example runs unchanged once its files exist (attachment 0 is refused: mkvextract has none)', async () => {
    const d = await out();
    await execa('cp', [source, join(d, 'source_file.mkv')]);
    // The docs' source holds Japanese subtitles; ours has English ones: same entry, our language.
    const data = JSON.parse(JSON.stringify(samples[0]!.data)) as MkvextractData;
    data.tracks![0]!.language = 'eng';
    const r = await run(d, data);
    expect(r.result.message).toBe('attachments[0].id: the source has no attachment 0 (attachment ids start at 1); its attachments are 1 in-font.ttf');
    data.attachments![0]!.id = 1;
    const ok = await run(d, data);
    expect(ok.result.completed, ok.result.message).toBe(true);
    expect(await listing(d)).toEqual(['chapters.xml', 'cool_font.ttf', 'cue_information.txt', 'source_file.mkv', 'subtitles.ass', 'tags.xml', 'timestamps_v2.txt']);
    expect((await identify(join(d, 'subtitles.ass'))).tracks.map((t) => t.codec)).toEqual(['SubRip/SRT']);
  });
});

