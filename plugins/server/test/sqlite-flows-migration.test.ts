import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, foldTitle } from '../src/store/sqlite-schema.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { queuedJobs } from '../src/testing/queued-jobs.js';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'sisyphus-sqlite-flows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const iso = (s: number) => new Date(Date.UTC(2025, 8, 1) + s * 1000).toISOString();
const T = Date.parse(iso(100));
const LEASE = 60_000;

/** A database as the version-3 server left it: its schema, and rows as it wrote them. */
function writeVersion3(file: string): void {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  old.function('sisyphus_fold_title', { deterministic: true }, (title: unknown) => foldTitle(String(title)));
  for (const step of MIGRATIONS.slice(0, 3)) old.exec(step);
  old.pragma('user_version = 3');
  const insert = old.prepare(
    `INSERT INTO jobs (job_id, job_title, title_folded, job, state, priority, seq, submit_seq, added, attempts, worker_id, lease_expires,
       started_at, finished_at, result, reason, cancel_requested, retry_of, retried_as)
     VALUES (@job_id, @job_title, @title_folded, @job, @state, @priority, @seq, @submit_seq, @added, @attempts, @worker_id, @lease_expires,
       @started_at, @finished_at, @result, @reason, @cancel_requested, @retry_of, @retried_as)`,
  );
  const row = (job_id: string, state: string, seq: number, extra: Record<string, unknown> = {}) => ({
    job_id, job_title: `Title ${job_id}`, title_folded: `title ${job_id}`, job: JSON.stringify({ job_id, job_title: `Title ${job_id}`, added: iso(seq), tasks: [] }),
    state, priority: 0, seq, submit_seq: seq, added: iso(seq), attempts: 0, worker_id: null, lease_expires: null, started_at: null, finished_at: null,
    result: null, reason: null, cancel_requested: 0, retry_of: null, retried_as: null, ...extra,
  });
  insert.run(row('done', 'completed', 1, { attempts: 1, worker_id: 'w1', started_at: iso(20), finished_at: iso(30), result: '{"completed":true}' }));
  insert.run(row('broken', 'failed', 2, { attempts: 1, worker_id: 'w2', started_at: iso(21), finished_at: iso(31), reason: 'RunError: x', retried_as: 'gone' }));
  insert.run(row('busy', 'running', 3, { attempts: 1, worker_id: 'w1', started_at: iso(40), lease_expires: T + 10 * LEASE }));
  insert.run(row('waiting', 'queued', 4));
  old.close();
}

const child = (job_id: string, seq: number) => ({ job_id, job_title: `child ${job_id}`, job: { job_id, job_title: `child ${job_id}`, tasks: [] }, priority: 0, added: iso(seq) });

describe('sqlite store: schema 4 (flows)', () => {
  it('migrates a database of schema version 3 in place: jobs keep their fields and order, and flows work on them', async () => {
    const file = join(dir, 'version-3.db');
    writeVersion3(file);
    const store = openSqliteStore(file);
    try {
      expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(4);
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(await store.get('done')).toEqual({
        job_id: 'done', job_title: 'Title done', job: { job_id: 'done', job_title: 'Title done', added: iso(1), tasks: [] }, state: 'completed',
        priority: 0, added: iso(1), attempts: 1, worker_id: 'w1', started_at: iso(20), finished_at: iso(30), result: { completed: true },
      });
      expect(await store.get('busy')).toMatchObject({ state: 'running', worker_id: 'w1', lease_expires: T + 10 * LEASE });
      expect((await store.get('busy'))!.parent_id).toBeUndefined();
      expect((await store.get('busy'))!.flow).toBeUndefined();
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(['waiting']);
      expect(await store.counts(0)).toEqual({ queued: 1, running: 1, waiting: 0, completed: 1, failed: 1, cancelled: 0 });
      expect(await store.childResults('done')).toEqual([]);
      expect(await store.children('done')).toEqual([]);

      // The job that was running when the old server stopped hands over children and waits.
      const wait = { result: { tasks: [] }, task_index: 0, state: { cuts: [0, 10] }, children: [child('c1', 50), child('c2', 51)], finally: child('fin', 52) };
      expect(await store.waitForChildren('busy', 'w1', wait, T)).toBe('ok');
      expect(await store.get('busy')).toMatchObject({ state: 'waiting-children', attempts: 0, flow: { round: 1, children: ['c1', 'c2'], pending: 2 } });
      expect(await store.counts(0)).toMatchObject({ waiting: 1, queued: 3 });
      expect((await store.list({ state: 'waiting-children', limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['busy']);
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(['waiting', 'c1', 'c2']);
      expect((await store.lease('w2', LEASE, T + 1))?.job_id).toBe('waiting');
      for (const id of ['c1', 'c2']) {
        expect((await store.lease('w2', LEASE, T + 2))?.job_id).toBe(id);
        expect(await store.finish(id, 'w2', { state: 'completed', result: { id } }, T + 3)).toBe('ok');
      }
      expect((await store.lease('w3', LEASE, T + 4))).toMatchObject({ job_id: 'busy', attempts: 1, flow: { pending: 0 } });
      expect(await store.childResults('busy')).toEqual([
        { job_id: 'c1', job_title: 'child c1', state: 'completed', result: { id: 'c1' } },
        { job_id: 'c2', job_title: 'child c2', state: 'completed', result: { id: 'c2' } },
      ]);
      // An old failed job whose retry is gone is retried, and is no child.
      const again = await store.retry('broken', { ...child('again', 60), retry_of: 'broken' });
      expect(again.parent_id).toBeUndefined();
    } finally {
      await store.close();
    }
    // Opening the migrated file again changes nothing.
    const reopened = openSqliteStore(file);
    try {
      expect(reopened.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(await reopened.get('busy')).toMatchObject({ state: 'running', worker_id: 'w3', flow: { round: 1, pending: 0, state: { cuts: [0, 10] } } });
      expect((await reopened.children('busy')).map((j) => j.job_id)).toEqual(['c1', 'c2']);
      expect(await reopened.finish('busy', 'w3', { state: 'failed', reason: 'x' }, T + 5)).toBe('ok');
      expect(await reopened.get('fin')).toMatchObject({ state: 'queued', parent_id: 'busy' });
    } finally {
      await reopened.close();
    }
  });

  it('children() and a child\'s end find their rows by index', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const plan = (sql: string) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('x') as Array<{ detail: string }>).map((r) => r.detail).join('; ');
      expect(plan('SELECT * FROM jobs WHERE parent_id = ? ORDER BY submit_seq')).toMatch(/USING INDEX jobs_parent/);
      expect(plan('SELECT * FROM job_children WHERE child_id = ? AND state IS NULL')).toMatch(/USING INDEX job_children_child/);
      expect(plan('SELECT * FROM job_children WHERE parent_id = ?')).toMatch(/USING (INDEX sqlite_autoindex_job_children_1|PRIMARY KEY)/);
    } finally {
      await store.close();
    }
  });
});
