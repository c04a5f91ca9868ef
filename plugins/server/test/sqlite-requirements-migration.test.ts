import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, foldTitle } from '../src/store/sqlite-schema.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'sisyphus-sqlite-requirements-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const iso = (s: number) => new Date(Date.UTC(2026, 10, 1) + s * 1000).toISOString();
const T = Date.parse(iso(100));
const LEASE = 60_000;
const GPU = { all: ['encoder:hevc_nvenc', 'module:ffmpeg', 'tag:gpu'], explicit: true };

/** A database as the version-4 server left it, with queued jobs (no requirements then). */
function writeVersion4(file: string): void {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  old.function('sisyphus_fold_title', { deterministic: true }, (title: unknown) => foldTitle(String(title)));
  for (const step of MIGRATIONS.slice(0, 4)) old.exec(step);
  old.pragma('user_version = 4');
  const insert = old.prepare(
    `INSERT INTO jobs (job_id, job_title, title_folded, job, state, priority, seq, submit_seq, added, attempts, cancel_requested)
     VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, 0, 0)`,
  );
  for (const [i, id] of ['old-a', 'old-b'].entries()) {
    insert.run(id, `Title ${id}`, `title ${id}`, JSON.stringify({ job_id: id, job_title: `Title ${id}`, added: iso(i), tasks: [] }), 0, i + 1, i + 1, iso(i));
  }
  old.close();
}

describe('sqlite store: schema 5 (capability routing)', () => {
  it('migrates a version-4 database: its queued jobs have no requirements and go to any worker, in order, beside new jobs that have some', async () => {
    const file = join(dir, 'version-4.db');
    writeVersion4(file);
    const store = openSqliteStore(file);
    try {
      expect(SCHEMA_VERSION).toBe(5);
      expect(store.db.pragma('user_version', { simple: true })).toBe(5);
      expect((await store.get('old-a'))!.requires).toBeUndefined();
      await store.submit({ job_id: 'gpu', job_title: 'gpu', job: { job_id: 'gpu', job_title: 'gpu', tasks: [] }, priority: 5, added: iso(10), requires: GPU });
      // A worker advertising nothing (the original one) gets the old jobs, not the GPU one.
      expect((await store.lease('legacy', LEASE, T))!.job_id).toBe('old-a');
      expect((await store.lease('cpu', LEASE, T, { capabilities: ['module:ffmpeg'] }))!.job_id).toBe('old-b');
      expect(await store.lease('cpu', LEASE, T, { capabilities: ['module:ffmpeg'] })).toBeUndefined();
      expect((await store.lease('gpu-worker', LEASE, T, { capabilities: GPU.all }))!.job_id).toBe('gpu');
    } finally {
      await store.close();
    }
  });

  it('a set another process added before this one added its own is still known: its jobs go only to workers that can run them', async () => {
    const file = join(dir, 'shared-2.db');
    const a = openSqliteStore(file);
    const b = openSqliteStore(file);
    const cpu = { all: ['module:ffmpeg', 'tag:cpu'], explicit: true };
    try {
      await b.submit({ job_id: 'gpu-job', job_title: 'g', job: { job_id: 'gpu-job', job_title: 'g', tasks: [] }, priority: 0, added: iso(1), requires: GPU });
      await a.submit({ job_id: 'cpu-job', job_title: 'c', job: { job_id: 'cpu-job', job_title: 'c', tasks: [] }, priority: 0, added: iso(2), requires: cpu });
      expect((await a.lease('cpu-worker', LEASE, T, { capabilities: cpu.all }))!.job_id).toBe('cpu-job');
      expect(await a.lease('cpu-worker', LEASE, T, { capabilities: cpu.all })).toBeUndefined();
      expect((await a.lease('gpu-worker', LEASE, T, { capabilities: GPU.all }))!.job_id).toBe('gpu-job');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps requirement sets across processes: a set added by one store is found by a second on the same file', async () => {
    const file = join(dir, 'shared.db');
    const a = openSqliteStore(file);
    const b = openSqliteStore(file);
    try {
      // b learns the (empty) set table first, then a adds a set b has never seen.
      expect(await b.lease('w', LEASE, T, { capabilities: [] })).toBeUndefined();
      await a.submit({ job_id: 'x', job_title: 'x', job: { job_id: 'x', job_title: 'x', tasks: [] }, priority: 0, added: iso(1), requires: GPU });
      expect(await b.lease('cpu', LEASE, T, { capabilities: ['module:ffmpeg'] })).toBeUndefined();
      expect((await b.lease('gpu-worker', LEASE, T, { capabilities: GPU.all }))!.job_id).toBe('x');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('sqlite store: the lease of a worker that cannot run everything', () => {
  it('finds each requirement set\'s head by one lookup on the per-set index, never by walking the queue', async () => {
    const { HEAD_OF_SET, HEAD_WITHOUT_REQUIREMENTS } = await import('../src/store/sqlite-requirements.js');
    const store = openSqliteStore(':memory:');
    try {
      for (const [sql, params] of [[HEAD_WITHOUT_REQUIREMENTS, []], [HEAD_OF_SET, [1]]] as const) {
        const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
        // One search on the index, no temporary sort.
        expect(plan).toEqual([expect.stringMatching(/^SEARCH jobs USING INDEX jobs_queue_by_requires \(requires_id=\?\)$/)]);
      }
    } finally {
      await store.close();
    }
  });
});
