import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchFileRecord } from '../src/store/watch-store.js';
import { decideFile, type DecisionInput } from '../src/watch/file-decision.js';
import { FileFilter } from '../src/watch/file-filter.js';
import { FINGERPRINT_SAMPLE, fileFingerprint } from '../src/watch/file-fingerprint.js';
import { fileVariables } from '../src/watch/file-variables.js';
import { walkFiles } from '../src/watch/file-walk.js';
import { pathsNamedBy } from '../src/watch/job-paths.js';
import { StabilityTracker } from '../src/watch/stability-tracker.js';

// The parts of the watch folders, each on its own: the stability rule on a fake clock, the
// decision table, patterns, variables, fingerprints and the walk on real files.

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sis-watch-parts-'));
  dirs.push(dir);
  return dir;
}

describe('StabilityTracker (fake clock)', () => {
  it('a file counts once its size and time stayed the same for stable_seconds', () => {
    const tracker = new StabilityTracker(10_000, 0);
    let now = 1_000_000;
    let seen = tracker.observe('/a', 100, 5, now);
    expect(tracker.stability(seen, now)).toMatchObject({ stable: false, skip: 'unstable', at: now + 10_000 });
    now += 6000;
    // Grew: the wait starts again.
    seen = tracker.observe('/a', 200, 6, now);
    now += 6000;
    expect(tracker.observe('/a', 200, 6, now)).toBe(seen);
    expect(tracker.stability(seen, now)).toMatchObject({ stable: false, reason: expect.stringContaining('unchanged for 6 s') });
    expect(tracker.due(now)).toEqual([]);
    now += 4000;
    expect(tracker.stability(seen, now)).toEqual({ stable: true });
    expect(tracker.due(now)).toEqual(['/a']);
    tracker.settle('/a');
    expect(tracker.due(now + 60_000)).toEqual([]);
    // The same version again changes nothing; a new one opens it again.
    tracker.observe('/a', 200, 6, now);
    expect(tracker.due(now + 60_000)).toEqual([]);
    tracker.observe('/a', 200, 7, now);
    expect(tracker.due(now + 10_000)).toEqual(['/a']);
    tracker.settle('/a');
    tracker.reopen('/a');
    expect(tracker.due(now + 10_000)).toEqual(['/a']);
    tracker.forget('/a');
    expect(tracker.due(now + 10_000)).toEqual([]);
    expect(tracker.size).toEqual({ seen: 0, waiting: 0 });
  });

  it('min_age_seconds: the file time must be that old', () => {
    const tracker = new StabilityTracker(0, 60_000);
    const now = 10_000_000;
    const young = tracker.observe('/young', 1, now - 5000, now);
    const old = tracker.observe('/old', 1, now - 61_000, now);
    expect(tracker.stability(young, now)).toMatchObject({ stable: false, skip: 'too-new', at: now + 55_000 });
    expect(tracker.stability(old, now)).toEqual({ stable: true });
    expect(tracker.due(now)).toEqual(['/old']);
    expect(tracker.due(now + 55_000).sort()).toEqual(['/old', '/young']);
    // Without a minimum age, a file time in the future (a clock ahead) does not hold a file back.
    const plain = new StabilityTracker(0, 0);
    expect(plain.stability(plain.observe('/future', 1, now + 3600_000, now), now)).toEqual({ stable: true });
  });
});

describe('decideFile', () => {
  const record = (extra: Partial<WatchFileRecord> = {}): WatchFileRecord => ({
    rule: 'r', path: '/a.mkv', size: 10, mtime_ms: 100, fingerprint: 'h1:same', job_id: 'j1', outcome: 'completed', failures: 0, attention: false, updated_at: 0, ...extra,
  });
  const input = (extra: Partial<DecisionInput> = {}) => {
    const calls = { n: 0 };
    const value: DecisionInput = { path: '/a.mkv', size: 10, mtimeMs: 100, outputsAreWork: false, fingerprint: async () => (calls.n++, 'h1:same'), ...extra };
    return { value, calls };
  };

  it('submits a new file; never the same version again, whatever its job did; no fingerprint for an unchanged one', async () => {
    const fresh = input();
    expect((await decideFile(fresh.value)).decision).toEqual({ action: 'submit', reason: 'new file' });
    for (const outcome of ['completed', 'failed', 'cancelled', 'removed'] as const) {
      const same = input({ record: record({ outcome }) });
      expect((await decideFile(same.value)).decision).toEqual({ action: 'skip', skip: 'unchanged', reason: `unchanged since job j1 (${outcome})`, job_id: 'j1' });
      expect(same.calls.n).toBe(0);
    }
  });

  it('a touch (same size and fingerprint, new time) is no job and updates the record; a change is', async () => {
    const touched = input({ mtimeMs: 200, record: record() });
    const out = await decideFile(touched.value);
    expect(out.decision).toMatchObject({ action: 'skip', skip: 'touched', job_id: 'j1' });
    expect(out.record).toMatchObject({ mtime_ms: 200, job_id: 'j1' });
    expect(touched.calls.n).toBe(1);
    const edited = input({ mtimeMs: 200, record: record(), fingerprint: async () => 'h1:other' });
    expect((await decideFile(edited.value)).decision).toEqual({ action: 'submit', reason: 'changed since job j1 (completed)' });
    // Another size: changed without reading it.
    const grown = input({ size: 11, mtimeMs: 200, record: record() });
    expect((await decideFile(grown.value)).decision.action).toBe('submit');
    expect(grown.calls.n).toBe(0);
  });

  it('a file whose job has not ended waits; one its own job wrote, or needing attention, is left alone', async () => {
    expect((await decideFile(input({ size: 99, record: record({ outcome: 'pending' }), recordJobState: 'running' }).value)).decision).toMatchObject({ skip: 'in-progress', reason: 'job j1 for this file is running' });
    expect((await decideFile(input({ record: record({ written: true }) }).value)).decision).toMatchObject({ skip: 'written', reason: 'written by its own job j1' });
    const stuck = record({ attention: true, failures: 3, outcome: 'failed' });
    expect((await decideFile(input({ size: 99, record: stuck }).value)).decision).toMatchObject({ skip: 'attention', reason: expect.stringContaining('needs attention after 3 failed jobs in a row (last: job j1)') });
  });

  it('outputs of jobs are not work unless the rule says so', async () => {
    const output = { path: '/a.mkv', job_id: 'w1', size: 10, mtime_ms: 100, fingerprint: 'h1:same', at: 0 };
    expect((await decideFile(input({ output }).value)).decision).toMatchObject({ skip: 'output', reason: 'an output of job w1' });
    expect((await decideFile(input({ output: { path: '/a.mkv', job_id: 'w2', at: 0 } }).value)).decision).toMatchObject({ skip: 'output-pending', reason: 'job w2 will write it' });
    const touchedOutput = await decideFile(input({ mtimeMs: 300, output }).value);
    expect(touchedOutput.decision.skip).toBe('output');
    expect(touchedOutput.output).toMatchObject({ mtime_ms: 300 });
    // Changed since the job wrote it: work again.
    expect((await decideFile(input({ size: 12, output }).value)).decision.action).toBe('submit');
    expect((await decideFile(input({ output, outputsAreWork: true }).value)).decision.action).toBe('submit');
  });
});

describe('FileFilter', () => {
  it('matches names in any folder, paths with a slash, leaves dot files and Sisyphus\' own names alone', () => {
    const filter = new FileFilter(['*.mkv', 'keep/**/*.mp4'], ['*sample*', 'skip/**']);
    expect(filter.test('a.mkv')).toEqual({ take: true });
    expect(filter.test('deep/er/a.mkv')).toEqual({ take: true });
    expect(filter.test('keep/x/b.mp4')).toEqual({ take: true });
    expect(filter.test('other/b.mp4')).toMatchObject({ take: false, skip: 'not-included' });
    expect(filter.test('a-sample.mkv')).toMatchObject({ take: false, skip: 'excluded', reason: 'excluded by "*sample*"' });
    expect(filter.test('skip/a.mkv')).toMatchObject({ take: false, skip: 'excluded' });
    expect(filter.test('.a.mkv.Xy12ab')).toMatchObject({ take: false, skip: 'not-included' });
    expect(filter.test('.hidden.mkv')).toMatchObject({ take: false });
    expect(filter.test('x/.sisyphus-tmp-0a1b2c/a.mkv')).toMatchObject({ take: false, skip: 'own-file' });
    expect(filter.test('.sisyphus-claim-0123456789abcdef')).toMatchObject({ take: false, skip: 'own-file' });
    expect(filter.test('sisyphus-job-0123456789ab/a.mkv')).toMatchObject({ take: false, skip: 'own-file' });
    expect(new FileFilter(['**/*'], []).test('a/b/c.txt')).toEqual({ take: true });
  });
});

describe('fileVariables and pathsNamedBy', () => {
  it('fills the variables from the file', () => {
    expect(fileVariables('/srv/in/Show S01/ep 1.final.mkv', { size: 42, mtimeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678.9) }, '/srv/in', 'tv')).toEqual({
      source_file: '/srv/in/Show S01/ep 1.final.mkv',
      dir: '/srv/in/Show S01',
      name: 'ep 1.final.mkv',
      stem: 'ep 1.final',
      ext: 'mkv',
      size: 42,
      mtime: '2026-01-02T03:04:05.678Z',
      folder: '/srv/in',
      relative_path: 'Show S01/ep 1.final.mkv',
      rule: 'tv',
    });
    expect(fileVariables('/srv/in/README', { size: 0, mtimeMs: 0 }, '/srv/in', 'r')).toMatchObject({ stem: 'README', ext: '' });
  });

  it('finds the absolute paths inside the watched folders that a job names', () => {
    const job = {
      job_title: '/srv/in/not-data.mkv',
      tasks: [
        { module: 'ffmpeg', data: { source: '/srv/in/a.mkv', output: '/srv/in/../in/out/a.hevc.mkv', options: { '-i': 'file:///srv/in/sub%20title.srt' } } },
        { module: 'cleanup', data: { move: [{ source: '/elsewhere/x', destination: '/srv/in2/y' }], delete: ['relative/z', '/srv/in'] } },
      ],
    };
    expect(pathsNamedBy(job, ['/srv/in', '/srv/in2']).sort()).toEqual(['/srv/in/a.mkv', '/srv/in/out/a.hevc.mkv', '/srv/in/sub title.srt', '/srv/in2/y'].sort());
  });
});

describe('fileFingerprint and walkFiles (real files)', () => {
  it('a fingerprint follows the content, not the time; large files are sampled at start, middle and end', async () => {
    const dir = await tempDir();
    const small = join(dir, 'small.bin');
    await writeFile(small, 'hello');
    const before = await fileFingerprint(small, 5);
    expect(before).toMatch(/^h1:[0-9a-f]{64}$/);
    await utimes(small, new Date(0), new Date(0));
    expect(await fileFingerprint(small, 5)).toBe(before);
    await writeFile(small, 'hellO');
    expect(await fileFingerprint(small, 5)).not.toBe(before);

    const size = 4 * FINGERPRINT_SAMPLE;
    const big = Buffer.alloc(size, 7);
    const file = join(dir, 'big.bin');
    await writeFile(file, big);
    const original = await fileFingerprint(file, size);
    big[Math.floor(size / 2)] = 8; // in the middle sample
    await writeFile(file, big);
    const middle = await fileFingerprint(file, size);
    expect(middle).not.toBe(original);
    big[size - 1] = 9; // in the last sample
    await writeFile(file, big);
    expect(await fileFingerprint(file, size)).not.toBe(middle);
    big[FINGERPRINT_SAMPLE + 10] = 1; // between samples: not seen (the documented blind spot)
    const unseen = await fileFingerprint(file, size);
    await writeFile(file, big);
    expect(await fileFingerprint(file, size)).toBe(unseen);
  });

  it('walks regular files depth first, skipping Sisyphus\' folders and linked folders, recursive or not', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await mkdir(join(dir, '.sisyphus-tmp-0a1b2c'));
    await mkdir(join(dir, 'outside'));
    await writeFile(join(dir, 'top.mkv'), '1');
    await writeFile(join(dir, 'a', 'b', 'deep.mkv'), '22');
    await writeFile(join(dir, '.sisyphus-tmp-0a1b2c', 'partial.mkv'), '3');
    await writeFile(join(dir, 'outside', 'o.mkv'), '4');
    await symlink(join(dir, 'outside'), join(dir, 'a', 'linked-folder'));
    await symlink(join(dir, 'top.mkv'), join(dir, 'a', 'linked-file.mkv'));
    await symlink(join(dir, 'gone'), join(dir, 'a', 'dangling.mkv'));
    const walk = async (recursive: boolean) => {
      const out = [];
      for await (const f of walkFiles(join(dir), { recursive, skipFolder: (name) => name.startsWith('.sisyphus-') })) out.push(f);
      return out;
    };
    const all = await walk(true);
    expect(all.map((f) => f.relative).sort()).toEqual(['a/b/deep.mkv', 'a/linked-file.mkv', 'outside/o.mkv', 'top.mkv']);
    expect(all.find((f) => f.relative === 'a/b/deep.mkv')).toMatchObject({ path: join(dir, 'a', 'b', 'deep.mkv'), size: 2 });
    expect((await walk(false)).map((f) => f.relative)).toEqual(['top.mkv']);
    await expect(walkFiles(join(dir, 'nope'), { recursive: true }).next()).rejects.toThrow(/ENOENT/);
  });
});
