import { describe, expect, it } from 'vitest';
import type { JobFilter, JobState } from '../../store/queue-store.js';
import { LEASE, T0, type StoreFixture } from './store-fixture.js';

/** When the populated jobs finish: after every `added` of the test (those are T0 + n seconds, n small). */
const F = T0 + 100_000;

/** `list` with a {@link JobFilter}: title, worker, time range, each alone, with a state and combined, paged. */
export function describeHistoryFilters(fixture: StoreFixture): void {
  const { store, newJob, queuedIds } = fixture;

  /** Submit a job titled `title`; its id. */
  async function titled(title: string, priority = 0): Promise<string> {
    const input = { ...newJob(priority), job_title: title };
    input.job = { ...input.job, job_title: title };
    return (await store.submit(input)).job_id;
  }

  /**
   * Finished jobs (newest first: e, d, c, b, a, finished at F+4s .. F), one
   * running (f, on w1) and three queued (g and i at priority 1, h at 0).
   * Titles hold LIKE's wildcards and its escape character, which must match
   * only themselves.
   */
  async function populate() {
    const a = await titled('Movie 100% Final');
    const b = await titled('movie_50 draft');
    const c = await titled('MOVIE 5000 final');
    const e = await titled('trailer a_b');
    const f = await titled('Show 100x');
    for (const [id, worker] of [[a, 'w1'], [b, 'w2'], [c, 'w1'], [e, 'w2'], [f, 'w1']] as const) {
      expect((await store.lease(worker, LEASE, T0 + 50_000))?.job_id).toBe(id);
    }
    expect(await store.finish(a, 'w1', { state: 'completed' }, F)).toBe('ok');
    expect(await store.finish(b, 'w2', { state: 'completed' }, F + 1000)).toBe('ok');
    expect(await store.finish(c, 'w1', { state: 'failed', reason: 'x' }, F + 2000)).toBe('ok');
    const d = await titled('Trailer \\ cut');
    expect(await store.cancel(d, F + 3000)).toBe('cancelled');
    expect(await store.finish(e, 'w2', { state: 'failed', reason: 'x' }, F + 4000)).toBe('ok');
    const g = await titled('movie queued', 1);
    const h = await titled('Movie zz', 0);
    const i = await titled('other', 1);
    // Unfinished jobs list by `added`, before every finished one here.
    return { a, b, c, d, e, f, g, h, i, newestFirst: [e, d, c, b, a, i, h, g, f] };
  }

  /** Every job `filter` lists, page by page with `limit`, checking pages and that no job comes twice. */
  async function listed(filter: JobFilter, limit = 1000): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ ...filter, limit, ...(cursor ? { cursor } : {}) });
      pages++;
      expect(page.jobs.length).toBeLessThanOrEqual(limit);
      if (page.next !== undefined) expect(page.jobs.length).toBe(limit);
      for (const job of page.jobs) {
        if (filter.state === 'finished') expect(['completed', 'failed', 'cancelled']).toContain(job.state);
        else if (filter.state) expect(job.state).toBe(filter.state);
        if (filter.workerId !== undefined) expect(job.worker_id).toBe(filter.workerId);
        ids.push(job.job_id);
      }
      cursor = page.next;
      expect(pages).toBeLessThan(1000);
    } while (cursor !== undefined);
    expect(new Set(ids).size, `duplicates in ${JSON.stringify(filter)}`).toBe(ids.length);
    return ids;
  }

  /** `expected` in the all-jobs order (newest first), keeping only the given ids. */
  const inOrder = (order: string[], ...expected: string[]) => order.filter((id) => expected.includes(id));

  describe('list filters (history)', () => {
    it('state finished: the history of every final state, newest first, alone and with filters, paged', async () => {
      const j = await populate();
      expect(await listed({ state: 'finished' })).toEqual([j.e, j.d, j.c, j.b, j.a]);
      expect(await listed({ state: 'finished' }, 2)).toEqual([j.e, j.d, j.c, j.b, j.a]);
      expect(await listed({ state: 'finished', title: 'movie' }, 1)).toEqual([j.c, j.b, j.a]);
      expect(await listed({ state: 'finished', workerId: 'w2' })).toEqual([j.e, j.b]);
      expect(await listed({ state: 'finished', since: F + 1000, until: F + 4000 })).toEqual([j.d, j.c, j.b]);
    });

    it('title: a case-insensitive substring', async () => {
      const j = await populate();
      expect(await listed({ title: 'movie' })).toEqual(inOrder(j.newestFirst, j.a, j.b, j.c, j.g, j.h));
      expect(await listed({ title: 'FINAL' })).toEqual([j.c, j.a]);
      expect(await listed({ title: 'ie 5' })).toEqual([j.c]);
      expect(await listed({ title: 'no such title' })).toEqual([]);
    });

    it('title: %, _ and \\ match only themselves', async () => {
      const j = await populate();
      expect(await listed({ title: '100%' })).toEqual([j.a]); // not "Show 100x"
      expect(await listed({ title: '%' })).toEqual([j.a]);
      expect(await listed({ title: '_5' })).toEqual([j.b]); // not "MOVIE 5000"
      expect(await listed({ title: 'a_b' })).toEqual([j.e]);
      expect(await listed({ title: '_' })).toEqual([j.e, j.b]);
      expect(await listed({ title: '\\' })).toEqual([j.d]);
      expect(await listed({ title: '\\ c' })).toEqual([j.d]);
      expect(await listed({ title: '%%' })).toEqual([]);
      expect(await listed({ title: '[a-z]*' })).toEqual([]);
    });

    it('workerId: exact match of the holder or last holder', async () => {
      const j = await populate();
      expect(await listed({ workerId: 'w1' })).toEqual([j.c, j.a, j.f]);
      expect(await listed({ workerId: 'w2' })).toEqual([j.e, j.b]);
      expect(await listed({ workerId: 'w' })).toEqual([]);
      expect(await listed({ workerId: 'W1' })).toEqual([]);
    });

    it('since (inclusive) and until (exclusive) on finished_at, or added for unfinished jobs', async () => {
      const j = await populate();
      expect(await listed({ since: F + 2000 })).toEqual([j.e, j.d, j.c]);
      expect(await listed({ until: F + 2000 })).toEqual([j.b, j.a, j.i, j.h, j.g, j.f]);
      expect(await listed({ since: F + 1000, until: F + 4000 })).toEqual([j.d, j.c, j.b]);
      expect(await listed({ since: F + 1001, until: F + 1999 })).toEqual([]);
      // Unfinished jobs by `added`: f is the 5th job submitted, g the 7th.
      const fAdded = Date.parse((await store.get(j.f))!.added);
      const gAdded = Date.parse((await store.get(j.g))!.added);
      expect(await listed({ since: fAdded, until: gAdded + 1 })).toEqual([j.g, j.f]);
      expect(await listed({ until: fAdded })).toEqual([]);
    });

    it('with a state', async () => {
      const j = await populate();
      expect(await listed({ state: 'completed', title: 'movie' })).toEqual([j.b, j.a]);
      expect(await listed({ state: 'failed', workerId: 'w2' })).toEqual([j.e]);
      expect(await listed({ state: 'failed', since: F + 3000 })).toEqual([j.e]);
      expect(await listed({ state: 'cancelled', title: 'TRAILER' })).toEqual([j.d]);
      expect(await listed({ state: 'running', workerId: 'w1' })).toEqual([j.f]);
      expect(await listed({ state: 'running', workerId: 'w2' })).toEqual([]);
      expect(await listed({ state: 'completed', until: F })).toEqual([]);
    });

    it('queued jobs with a filter list in queue order', async () => {
      const j = await populate();
      expect(await queuedIds()).toEqual([j.g, j.i, j.h]);
      expect(await listed({ state: 'queued', title: 'movie' })).toEqual([j.g, j.h]);
      expect(await listed({ state: 'queued', title: 'movie' }, 1)).toEqual([j.g, j.h]);
      expect(await listed({ state: 'queued', title: 'o' }, 1)).toEqual([j.g, j.i, j.h]);
      expect(await listed({ state: 'queued', workerId: 'w1' })).toEqual([]);
      const iAdded = Date.parse((await store.get(j.i))!.added);
      expect(await listed({ state: 'queued', since: iAdded })).toEqual([j.i]);
      expect(await listed({ state: 'queued', until: iAdded }, 1)).toEqual([j.g, j.h]);
    });

    it('every filter combined', async () => {
      const j = await populate();
      expect(await listed({ title: 'movie', workerId: 'w1', since: F + 1 })).toEqual([j.c]);
      expect(await listed({ title: 'movie', workerId: 'w1', since: F, until: F + 2000 })).toEqual([j.a]);
      expect(await listed({ state: 'failed', title: 'final', workerId: 'w1', since: F, until: F + 10_000 })).toEqual([j.c]);
      expect(await listed({ state: 'failed', title: 'final', workerId: 'w2', since: F, until: F + 10_000 })).toEqual([]);
    });

    it('pages through a filtered listing with cursors: no duplicates, no gaps, the same order as one page', async () => {
      // Many jobs, a third of them matching, finishing interleaved with the others (and some at one same time).
      const ids: Array<{ id: string; match: boolean; worker: string }> = [];
      for (let n = 0; n < 30; n++) {
        const match = n % 3 === 0;
        ids.push({ id: await titled(match ? `Match ${n}` : `skip ${n}`), match, worker: n % 2 ? 'w1' : 'w2' });
      }
      for (const { id, worker } of ids) expect((await store.lease(worker, LEASE, T0))?.job_id).toBe(id);
      for (const [n, { id, worker }] of ids.entries()) {
        const state: JobState = n % 4 === 0 ? 'failed' : 'completed';
        expect(await store.finish(id, worker, { state }, F + Math.floor(n / 3) * 1000)).toBe('ok');
      }
      const filters: JobFilter[] = [
        { title: 'match' },
        { workerId: 'w1' },
        { since: F + 2000, until: F + 8000 },
        { title: 'MATCH', workerId: 'w2' },
        { state: 'completed', title: 'match' },
        { state: 'failed', workerId: 'w2', since: F + 1000 },
      ];
      for (const filter of filters) {
        const whole = await listed(filter);
        expect(whole.length, JSON.stringify(filter)).toBeGreaterThan(1);
        for (const limit of [1, 2, 3, 7]) expect(await listed(filter, limit), `${JSON.stringify(filter)} limit ${limit}`).toEqual(whole);
      }
      expect(await listed({ title: 'match' })).toHaveLength(10);
      expect(await listed({ workerId: 'w1' })).toHaveLength(15);
    });

    it('filtered pages carry the whole stored job', async () => {
      const j = await populate();
      const [failed] = (await store.list({ state: 'failed', workerId: 'w1', limit: 10 })).jobs;
      expect(failed).toEqual(await store.get(j.c));
    });
  });
}
