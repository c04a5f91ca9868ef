import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_LOG_KEEP } from '../src/store/queue-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/sqlite-schema.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { describeQueueStore } from '../src/testing/store-conformance.js';
import { queuedJobs } from '../src/testing/queued-jobs.js';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'sisyphus-sqlite-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
let currentFile = '';

describeQueueStore('sqlite :memory:', () => openSqliteStore(':memory:'));

describeQueueStore(
  'sqlite file',
  () => {
    currentFile = join(dir, `store-${++files}.db`);
    return openSqliteStore(currentFile);
  },
  { reopen: () => openSqliteStore(currentFile) },
);

describe('sqlite store specifics', () => {
  it('uses WAL mode on a file', async () => {
    const store = openSqliteStore(join(dir, 'wal.db'));
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      await store.close();
    }
  });

  it('opens an existing file without touching its data, and refuses a newer schema', async () => {
    const file = join(dir, 'versions.db');
    const a = openSqliteStore(file);
    await a.putData('m', 'n', { v: 1 });
    await a.close();
    const b = openSqliteStore(file);
    expect(await b.getData('m', 'n')).toEqual({ v: 1 });
    b.db.pragma('user_version = 99');
    await b.close();
    expect(() => openSqliteStore(file)).toThrow(/schema version 99/);
  });


  it('migrates a database of schema version 2 in place: jobs keep their fields and order, and gain filters, retry, priority moves and the event log', async () => {
    const file = join(dir, 'version-2.db');
    // The database as the version-2 server left it: its schema, and rows as it wrote them.
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(MIGRATIONS[0]!);
    old.exec(MIGRATIONS[1]!);
    old.pragma('user_version = 2');
    const insert = old.prepare(
      `INSERT INTO jobs (job_id, job_title, job, state, priority, seq, added, attempts, worker_id, lease_expires, started_at, finished_at, result, reason, cancel_requested)
       VALUES (@job_id, @job_title, @job, @state, @priority, @seq, @added, @attempts, @worker_id, @lease_expires, @started_at, @finished_at, @result, @reason, @cancel_requested)`,
    );
    const iso = (s: number) => new Date(Date.UTC(2025, 5, 1) + s * 1000).toISOString();
    const row = (job_id: string, job_title: string, state: string, seq: number, extra: Record<string, unknown> = {}) => ({
      job_id, job_title, job: JSON.stringify({ job_id, job_title, added: iso(seq + 10), tasks: [] }), state, priority: 0, seq, added: iso(seq + 10), attempts: 0,
      worker_id: null, lease_expires: null, started_at: null, finished_at: null, result: null, reason: null, cancel_requested: 0, ...extra,
    });
    insert.run(row('done', 'Été Final', 'completed', 1, { attempts: 1, worker_id: 'w1', started_at: iso(20), finished_at: iso(30), result: '{"completed":true}' }));
    insert.run(row('broken', 'ÉTÉ broken', 'failed', 2, { attempts: 1, worker_id: 'w2', started_at: iso(21), finished_at: iso(31), reason: 'RunError: x' }));
    insert.run(row('waiting', 'winter', 'queued', 3));
    insert.run(row('later', 'spring 100%', 'queued', 4));
    // Requeued after its lease ran out: at the head of the queue.
    insert.run(row('requeued', 'autumn', 'queued', -1, { attempts: 1, worker_id: 'w1', started_at: iso(22) }));
    old.close();

    const store = openSqliteStore(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(await store.get('done')).toEqual({
        job_id: 'done', job_title: 'Été Final', job: { job_id: 'done', job_title: 'Été Final', added: iso(11), tasks: [] }, state: 'completed',
        priority: 0, added: iso(11), attempts: 1, worker_id: 'w1', started_at: iso(20), finished_at: iso(30), result: { completed: true },
      });
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(['requeued', 'waiting', 'later']);
      // Titles written before the migration are found case-insensitively, beyond ASCII too.
      expect((await store.list({ title: 'été', limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['broken', 'done']);
      expect((await store.list({ title: 'ÉtÉ f', limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['done']);
      expect((await store.list({ title: '100%', limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['later']);
      expect((await store.list({ workerId: 'w2', limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['broken']);
      expect((await store.list({ since: Date.parse(iso(31)), limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['broken']);
      expect(await store.counts(Date.parse(iso(31)))).toEqual({ queued: 3, running: 0, waiting: 0, completed: 0, failed: 1, cancelled: 0 });
      // A priority move puts an old job back by its submission order.
      expect(await store.setPriority('later', 1)).toBe('ok');
      expect(await store.setPriority('waiting', 1)).toBe('ok');
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(['waiting', 'later', 'requeued']);
      // An old failed job is retried; new jobs queue after the old ones.
      const retry = await store.retry('broken', { job_id: 'again', job_title: 'ÉTÉ broken', job: { job_title: 'ÉTÉ broken', tasks: [] }, priority: 0, added: iso(100), retry_of: 'broken' });
      expect(retry).toMatchObject({ state: 'queued', retry_of: 'broken' });
      expect(await store.get('broken')).toMatchObject({ state: 'failed', retried_as: 'again' });
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(['waiting', 'later', 'requeued', 'again']);
      expect(await store.events.last()).toBeUndefined();
      expect(await store.events.append([{ type: 'queue.cleared', at: 1, data: {} }])).toEqual([expect.stringMatching(/^[0-9a-f]{12}:1$/)]);
    } finally {
      await store.close();
    }
    // Opening the migrated file again changes nothing.
    const again = openSqliteStore(file);
    try {
      expect((await again.get('broken'))?.retried_as).toBe('again');
      expect((await again.events.read(undefined, 10)).events).toHaveLength(1);
    } finally {
      await again.close();
    }
  });

  it('folds titles beyond ASCII for the title filter', async () => {
    const store = openSqliteStore(':memory:');
    try {
      for (const [id, title] of [['a', 'Straße ÄRGER'], ['b', 'ΣΟΦΙΑ'], ['c', 'plain']]) {
        await store.submit({ job_id: id!, job_title: title!, job: {}, priority: 0, added: new Date(0).toISOString() });
      }
      const titled = async (title: string) => (await store.list({ title, limit: 10 })).jobs.map((j) => j.job_id);
      expect(await titled('ärger')).toEqual(['a']);
      expect(await titled('STRASSE')).toEqual([]); // lower case, not full case folding
      expect(await titled('σοφ')).toEqual(['b']);
      expect(await titled('PLAIN')).toEqual(['c']);
    } finally {
      await store.close();
    }
  });

  it('event ids are the log\'s name and row ids that keep increasing across trims and reopens; trimming keeps the log bounded', async () => {
    const file = join(dir, 'events.db');
    let store = openSqliteStore(file);
    const batch = Array.from({ length: 1000 }, (_, n) => ({ type: 'worker.heartbeat', at: n, data: { n } }));
    let last = 0;
    let log = '';
    const id = (n: number | string) => `${log}:${n}`;
    try {
      for (let round = 0; round < 13; round++) {
        const ids = await store.events.append(batch);
        for (const one of ids) {
          const [, name, row] = /^([0-9a-f]{12}):([1-9][0-9]*)$/.exec(one)!;
          log ||= name!;
          expect(name).toBe(log);
          expect(Number(row)).toBeGreaterThan(last);
          last = Number(row);
        }
      }
      const rows = (store.db.prepare('SELECT COUNT(*) AS n, MIN(id) AS oldest FROM events').get() as { n: number; oldest: number });
      expect(rows.n).toBeGreaterThanOrEqual(EVENT_LOG_KEEP);
      expect(rows.n).toBeLessThanOrEqual(EVENT_LOG_KEEP + 1000);
      // The id just before the oldest kept missed nothing; one further back did.
      expect((await store.events.read(id(rows.oldest - 1), 1)).reset).toBe(false);
      expect((await store.events.read(id(rows.oldest - 2), 1)).reset).toBe(true);
      expect((await store.events.read(id(last + 1), 1)).reset).toBe(true); // newer than the newest
      expect((await store.events.read(`000000000000:${last}`, 1)).reset).toBe(true); // another database's (an in-memory store of an earlier run)
      expect((await store.events.read(String(last), 1)).reset).toBe(true); // not as this log prints ids
      expect((await store.events.read(id(`0${last}`), 1)).reset).toBe(true);
      await store.close();
      store = openSqliteStore(file);
      expect(await store.events.last()).toBe(id(last));
      const [next] = await store.events.append([{ type: 'queue.cleared', at: 0, data: {} }]);
      expect(next).toBe(id(last + 1));
    } finally {
      await store.close();
    }
  });

  it('onAppend hears appends made through another store on the same file', async () => {
    const file = join(dir, 'events-shared.db');
    const [a, b] = [openSqliteStore(file), openSqliteStore(file)];
    try {
      const heard = new Promise<void>((resolve) => a.events.onAppend(resolve));
      const [id] = await b.events.append([{ type: 'queue.cleared', at: 0, data: {} }]);
      await heard;
      expect(await a.events.last()).toBe(id);
    } finally {
      await a.close();
      await b.close();
    }
  });


  it('a priority change puts a requeued job back by its submission order; the same priority keeps it at the head', async () => {
    const store = openSqliteStore(':memory:');
    const add = (id: string, priority: number) =>
      store.submit({ job_id: id, job_title: id, job: {}, priority, added: new Date(0).toISOString() });
    try {
      await add('a', 0);
      await add('b', 0);
      await add('c', 0);
      await add('x', 5);
      expect((await store.lease('w1', 10, 0))?.job_id).toBe('x');
      expect((await store.lease('w1', 10, 0))?.job_id).toBe('a');
      expect((await store.lease('w1', 10, 0))?.job_id).toBe('b');
      expect((await store.expireLeases(100, 5)).requeued.sort()).toEqual(['a', 'b', 'x']);
      const ids = async () => (await queuedJobs(store)).map((j) => j.job_id);
      expect(await ids()).toEqual(['x', 'a', 'b', 'c']);
      expect(await store.setPriority('a', 0)).toBe('ok');
      expect(await ids()).toEqual(['x', 'a', 'b', 'c']);
      expect(await store.setPriority('x', 0)).toBe('ok');
      expect(await ids()).toEqual(['a', 'b', 'c', 'x']);
    } finally {
      await store.close();
    }
  });

  it('a failed job whose retry was removed can be retried again', async () => {
    const store = openSqliteStore(':memory:');
    const job = (id: string) => ({ job_id: id, job_title: id, job: {}, priority: 0, added: new Date(0).toISOString() });
    try {
      await store.submit(job('old'));
      await store.lease('w1', 10, 0);
      await store.finish('old', 'w1', { state: 'failed' }, 1);
      await store.retry('old', { ...job('r1'), retry_of: 'old' });
      await expect(store.retry('old', { ...job('r2'), retry_of: 'old' })).rejects.toThrow('job old was retried already as r1; retry r1 instead');
      expect(await store.remove('r1')).toBe(true);
      expect(await store.retry('old', { ...job('r2'), retry_of: 'old' })).toMatchObject({ job_id: 'r2', retry_of: 'old' });
      expect(await store.get('old')).toMatchObject({ retried_as: 'r2' });
    } finally {
      await store.close();
    }
  });


  it('lets a second process see committed data', async () => {
    const file = join(dir, 'shared-read.db');
    const store = openSqliteStore(file);
    try {
      for (let i = 0; i < 40; i++) {
        await store.submit({ job_id: `j${i}`, job_title: `t${i}`, job: { i }, priority: 0, added: new Date(i).toISOString() });
      }
      // Another process reads the file with plain better-sqlite3 while this store holds it open.
      const betterSqlite3 = require.resolve('better-sqlite3');
      const script = `
        const Database = require(${JSON.stringify(betterSqlite3)});
        const db = new Database(${JSON.stringify(file)}, { readonly: true });
        const n = db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'").get().n;
        process.stdout.write(String(n));
      `;
      expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })).toBe('40');
    } finally {
      await store.close();
    }
  });

  it('never hands a job out twice to two stores on one file', async () => {
    const file = join(dir, 'shared-two.db');
    const [a, b] = [openSqliteStore(file), openSqliteStore(file)];
    try {
      for (let i = 0; i < 40; i++) {
        await a.submit({ job_id: `j${i}`, job_title: `t${i}`, job: { i }, priority: 0, added: new Date(i).toISOString() });
      }
      const got: string[] = [];
      for (let i = 0; i < 25; i++) {
        for (const [s, w] of [[a, 'a'], [b, 'b']] as const) {
          const job = await s.lease(w, 60_000, 0);
          if (job) got.push(job.job_id);
        }
      }
      expect(got).toHaveLength(40);
      expect(new Set(got).size).toBe(40);
      expect(await b.get('j0')).toMatchObject({ state: 'running', worker_id: 'a' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('never hands a job out twice to concurrent processes on one file', async () => {
    const file = join(dir, 'shared-processes.db');
    const store = openSqliteStore(file);
    const jobs = 150;
    let children: ChildProcess[] = [];
    try {
      for (let i = 0; i < jobs; i++) {
        await store.submit({ job_id: `j${i}`, job_title: `t${i}`, job: { i }, priority: 0, added: new Date(i).toISOString() });
      }
      const child = join(dir, 'lease-child.mjs');
      // Each child opens the store, says "ready", waits for "go" on stdin, then leases until the queue is empty.
      writeFileSync(
        child,
        // The children load the built store (npm test builds before testing).
        `const { openSqliteStore } = await import(${JSON.stringify(fileURLToPath(new URL('../dist/store/sqlite-store.js', import.meta.url)))});
        const store = openSqliteStore(process.argv[2]);
        process.stdout.write('ready\\n');
        await new Promise((resolve) => process.stdin.once('data', resolve));
        const ids = [];
        for (let job = await store.lease(process.argv[3], 60000, 0); job; job = await store.lease(process.argv[3], 60000, 0)) ids.push(job.job_id);
        await store.close();
        process.stdout.write(JSON.stringify(ids) + '\\n');
        process.stdin.destroy();`,
      );
      children = ['p1', 'p2', 'p3'].map((worker) => spawn(process.execPath, [child, file, worker]));
      const outputs = children.map((proc) => {
        let out = '';
        let err = '';
        proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
        const ready = new Promise<void>((resolve, reject) => {
          const check = () => (out.startsWith('ready\n') ? resolve() : undefined);
          proc.stdout!.on('data', check);
          proc.once('exit', () => reject(new Error(`child exited early: ${err}`)));
        });
        const done = new Promise<string[]>((resolve, reject) =>
          proc.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as string[]) : reject(new Error(err)))),
        );
        done.catch(() => {}); // reported through Promise.all below
        return { ready, done };
      });
      await Promise.all(outputs.map((o) => o.ready));
      for (const proc of children) proc.stdin!.write('go\n');
      const results = await Promise.all(outputs.map((o) => o.done));
      const all = results.flat();
      expect(all).toHaveLength(jobs);
      expect(new Set(all).size).toBe(jobs);
      expect(await queuedJobs(store)).toEqual([]);
      for (const [i, ids] of results.entries()) {
        for (const id of ids) expect((await store.get(id))!.worker_id).toBe(`p${i + 1}`);
      }
    } finally {
      for (const proc of children) if (proc.exitCode === null) proc.kill();
      await store.close();
    }
  }, 20_000);
});
