import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SisyphusServer } from '@sisyphus/server';
import { describeWatchStore } from '../../server/src/testing/watch-store-suite.js';
import { BullmqStore } from '../src/bullmq-store.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

// The watch part of the Redis store, on a real Redis with a fresh prefix per test; and two
// servers on one Redis sharing a rule (the one-scanner lease).
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefixes = new Set<string>();
let current = '';

afterEach(async () => {
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

const open = (prefix: string) => BullmqStore.open({ connection: URL, prefix });

describeWatchStore(
  'bullmq',
  () => {
    current = `sis-watch-${randomUUID()}`;
    prefixes.add(current);
    return open(current);
  },
  { reopen: () => open(current) },
);

describe('watch folders on one Redis: one scanner per rule', () => {
  const servers: SisyphusServer[] = [];
  const dirs: string[] = [];
  // (Before the prefix's keys are deleted: the outer afterEach runs after this one.)
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close().catch(() => undefined);
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function until<T>(what: string, probe: () => Promise<T | false | undefined>, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('two servers watch the same rule: one scans it, every file is one job, and the other takes over when it stops', async () => {
    const prefix = `sis-watch-${randomUUID()}`;
    prefixes.add(prefix);
    const dir = await mkdtemp(join(tmpdir(), 'sis-watch-redis-'));
    dirs.push(dir);
    const folder = join(dir, 'in');
    await mkdir(folder);
    const template = join(dir, 'template.json');
    await writeFile(template, JSON.stringify({ job_title: '{{ name }}', tasks: [{ module: 'noop', data: { source: '{{ source_file }}' } }] }));
    const rule = { name: 'shared', folders: [folder], template, stable_seconds: 0.5 };
    const start = async () => {
      const s = await createServer(await open(prefix), { watch: [rule], acceptUnknownModules: true }, { watchLeaseMs: 1500 });
      servers.push(s);
      const url = await s.app.listen({ port: 0, host: '127.0.0.1' });
      const api = async (method: string, path: string) => {
        const res = await fetch(`${url}${path}`, { method });
        const text = await res.text();
        return { status: res.status, json: text ? JSON.parse(text) : undefined };
      };
      return { s, api };
    };
    const a = await start();
    const b = await start();
    for (let i = 0; i < 5; i++) await writeFile(join(folder, `f${i}.mkv`), `file ${i}`);
    const titles = async () => ((await a.api('GET', '/jobs?limit=100')).json.jobs as Array<{ job_title: string }>).map((j) => j.job_title).sort();
    await until('five jobs', async () => (await titles()).length >= 5);
    const views = await Promise.all([a, b].map(async (x) => (await x.api('GET', '/watch/rules/shared')).json));
    // One of them scans; both name it.
    expect(views.filter((v) => v.scanning_here)).toHaveLength(1);
    expect(views[0].scanner).toBe(views[1].scanner);
    const [holder, other] = views[0].scanning_here ? [a, b] : [b, a];
    expect((await holder.api('POST', '/watch/rules/shared/scan')).json).toMatchObject({ files: 5, submitted: 0 });
    expect((await other.api('POST', '/watch/rules/shared/scan')).status).toBe(409);
    expect(await titles()).toEqual(['f0.mkv', 'f1.mkv', 'f2.mkv', 'f3.mkv', 'f4.mkv']);

    // The scanner stops: the other server takes the rule over.
    servers.splice(servers.indexOf(holder.s), 1);
    await holder.s.close();
    await until('the other server to scan', async () => (await other.api('GET', '/watch/rules/shared')).json.scanning_here === true);
    await writeFile(join(folder, 'f5.mkv'), 'file 5');
    const after = async () => ((await other.api('GET', '/jobs?limit=100')).json.jobs as Array<{ job_title: string }>).map((j) => j.job_title).sort();
    await until('the sixth job', async () => (await after()).length >= 6);
    expect(await after()).toEqual(['f0.mkv', 'f1.mkv', 'f2.mkv', 'f3.mkv', 'f4.mkv', 'f5.mkv']);
  });
});
