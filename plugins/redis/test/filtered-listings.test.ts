/**
 * Filtered listings on Redis beyond the shared suite: a few thousand jobs in
 * every state (requeued ones holding a worker, ties in finish times, titles
 * with non-ASCII letters and LIKE's wildcards) listed with every filter and
 * page size and compared with the same filter applied to every record; the
 * listing indexes kept in step with the states through purge, remove,
 * cancel and expiry; the scans' stretches (a budget per call) adding up to
 * one walk; the indexes built for a prefix written before they existed; and
 * the queue scan with job ids BullMQ carries escaped.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobFilter, JobState, StoredJob } from '@sisyphus/server/store';
import { BullmqStore } from '../src/bullmq-store.js';
import { byteCompare } from '../src/byte-order.js';
import { toBullmqId } from '../src/job-ids.js';
import { defineScripts, runScript } from '../src/lua-scripts.js';
import { StoreKeys } from '../src/store-keys.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);
/** Finish times: after every `added`, with many ties. */
const F = T0 + 10_000_000;
const N = 2000;
const WORDS = ['Movie', 'movie trailer', 'Show', 'CLIP', 'Ünïcode Straße', 'a_b%c'];
const WORKERS = ['w1', 'w2', 'w3', ''];

const prefix = `sis-filters-${randomUUID()}`;
const keys = new StoreKeys(prefix);
let store: BullmqStore;
let raw: Redis;

beforeAll(async () => {
  store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
  raw = new Redis(URL);
  defineScripts(raw);
  await populate();
}, 120_000);

afterAll(async () => {
  await store?.close();
  await raw?.quit();
  await deleteKeys(URL, prefix);
});

/** N jobs: most leased (round robin over three workers and anonymous), then finished in each final state, some left running, some requeued by expiry, some of the rest cancelled or removed, some purged. */
async function populate(): Promise<void> {
  for (let n = 0; n < N; n += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const k = n + i;
        const title = `${WORDS[k % WORDS.length]} ${k}`;
        return store.submit({ job_id: randomUUID(), job_title: title, job: { job_title: title, tasks: [] }, priority: k % 3, added: new Date(T0 + k * 1000).toISOString() });
      }),
    );
  }
  for (let k = 0; k < N * 0.8; k++) {
    const worker = WORKERS[k % WORKERS.length]!;
    const requeue = k % 20 === 19;
    const job = await store.lease(worker, requeue ? 1 : 1e12, T0);
    expect(job).toBeDefined();
    const end = k % 10;
    if (end === 9) continue; // running (or requeued below)
    const state: JobState = end < 6 ? 'completed' : end < 8 ? 'failed' : 'cancelled';
    expect(await store.finish(job!.job_id, worker || undefined, { state, ...(state === 'completed' ? {} : { reason: 'x' }) }, F + (k % 37) * 1000)).toBe('ok');
  }
  expect((await store.expireLeases(T0 + 10, 5)).requeued.length).toBe(N * 0.8 / 20);
  const queued = (await all()).filter((j) => j.state === 'queued');
  for (const [i, job] of queued.entries()) {
    if (i % 7 === 0) expect(await store.cancel(job.job_id, F + (i % 5) * 1000)).toBe('cancelled');
    else if (i % 11 === 0) expect(await store.remove(job.job_id)).toBe(true);
  }
  expect(await store.purge('completed', { keep: N * 0.4 }, 1000)).toBeGreaterThan(0);
}

/** Every job, through the unfiltered listing. */
async function all(): Promise<StoredJob[]> {
  const jobs: StoredJob[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
    jobs.push(...page.jobs);
    cursor = page.next;
  } while (cursor);
  return jobs;
}

/** Every job `filter` lists, paged by `limit`; no page short but the last. */
async function listed(filter: JobFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...filter, limit, ...(cursor ? { cursor } : {}) });
    if (page.next !== undefined) expect(page.jobs.length).toBe(limit);
    ids.push(...page.jobs.map((j) => j.job_id));
    cursor = page.next;
  } while (cursor);
  return ids;
}

/** What `filter` selects, worked out from every record: newest first (queued: in queue order). */
async function expected(filter: JobFilter): Promise<string[]> {
  const time = (j: StoredJob) => Date.parse(j.finished_at ?? j.added);
  const pass = (j: StoredJob) =>
    (filter.state === undefined || j.state === filter.state) &&
    (filter.title === undefined || j.job_title.toLowerCase().includes(filter.title.toLowerCase())) &&
    (filter.workerId === undefined || j.worker_id === filter.workerId) &&
    (filter.since === undefined || time(j) >= filter.since) &&
    (filter.until === undefined || time(j) < filter.until);
  if (filter.state === 'queued') return (await store.list({ state: 'queued', limit: 1000 })).jobs.filter(pass).map((j) => j.job_id);
  return (await all())
    .filter(pass)
    .sort((a, b) => time(b) - time(a) || byteCompare(b.job_id, a.job_id))
    .map((j) => j.job_id);
}

describe('filtered listings on Redis, against every record', () => {
  it('the listing indexes hold exactly the jobs of their states', async () => {
    const members = async (key: string) => (await raw.zrange(key, 0, -1)).map((m) => m.split('\0')[0]!).sort();
    const ids = async (key: string) => (await raw.zrange(key, 0, -1)).sort();
    const records = await all();
    for (const state of ['completed', 'failed', 'cancelled'] as const) {
      expect(await members(keys.history(state)), state).toEqual(await ids(keys.state(state)));
      for (const worker of WORKERS.filter((w) => w !== '')) {
        const held = records.filter((j) => j.state === state && j.worker_id === worker).map((j) => j.job_id).sort();
        expect(await members(keys.workerHistory(state, worker)), `${state} ${worker}`).toEqual(held);
      }
    }
    expect(await members(keys.workerHistory('failed', 'w2'))).not.toEqual([]);
    expect(await members(keys.live)).toEqual([...(await ids(keys.state('queued'))), ...(await ids(keys.state('running')))].sort());
    // The scores are the states' own.
    const [id] = await raw.zrange(keys.state('failed'), 0, 0);
    const [member] = await raw.zrangebyscore(keys.history('failed'), '-inf', '+inf', 'LIMIT', 0, 1);
    expect(member!.startsWith(`${id}\0`)).toBe(true);
    expect(await raw.zscore(keys.history('failed'), member!)).toBe(await raw.zscore(keys.state('failed'), id!));
  });

  const filters: JobFilter[] = [
    { title: 'movie' },
    { title: 'MOVIE TRAILER' },
    { title: 'ÜNÏCODE STRASSE' }, // 'straße' upper-cases to 'STRASSE' and back to 'strasse': not the title's
    { title: 'Ünïcode straße 1' },
    { title: '_b%' },
    { title: '%' },
    { title: 'no such title' },
    { workerId: 'w1' },
    { workerId: 'w3', title: 'clip' },
    { workerId: 'nobody' },
    { workerId: '' },
    { since: F + 10_000, until: F + 20_000 },
    { since: T0 + 1_900_000 },
    { until: F },
    { title: 'show', since: F + 5000, until: F + 30_000, workerId: 'w2' },
  ];
  const states: Array<JobState | undefined> = [undefined, 'completed', 'failed', 'cancelled', 'running', 'queued'];

  for (const state of states) {
    it(`state ${state ?? 'any'}: every filter lists what the records say, in order, at every page size`, async () => {
      for (const filter of filters) {
        const f = { ...filter, ...(state ? { state } : {}) };
        const want = await expected(f);
        const label = JSON.stringify(f);
        expect(await listed(f, 1000), label).toEqual(want);
        for (const limit of [1, 13]) {
          if (want.length > 200 && limit === 1) continue; // paging by one through hundreds proves nothing more
          expect(await listed(f, limit), `${label} limit ${limit}`).toEqual(want);
        }
      }
      // Some of them select something (the comparison above is not vacuous).
      expect((await expected({ title: 'movie', ...(state ? { state } : {}) })).length).toBeGreaterThan(0);
    }, 60_000);
  }

  it('a scan in stretches (a budget per call) finds what one walk finds', async () => {
    const scan = async (key: string, kind: string, filter: { title?: string; workerId?: string }, budget: number) => {
      const found: string[] = [];
      let from: [string, string] = ['', ''];
      for (let calls = 0; ; calls++) {
        const [done, score, id, ...matches] = (await runScript(raw, 'list-scan', [key], [
          kind, keys.jobPrefix, filter.title ?? '', filter.workerId === undefined ? '0' : '1', filter.workerId ?? '', from[0], from[1], '', '', 1e9, budget,
        ])) as [number, string, string, ...string[]];
        found.push(...matches.filter((_, i) => i % 2 === 0));
        if (done === 1) return { found, calls };
        from = [score, id];
      }
    };
    for (const [key, kind] of [[keys.history('completed'), 'm'], [keys.workerHistory('failed', 'w1'), 'm'], [keys.live, 'l'], [keys.all, 'i']] as const) {
      for (const filter of kind === 'm' ? [{ title: 'movie' }, {}] : [{ title: 'movie' }, { workerId: 'w2' }, {}]) {
        const whole = await scan(key, kind, filter, 1e9);
        const stretched = await scan(key, kind, filter, 7);
        expect(stretched.found, `${kind} ${JSON.stringify(filter)}`).toEqual(whole.found);
        expect(stretched.calls).toBeGreaterThan(10);
      }
    }
  });

  it('a prefix written before the listing indexes existed gets them when a store opens it', async () => {
    const filter = { title: 'movie', workerId: 'w1' };
    const filters: JobFilter[] = [filter, { ...filter, state: 'failed' }, { title: 'clip', state: 'queued' }, { title: 'ÜNÏCODE' }, { title: 'ünïcode', state: 'running' }];
    const before = await Promise.all(filters.map((f) => listed(f, 50)));
    expect(before.every((ids) => ids.length > 0)).toBe(true);
    const indexes = [keys.history('completed'), keys.history('failed'), keys.history('cancelled'), keys.live];
    for (const state of ['completed', 'failed', 'cancelled'] as const) for (const w of WORKERS) indexes.push(keys.workerHistory(state, w));
    await raw.del(...indexes, keys.indexVersion);
    // Records written before the title was kept lowercased in them.
    for (const id of await raw.zrange(keys.all, 0, -1)) await raw.hdel(keys.job(id), 'title_lc');
    const again = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
    try {
      expect(await raw.get(keys.indexVersion)).toBe('1');
      expect(await raw.zcard(keys.history('completed'))).toBe(await raw.zcard(keys.state('completed')));
      expect(await raw.zcard(keys.live)).toBe((await raw.zcard(keys.state('queued'))) + (await raw.zcard(keys.state('running'))));
      const list = (f: JobFilter) => again.list({ ...f, limit: 50 }).then((p) => p.jobs.map((j) => j.job_id));
      // Non-ASCII titles too: the records got their lowercased titles back.
      expect(await Promise.all(filters.map(list))).toEqual(before.map((ids) => ids.slice(0, 50)));
    } finally {
      await again.close();
    }
  });
});

describe('the filtered queue listing', () => {
  it('finds jobs whose ids BullMQ carries escaped, in queue order', async () => {
    const p = `sis-filters-${randomUUID()}`;
    const s = await BullmqStore.open({ connection: URL, prefix: p, stalledCheck: false });
    try {
      const ids = ['42', 'a:b', '~x', '日本', 'plain', 'wait'];
      for (const [n, id] of ids.entries()) {
        await s.submit({ job_id: id, job_title: n % 2 ? `Match ${id}` : `other ${id}`, job: {}, priority: 0, added: new Date(T0 + n).toISOString() });
      }
      expect(ids.filter((id) => toBullmqId(id) !== id)).toEqual(['42', 'a:b', '~x', 'wait']);
      const page = async (cursor?: string) => s.list({ state: 'queued', title: 'match', limit: 1, ...(cursor ? { cursor } : {}) });
      const found: string[] = [];
      for (let p1 = await page(); ; p1 = await page(p1.next)) {
        found.push(...p1.jobs.map((j) => j.job_id));
        if (!p1.next) break;
      }
      expect(found).toEqual(['a:b', '日本', 'wait']);
      expect((await s.list({ state: 'queued', title: '日', limit: 10 })).jobs.map((j) => j.job_id)).toEqual(['日本']);
    } finally {
      await s.close();
      await deleteKeys(URL, p);
    }
  });
});
