import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueStore } from '../store/queue-store.js';
import type { WatchFileRecord, WatchStore } from '../store/watch-store.js';
import { expectStoreError } from './store-suite/expect-store-error.js';

/** Options of {@link describeWatchStore}. */
export interface WatchStoreSuiteOptions {
  /** Open the store the last `open()` returned again after it was closed: rules, records and outputs must survive. */
  reopen?: () => Promise<QueueStore> | QueueStore;
}

/** A path that breaks naive escaping (spaces, quotes, a colon, non-Latin and astral characters). */
const TRICKY = '/media/in/Tom & Jerry "S01" : ü 日本 🎬.mkv';

const T0 = Date.UTC(2026, 0, 1);

/** A file record of rule `rule` for `path`. */
function fileRecord(rule: string, path: string, extra: Partial<WatchFileRecord> = {}): WatchFileRecord {
  return { rule, path, size: 1234, mtime_ms: T0 + 0.5, fingerprint: 'h1:abc', outcome: 'completed', job_id: `job-${path}`, failures: 0, attention: false, updated_at: T0, ...extra };
}

/**
 * The conformance suite of the watch part of a store ({@link QueueStore.watch}):
 * rules, scan statuses, file records (batch reads, the open-job index, the
 * attention listing and its paging), output records and the scanner lease.
 * `open` returns a fresh, empty store each time; the suite closes it after
 * each test. The lease test waits real time (a store may count leases with
 * its own clock, as Redis does).
 */
export function describeWatchStore(name: string, open: () => Promise<QueueStore> | QueueStore, options: WatchStoreSuiteOptions = {}): void {
  describe(`WatchStore conformance: ${name}`, () => {
    let store: QueueStore;
    let watch: WatchStore;
    beforeEach(async () => {
      store = await open();
      expect(store.watch, 'the store has a watch part').toBeDefined();
      watch = store.watch!;
    });
    afterEach(async () => {
      await store.close();
    });

    it('puts, lists, replaces and deletes rules (by name, byte order)', async () => {
      expect(await watch.rules()).toEqual([]);
      await watch.putRule({ name: 'tv', rule: { folders: ['/tv'], template: '/t.json', variables: { crf: 19, nested: { a: [1, 'b'] } } }, updated_at: T0 });
      await watch.putRule({ name: 'Movies', rule: { folders: ['/m'], template: '/t.json' }, updated_at: T0 + 1 });
      expect((await watch.rules()).map((r) => r.name)).toEqual(['Movies', 'tv']);
      expect((await watch.rules())[1]).toEqual({ name: 'tv', rule: { folders: ['/tv'], template: '/t.json', variables: { crf: 19, nested: { a: [1, 'b'] } } }, updated_at: T0 });
      await watch.putRule({ name: 'tv', rule: { folders: ['/tv2'], template: '/t.json' }, updated_at: T0 + 2 });
      expect((await watch.rules()).find((r) => r.name === 'tv')).toEqual({ name: 'tv', rule: { folders: ['/tv2'], template: '/t.json' }, updated_at: T0 + 2 });
      expect(await watch.deleteRule('tv')).toBe(true);
      expect(await watch.deleteRule('tv')).toBe(false);
      expect((await watch.rules()).map((r) => r.name)).toEqual(['Movies']);
    });

    it('keeps the last scan status of each rule', async () => {
      expect(await watch.scanStatuses()).toEqual({});
      const status = { started_at: T0, finished_at: T0 + 5, files: 3, submitted: 1, skipped: { unchanged: 2 }, scanner: 'host/1/abc' };
      await watch.putScanStatus('tv', status);
      await watch.putScanStatus('tv', { ...status, submitted: 0, skipped: { unchanged: 3 }, errors: ['folder /tv: ENOENT'] });
      await watch.putScanStatus('movies', status);
      expect(await watch.scanStatuses()).toEqual({ tv: { ...status, submitted: 0, skipped: { unchanged: 3 }, errors: ['folder /tv: ENOENT'] }, movies: status });
    });

    it('puts and reads file records in batches, per rule, exactly', async () => {
      const a = fileRecord('tv', TRICKY, { written: true, failures: 2 });
      const { job_id: _none, ...b } = fileRecord('tv', '/media/in/b.mkv', { outcome: 'failed', error: 'invalid job: tasks[0].data.x is required' });
      const other = fileRecord('movies', TRICKY, { size: 99 });
      await watch.putFiles([a, b, other]);
      const read = await watch.files('tv', [TRICKY, '/media/in/b.mkv', '/media/in/none.mkv']);
      expect([...read.keys()].sort()).toEqual(['/media/in/b.mkv', TRICKY].sort());
      expect(read.get(TRICKY)).toEqual(a);
      expect(read.get('/media/in/b.mkv')).toEqual(b);
      expect((await watch.files('movies', [TRICKY])).get(TRICKY)).toEqual(other);
      expect((await watch.files('tv', [])).size).toBe(0);
      // Replaced whole.
      const replaced = fileRecord('tv', TRICKY, { size: 5, fingerprint: 'h1:def', outcome: 'pending', job_id: 'j2' });
      await watch.putFiles([replaced]);
      expect((await watch.files('tv', [TRICKY])).get(TRICKY)).toEqual(replaced);
    });

    it('reads 1,200 records in one call (more than a batch of the SQL parameter limit)', async () => {
      const records = Array.from({ length: 1200 }, (_, i) => fileRecord('big', `/big/${String(i).padStart(5, '0')}.mkv`));
      await watch.putFiles(records);
      const read = await watch.files('big', records.map((r) => r.path));
      expect(read.size).toBe(1200);
      expect(read.get('/big/01199.mkv')).toEqual(records[1199]);
    });

    it('finds a record by its job only while the job has not ended', async () => {
      await watch.putFiles([fileRecord('tv', '/a.mkv', { job_id: 'j1', outcome: 'submitting' }), fileRecord('tv', '/b.mkv', { job_id: 'j2', outcome: 'pending' })]);
      expect((await watch.fileOfJob('j1'))?.path).toBe('/a.mkv');
      expect(await watch.fileOfJob('j2')).toMatchObject({ rule: 'tv', path: '/b.mkv', outcome: 'pending' });
      await watch.putFiles([fileRecord('tv', '/a.mkv', { job_id: 'j1', outcome: 'completed' })]);
      expect(await watch.fileOfJob('j1')).toBeUndefined();
      // A record replaced by another job's, or forgotten: its old job finds nothing.
      await watch.putFiles([fileRecord('tv', '/b.mkv', { job_id: 'j3', outcome: 'pending' })]);
      expect(await watch.fileOfJob('j2')).toBeUndefined();
      expect((await watch.fileOfJob('j3'))?.path).toBe('/b.mkv');
      expect(await watch.forgetFile('tv', '/b.mkv')).toBe(true);
      expect(await watch.forgetFile('tv', '/b.mkv')).toBe(false);
      expect(await watch.fileOfJob('j3')).toBeUndefined();
      expect(await watch.fileOfJob('nope')).toBeUndefined();
    });

    it('lists the files that need attention by path, in pages, and counts them', async () => {
      const paths = ['/m/c.mkv', '/m/a.mkv', TRICKY, '/m/b.mkv', '/m/ä.mkv'];
      await watch.putFiles(paths.map((path) => fileRecord('tv', path, { attention: true, failures: 3, outcome: 'failed' })));
      await watch.putFiles([fileRecord('tv', '/m/ok.mkv'), fileRecord('movies', '/m/x.mkv', { attention: true })]);
      expect(await watch.attentionCount('tv')).toBe(5);
      expect(await watch.attentionCount('movies')).toBe(1);
      expect(await watch.attentionCount('none')).toBe(0);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await watch.attention('tv', { limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.files.length).toBeLessThanOrEqual(2);
        for (const f of page.files) expect(f).toMatchObject({ rule: 'tv', attention: true, failures: 3 });
        seen.push(...page.files.map((f) => f.path));
        cursor = page.next;
        pages += 1;
      } while (cursor);
      // Byte order of the UTF-8 paths.
      expect(seen).toEqual([...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      expect(pages).toBe(3);
      // Attention cleared: it leaves the listing.
      await watch.putFiles([fileRecord('tv', '/m/a.mkv', { attention: false, failures: 0 })]);
      expect(await watch.attentionCount('tv')).toBe(4);
      expect((await watch.attention('tv', { limit: 100 })).files.map((f) => f.path)).not.toContain('/m/a.mkv');
      await expectStoreError(watch.attention('tv', { limit: 2, cursor: 'not-a-cursor' }), 'SIS_BAD_CURSOR');
    });

    it('keeps output records: pending ones by job until settled, versions by path', async () => {
      await watch.putOutputs([
        { path: '/m/out1.mkv', job_id: 'j1', at: T0 },
        { path: TRICKY, job_id: 'j1', at: T0 },
        { path: '/m/out2.mkv', job_id: 'j2', at: T0 },
      ]);
      expect((await watch.pendingOutputsOf('j1')).map((o) => o.path).sort()).toEqual(['/m/out1.mkv', TRICKY].sort());
      expect(await watch.pendingOutputsOf('j3')).toEqual([]);
      const settled = { path: '/m/out1.mkv', job_id: 'j1', size: 10, mtime_ms: T0 + 0.25, fingerprint: 'h1:x', at: T0 + 1 };
      await watch.putOutputs([settled]);
      expect((await watch.pendingOutputsOf('j1')).map((o) => o.path)).toEqual([TRICKY]);
      const read = await watch.outputs(['/m/out1.mkv', TRICKY, '/m/none.mkv']);
      expect(read.get('/m/out1.mkv')).toEqual(settled);
      expect(read.get(TRICKY)).toEqual({ path: TRICKY, job_id: 'j1', at: T0 });
      expect(read.has('/m/none.mkv')).toBe(false);
      // Another job takes the path over: the first job no longer has it pending.
      await watch.putOutputs([{ path: TRICKY, job_id: 'j4', at: T0 + 2 }]);
      expect(await watch.pendingOutputsOf('j1')).toEqual([]);
      expect((await watch.pendingOutputsOf('j4')).map((o) => o.path)).toEqual([TRICKY]);
      await watch.deleteOutputs([TRICKY, '/m/out2.mkv', '/m/none.mkv']);
      expect(await watch.pendingOutputsOf('j4')).toEqual([]);
      expect(await watch.pendingOutputsOf('j2')).toEqual([]);
      expect([...(await watch.outputs(['/m/out1.mkv', TRICKY, '/m/out2.mkv'])).keys()]).toEqual(['/m/out1.mkv']);
    });

    it('lets one owner at a time hold a rule\'s scanner lease; it runs out unless renewed', async () => {
      const now = () => Date.now();
      expect(await watch.leaseHolder('tv', now())).toBeUndefined();
      expect(await watch.lease('tv', 'a', 60_000, now())).toBe(true);
      expect(await watch.lease('tv', 'b', 60_000, now())).toBe(false);
      expect(await watch.leaseHolder('tv', now())).toBe('a');
      // Other rules are free; the holder renews.
      expect(await watch.lease('movies', 'b', 60_000, now())).toBe(true);
      expect(await watch.lease('tv', 'a', 60_000, now())).toBe(true);
      // Released by its holder only.
      await watch.releaseLease('tv', 'b');
      expect(await watch.leaseHolder('tv', now())).toBe('a');
      await watch.releaseLease('tv', 'a');
      expect(await watch.leaseHolder('tv', now())).toBeUndefined();
      expect(await watch.lease('tv', 'b', 150, now())).toBe(true);
      expect(await watch.lease('tv', 'a', 60_000, now())).toBe(false);
      // Not renewed: it runs out and another owner takes it.
      const deadline = Date.now() + 10_000;
      while ((await watch.leaseHolder('tv', now())) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await watch.leaseHolder('tv', now())).toBeUndefined();
      expect(await watch.lease('tv', 'a', 60_000, now())).toBe(true);
      expect(await watch.leaseHolder('tv', now())).toBe('a');
    });

    if (options.reopen) {
      it('keeps rules, records, outputs and statuses across a close and reopen', async () => {
        await watch.putRule({ name: 'tv', rule: { folders: ['/tv'], template: '/t.json' }, updated_at: T0 });
        await watch.putFiles([fileRecord('tv', TRICKY, { attention: true, failures: 3 })]);
        await watch.putOutputs([{ path: '/m/o.mkv', job_id: 'j1', at: T0 }]);
        await watch.putScanStatus('tv', { started_at: T0, finished_at: T0, files: 1, submitted: 1, skipped: {} });
        await store.close();
        store = await options.reopen!();
        watch = store.watch!;
        expect((await watch.rules()).map((r) => r.name)).toEqual(['tv']);
        expect((await watch.files('tv', [TRICKY])).get(TRICKY)).toEqual(fileRecord('tv', TRICKY, { attention: true, failures: 3 }));
        expect(await watch.attentionCount('tv')).toBe(1);
        expect((await watch.pendingOutputsOf('j1')).map((o) => o.path)).toEqual(['/m/o.mkv']);
        expect(Object.keys(await watch.scanStatuses())).toEqual(['tv']);
      });
    }
  });
}
