import { describe, expect, it } from 'vitest';
import { EVENT_LOG_KEEP, type NewQueueEvent, type QueueEvent } from '../../store/queue-store.js';
import { LEASE, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** `n` events numbered from `from` (`data.n`), at T0 + n. */
function numbered(from: number, n: number): NewQueueEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'job.submitted', at: T0 + from + i, data: { n: from + i } }));
}

/** What an id may be: printable ASCII without spaces (it becomes the SSE `id:` line). */
const ID = /^[\x21-\x7e]+$/;

/** Ids that no log makes: not ids at all, or far beyond any log's newest. */
const FOREIGN_IDS = ['garbage', '', ' ', '-1', '1.5', 'abc-def', '99999999999999999999', '99999999999999999999-0', '\u00e9'];

/** `events`: the store's event log (append, read after an id, reset, last, onAppend). */
export function describeEventLog(fixture: StoreFixture): void {
  const { store } = fixture;

  /** The whole log from its oldest kept event, in pages of `limit`. */
  async function readAll(limit = 1000): Promise<QueueEvent[]> {
    const all: QueueEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const { events, reset } = await store.events.read(after, limit);
      expect(reset).toBe(false);
      expect(events.length).toBeLessThanOrEqual(limit);
      if (events.length === 0) return all;
      all.push(...events);
      after = events[events.length - 1]!.id;
    }
  }

  describe('event log', () => {
    it('starts empty', async () => {
      expect(await store.events.last()).toBeUndefined();
      expect(await store.events.read(undefined, 10)).toEqual({ events: [], reset: false });
      expect(await store.events.read('garbage', 10)).toEqual({ events: [], reset: true });
    });

    it('appends in order and reads back every field; ids are unique and printable', async () => {
      const first: NewQueueEvent[] = [
        { type: 'job.submitted', at: T0, data: { job: { job_id: 'a', job_title: TRICKY } } },
        { type: 'worker.heartbeat', at: T0 + 1, data: { worker: { worker_id: 'w1', status: { progress: 12.5, nested: [1, null, { b: true }] } } } },
      ];
      const ids = await store.events.append(first);
      expect(ids).toHaveLength(2);
      const more = await store.events.append([{ type: 'queue.cleared', at: T0 + 2, data: {} }]);
      const all = [...ids, ...more];
      for (const id of all) expect(id).toMatch(ID);
      expect(new Set(all).size).toBe(3);
      expect(await store.events.last()).toBe(more[0]);
      const { events, reset } = await store.events.read(undefined, 10);
      expect(reset).toBe(false);
      expect(events).toEqual([
        { id: ids[0], ...first[0] },
        { id: ids[1], ...first[1] },
        { id: more[0], type: 'queue.cleared', at: T0 + 2, data: {} },
      ]);
    });

    it('reads after an id (exclusive), at most limit, and nothing after the newest', async () => {
      const ids = [...(await store.events.append(numbered(0, 5))), ...(await store.events.append(numbered(5, 5)))];
      const page = await store.events.read(ids[2], 3);
      expect(page.reset).toBe(false);
      expect(page.events.map((e) => e.id)).toEqual(ids.slice(3, 6));
      expect(page.events.map((e) => e.data['n'])).toEqual([3, 4, 5]);
      expect((await store.events.read(ids[6], 100)).events.map((e) => e.id)).toEqual(ids.slice(7));
      expect(await store.events.read(ids[9], 100)).toEqual({ events: [], reset: false });
      expect((await store.events.read(undefined, 4)).events.map((e) => e.id)).toEqual(ids.slice(0, 4));
      // Paging through: every event once, in order.
      expect((await readAll(3)).map((e) => e.id)).toEqual(ids);
    });

    it('ids keep their order across appends: a reader following the log sees each event once', async () => {
      let after: string | undefined;
      const seen: number[] = [];
      for (let round = 0; round < 5; round++) {
        await store.events.append(numbered(round * 3, 3));
        const { events, reset } = await store.events.read(after, 100);
        expect(reset).toBe(false);
        seen.push(...events.map((e) => e.data['n'] as number));
        after = events[events.length - 1]?.id ?? after;
      }
      expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(await store.events.last()).toBe(after);
    });

    it('answers reset and the log from its oldest event for an id it did not make', async () => {
      const ids = await store.events.append(numbered(0, 3));
      for (const id of FOREIGN_IDS) {
        const read = await store.events.read(id, 10);
        expect(read.reset, JSON.stringify(id)).toBe(true);
        expect(read.events.map((e) => e.id)).toEqual(ids);
      }
    });

    it('keeps at least the newest EVENT_LOG_KEEP events; an id trimmed away answers reset', async () => {
      const [oldest] = await store.events.append(numbered(0, 1));
      const total = EVENT_LOG_KEEP + 1500;
      const batch = 1000;
      let newest = oldest!;
      for (let n = 1; n < total; n += batch) newest = (await store.events.append(numbered(n, Math.min(batch, total - n)))).at(-1)!;
      expect(await store.events.last()).toBe(newest);
      const kept = await readAll(5000);
      expect(kept.length).toBeGreaterThanOrEqual(EVENT_LOG_KEEP);
      expect(kept.length).toBeLessThan(total);
      expect(kept.at(-1)!.id).toBe(newest);
      // The kept events are the newest, contiguous.
      const first = kept[0]!.data['n'] as number;
      expect(kept.map((e) => e.data['n'])).toEqual(Array.from({ length: kept.length }, (_, i) => first + i));
      // A reader at the trimmed first event missed some: reset, and the log from its oldest kept event.
      const read = await store.events.read(oldest, 5);
      expect(read.reset).toBe(true);
      expect(read.events.map((e) => e.id)).toEqual(kept.slice(0, 5).map((e) => e.id));
      // A reader at a kept event missed nothing.
      expect(await store.events.read(kept[0]!.id, 2)).toEqual({ events: kept.slice(1, 3), reset: false });
    });

    it('calls onAppend listeners after appends, until they unsubscribe', async () => {
      let calls = 0;
      let heard!: () => void;
      let next = new Promise<void>((resolve) => (heard = resolve));
      const stop = store.events.onAppend(() => {
        calls++;
        heard();
      });
      let otherCalls = 0;
      const stopOther = store.events.onAppend(() => otherCalls++);
      stopOther();
      await store.events.append(numbered(0, 2));
      await next;
      expect(calls).toBeGreaterThanOrEqual(1);
      next = new Promise<void>((resolve) => (heard = resolve));
      const before = calls;
      await store.events.append(numbered(2, 1));
      await next;
      expect(calls).toBeGreaterThan(before);
      // The listener that left heard nothing while the other heard both appends.
      expect(otherCalls).toBe(0);
      stop();
    });

    it('holds only what was appended: job changes append nothing by themselves', async () => {
      const [id] = await fixture.submit(1);
      await store.events.append([{ type: 'job.submitted', at: T0, data: { job: { job_id: id } } }]);
      expect((await store.lease('w1', LEASE, T0))?.job_id).toBe(id);
      await store.events.append([{ type: 'job.started', at: T0 + 1, data: { job: { job_id: id } } }]);
      expect((await store.events.read(undefined, 10)).events.map((e) => e.type)).toEqual(['job.submitted', 'job.started']);
    });
  });
}

/** The event log and the dashboard's job fields survive a close and reopen (stores registered with `reopen`). */
export function describeEventLogPersistence(fixture: StoreFixture): void {
  const { store, newJob, submit, queuedIds, getJob, reopen } = fixture;

  describe('persistence: event log, retry links, priorities', () => {
    it('keeps the log: old events readable by their ids, new ones after them', async () => {
      const before = await store.events.append(numbered(0, 4));
      await reopen();
      expect(await store.events.last()).toBe(before[3]);
      expect(await store.events.read(before[1], 10)).toEqual({ events: (await store.events.read(undefined, 10)).events.slice(2), reset: false });
      expect((await store.events.read(undefined, 10)).events.map((e) => e.id)).toEqual(before);
      const after = await store.events.append(numbered(4, 2));
      for (const id of after) expect(before).not.toContain(id);
      const read = await store.events.read(before[3], 10);
      expect(read).toMatchObject({ reset: false });
      expect(read.events.map((e) => e.id)).toEqual(after);
      expect(read.events.map((e) => e.data['n'])).toEqual([4, 5]);
      // Listeners work on the reopened store.
      const heard = new Promise<void>((resolve) => store.events.onAppend(resolve));
      await store.events.append(numbered(6, 1));
      await heard;
    });

    it('keeps retry links and changed priorities', async () => {
      const [failing, a, b] = await submit(3);
      await store.lease('w1', LEASE, T0);
      expect(await store.finish(failing!, 'w1', { state: 'failed', reason: 'x' }, T0 + 1)).toBe('ok');
      const retry = { ...newJob(), retry_of: failing! };
      await store.retry(failing!, retry);
      expect(await store.setPriority(b!, 3)).toBe('ok');
      const order = await queuedIds();
      expect(order).toEqual([b, a, retry.job_id]);
      const jobs = [await getJob(failing!), await getJob(retry.job_id)];
      await reopen();
      expect([await getJob(failing!), await getJob(retry.job_id)]).toEqual(jobs);
      expect(jobs[0]!.retried_as).toBe(retry.job_id);
      expect(jobs[1]!.retry_of).toBe(failing);
      expect(await queuedIds()).toEqual(order);
    });
  });
}
