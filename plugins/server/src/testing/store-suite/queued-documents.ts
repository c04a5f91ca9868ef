import { describe, expect, it } from 'vitest';
import { jobDocument } from '../../queue/job-document.js';
import { MAX_PAGE_SIZE } from '../../store/list-paging.js';
import type { NewJob } from '../../store/queue-store.js';
import { queuedJobs } from '../queued-jobs.js';
import { LEASE, MAX_ATTEMPTS, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** The job document `GET /queue` serves for a submitted job. */
const documentOf = (input: NewJob): Record<string, unknown> => ({ ...input.job, job_id: input.job_id, job_title: input.job_title, added: input.added });

/** `queuedDocuments` (what `GET /queue` serves, as JSON text) and `queueLength`. */
export function describeQueuedDocuments(fixture: StoreFixture): void {
  const { store, newJob, submit, queuedIds } = fixture;

  /** Every document page by page (`limit` each), checking each page's size and cursor. */
  async function allDocuments(limit: number): Promise<{ documents: string[]; pages: number }> {
    const documents: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.queuedDocuments({ limit, ...(cursor ? { cursor } : {}) });
      pages++;
      expect(page.documents.length).toBeLessThanOrEqual(limit);
      if (page.next !== undefined) {
        expect(page.next).toEqual(expect.any(String));
        expect(page.documents.length).toBe(limit);
      }
      for (const doc of page.documents) expect(typeof doc).toBe('string');
      documents.push(...page.documents);
      cursor = page.next;
      expect(pages).toBeLessThan(1000);
    } while (cursor !== undefined);
    return { documents, pages };
  }

  describe('queuedDocuments and queueLength', () => {
    it('answers each queued job\'s document as JSON text, in queue order: priorities, requeued and released jobs at the head', async () => {
      const inputs = new Map<string, NewJob>();
      const add = async (priority: number, extra: Record<string, unknown> = {}) => {
        const input = newJob(priority, extra);
        inputs.set(input.job_id, input);
        await store.submit(input);
        return input.job_id;
      };
      // Two jobs are given back, low1 then low2: both go ahead of low3 (between themselves in no set
      // order: BullMQ gives jobs put back into one priority the same score).
      const low1 = await add(0, { text: TRICKY, nested: { a: [1, null, { b: '</script>' }] } });
      const low2 = await add(0);
      const low3 = await add(0);
      expect((await store.lease('w2', LEASE, T0))?.job_id).toBe(low1);
      expect((await store.lease('w2', LEASE, T0))?.job_id).toBe(low2);
      expect(await store.release(low1, 'w2', T0 + 1)).toBe('ok');
      expect(await store.release(low2, 'w2', T0 + 2)).toBe('ok');
      // high1's lease runs out: back at the head of its priority.
      const high1 = await add(5);
      const high2 = await add(5);
      const neg = await add(-3);
      expect((await store.lease('w1', LEASE, T0 + 3))?.job_id).toBe(high1);
      expect(await store.expireLeases(T0 + 3 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [high1], failed: [] });
      const order = await queuedIds();
      expect([order.slice(0, 2), new Set(order.slice(2, 4)), order.slice(4)]).toEqual([[high1, high2], new Set([low1, low2]), [low3, neg]]);

      const { documents } = await allDocuments(MAX_PAGE_SIZE);
      const parsed = documents.map((d) => JSON.parse(d) as Record<string, unknown>);
      expect(parsed).toEqual(order.map((id) => documentOf(inputs.get(id)!)));
      expect((await allDocuments(2)).documents, 'in pages of 2').toEqual(documents);
      // The same documents as the job document of each queued job.
      expect(parsed).toEqual((await queuedJobs(store)).map((job) => jobDocument(job)));
      expect(await store.queueLength()).toBe(6);
    });

    it('pages cover the queue exactly once, with a cursor on every page but the last', async () => {
      const ids = [...(await submit(4, 0)), ...(await submit(3, 2))];
      const order = [...ids.slice(4), ...ids.slice(0, 4)];
      for (const limit of [1, 2, 3, 7, 100]) {
        const { documents, pages } = await allDocuments(limit);
        expect(documents.map((d) => (JSON.parse(d) as { job_id: string }).job_id), `limit ${limit}`).toEqual(order);
        expect(pages, `limit ${limit}`).toBe(Math.max(1, Math.ceil(order.length / limit)));
      }
      // A cursor of list({state: 'queued'}) pages the documents too (and the other way round).
      const listed = await store.list({ state: 'queued', limit: 3 });
      const rest = await store.queuedDocuments({ limit: 100, cursor: listed.next! });
      expect(rest.documents.map((d) => (JSON.parse(d) as { job_id: string }).job_id)).toEqual(order.slice(3));
      const documentPage = await store.queuedDocuments({ limit: 2 });
      expect((await store.list({ state: 'queued', limit: 100, cursor: documentPage.next! })).jobs.map((j) => j.job_id)).toEqual(order.slice(2));
    });

    it('clamps the limit to 1..MAX_PAGE_SIZE', async () => {
      await submit(3);
      for (const limit of [0, -5, Number.NaN, 0.5]) {
        const page = await store.queuedDocuments({ limit });
        expect(page.documents, `limit ${limit}`).toHaveLength(1);
        expect(page.next, `limit ${limit}`).toEqual(expect.any(String));
      }
      expect((await store.queuedDocuments({ limit: 2.9 })).documents).toHaveLength(2);
      await submit(MAX_PAGE_SIZE + 1 - 3);
      expect(await store.queueLength()).toBe(MAX_PAGE_SIZE + 1);
      const big = await store.queuedDocuments({ limit: 5 * MAX_PAGE_SIZE });
      expect(big.documents).toHaveLength(MAX_PAGE_SIZE);
      expect(big.next).toEqual(expect.any(String));
      const last = await store.queuedDocuments({ limit: 5 * MAX_PAGE_SIZE, cursor: big.next! });
      expect(last.documents).toHaveLength(1);
      expect(last.next).toBeUndefined();
      // list clamps alike.
      expect((await store.list({ state: 'queued', limit: 5 * MAX_PAGE_SIZE })).jobs).toHaveLength(MAX_PAGE_SIZE);
      expect((await store.list({ limit: 5 * MAX_PAGE_SIZE })).jobs).toHaveLength(MAX_PAGE_SIZE);
      expect((await store.list({ limit: 0 })).jobs).toHaveLength(1);
    });

    it('queueLength counts the queued jobs through every change', async () => {
      expect(await store.queueLength()).toBe(0);
      expect(await store.queuedDocuments({ limit: 10 })).toEqual({ documents: [] });
      const [a, b, c, d, e] = await submit(5);
      expect(await store.queueLength()).toBe(5);
      expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(a);
      expect(await store.queueLength()).toBe(4);
      expect(await store.cancel(b!, T0 + 1)).toBe('cancelled');
      expect(await store.remove(c!)).toBe(true);
      expect(await store.queueLength()).toBe(2);
      expect(await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).toEqual({ requeued: [a], failed: [] });
      expect(await store.queueLength()).toBe(3);
      expect((await store.lease('w1', LEASE, T0 + LEASE + 2))?.job_id).toBe(a);
      expect(await store.finish(a!, 'w1', { state: 'completed' }, T0 + LEASE + 3)).toBe('ok');
      expect(await store.queueLength()).toBe(2);
      expect((await allDocuments(1)).documents.map((doc) => (JSON.parse(doc) as { job_id: string }).job_id)).toEqual([d, e]);
      await store.clear();
      expect(await store.queueLength()).toBe(0);
      expect(await store.queuedDocuments({ limit: 10 })).toEqual({ documents: [] });
    });
  });
}
