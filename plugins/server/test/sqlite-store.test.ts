import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
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
      expect(store.db.pragma('user_version', { simple: true })).toBe(2);
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
