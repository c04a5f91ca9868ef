import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueStore } from '../store/queue-store.js';
import { WEBHOOK_DELIVERIES_KEEP, type NewWebhookDelivery, type WebhookStore } from '../store/webhook-store.js';

/** Options of {@link describeWebhookStore}. */
export interface WebhookStoreSuiteOptions {
  /**
   * Open another handle on the store the last `open()` returned (another
   * server on the same file or Redis prefix): the suite checks that claims
   * through both never hand one thing out twice, and that everything
   * survives the first handle's close.
   */
  another?: () => Promise<QueueStore> | QueueStore;
}

const T0 = Date.UTC(2026, 0, 1);
const LEASE = 40_000;
const EXPIRY = 30_000;

/** Delivery `n` of the test's event stream: ids sort as the events do. */
function delivery(n: number, type = 'job.completed'): NewWebhookDelivery {
  const id = `e-${String(n).padStart(6, '0')}`;
  return { event_id: id, event_type: type, event_at: T0 + n, body: JSON.stringify({ id, type, data: { n, title: 'Tom & Jerry "ü" 🎬' } }) };
}

/**
 * Register the {@link WebhookStore} conformance suite for one store
 * implementation (`store.webhooks`). `open` must return a fresh, empty
 * store each time; the suite closes what it opened after each test.
 *
 * @example
 * describeWebhookStore('sqlite', () => openSqliteStore(join(dir, `${randomUUID()}.db`)));
 */
export function describeWebhookStore(name: string, open: () => Promise<QueueStore> | QueueStore, options: WebhookStoreSuiteOptions = {}): void {
  describe(`WebhookStore conformance: ${name}`, () => {
    let opened: QueueStore[] = [];
    let store: QueueStore;
    let hooks: WebhookStore;

    beforeEach(async () => {
      store = await open();
      opened = [store];
      if (!store.webhooks) throw new Error(`${name} has no webhook part`);
      hooks = store.webhooks;
    });

    afterEach(async () => {
      for (const s of opened.reverse()) await s.close().catch(() => undefined);
      opened = [];
    });

    const another = async (): Promise<WebhookStore> => {
      const s = await options.another!();
      opened.push(s);
      return s.webhooks!;
    };

    it('a new hook has no cursor; the cursor moves only from where the caller read it', async () => {
      expect(await hooks.cursor('a')).toBeUndefined();
      expect(await hooks.enqueue('a', undefined, '', [], T0)).toBe(true);
      expect(await hooks.cursor('a')).toBe('');
      expect(await hooks.enqueue('a', undefined, 'x', [], T0)).toBe(false);
      expect(await hooks.enqueue('a', '', 'e-1', [delivery(1)], T0)).toBe(true);
      expect(await hooks.enqueue('a', '', 'e-2', [delivery(2)], T0)).toBe(false);
      expect(await hooks.cursor('a')).toBe('e-1');
      // The refused move created nothing; hooks are apart.
      expect((await hooks.deliveries('a', 10)).map((d) => d.event_id)).toEqual(['e-000001']);
      expect(await hooks.cursor('b')).toBeUndefined();
      expect(await hooks.deliveries('b', 10)).toEqual([]);
    });

    it('enqueued deliveries are pending and due at once, newest first; an event a hook has already is left as it is', async () => {
      await hooks.enqueue('a', undefined, 'c1', [delivery(1), delivery(2, 'job.failed')], T0);
      const listed = await hooks.deliveries('a', 10);
      expect(listed.map((d) => [d.event_id, d.event_type, d.status, d.attempts, d.created_at, d.next_at])).toEqual([
        ['e-000002', 'job.failed', 'pending', 0, T0, T0],
        ['e-000001', 'job.completed', 'pending', 0, T0, T0],
      ]);
      expect(listed[1]!.body).toBe(delivery(1).body);
      expect(listed[1]!.event_at).toBe(T0 + 1);
      expect(listed[0]!.hook).toBe('a');
      const [claimed] = await hooks.claim('a', T0, LEASE, 1);
      expect(claimed!.event_id).toBe('e-000001');
      expect(await hooks.record('a', 'e-000001', 1, { status: 'delivered', at: T0 + 5, status_code: 204 })).toBe(true);
      // The same event again (a reader that read it twice): still delivered, not pending again.
      expect(await hooks.enqueue('a', 'c1', 'c2', [delivery(1), delivery(3)], T0 + 10)).toBe(true);
      const again = await hooks.deliveries('a', 10);
      expect(again.map((d) => [d.event_id, d.status])).toEqual([
        ['e-000003', 'pending'],
        ['e-000002', 'pending'],
        ['e-000001', 'delivered'],
      ]);
      expect((await hooks.deliveries('a', 2)).length).toBe(2);
      expect(await hooks.summary('a')).toMatchObject({ pending: 2 });
    });

    it('a claim takes due deliveries oldest due first, once, under a lease; a lapsed claim is taken again with one more attempt', async () => {
      await hooks.enqueue('a', undefined, 'c', [delivery(1), delivery(2), delivery(3)], T0);
      const first = await hooks.claim('a', T0 + 1, LEASE, 2);
      expect(first.map((d) => [d.event_id, d.status, d.attempts, d.next_at, d.last_attempt_at])).toEqual([
        ['e-000001', 'sending', 1, T0 + 1 + LEASE, T0 + 1],
        ['e-000002', 'sending', 1, T0 + 1 + LEASE, T0 + 1],
      ]);
      expect((await hooks.claim('a', T0 + 2, LEASE, 5)).map((d) => d.event_id)).toEqual(['e-000003']);
      expect(await hooks.claim('a', T0 + LEASE, LEASE, 5)).toEqual([]);
      // The server holding e-1 died: after its claim lapsed, another takes it.
      await hooks.record('a', 'e-000002', 1, { status: 'delivered', at: T0 + 3, status_code: 200 });
      const lapsed = await hooks.claim('a', T0 + 1 + LEASE, LEASE, 5);
      expect(lapsed.map((d) => [d.event_id, d.attempts])).toEqual([['e-000001', 2]]);
      // The first holder's late record changes nothing; the new holder's counts.
      expect(await hooks.record('a', 'e-000001', 1, { status: 'delivered', at: T0 + LEASE + 2 })).toBe(false);
      expect(await hooks.record('a', 'e-000001', 2, { status: 'failed', at: T0 + LEASE + 3, status_code: 410, error: 'HTTP 410' })).toBe(true);
      expect(await hooks.record('a', 'e-000001', 2, { status: 'delivered', at: T0 + LEASE + 4 })).toBe(false);
      expect(await hooks.record('a', 'e-unknown', 1, { status: 'delivered', at: T0 })).toBe(false);
      const done = (await hooks.deliveries('a', 10)).find((d) => d.event_id === 'e-000001')!;
      expect(done).toMatchObject({ status: 'failed', attempts: 2, status_code: 410, error: 'HTTP 410', finished_at: T0 + LEASE + 3 });
      expect(done.next_at).toBeUndefined();
    });

    it('a failed attempt to retry is due again at next_at, keeping the answer it got', async () => {
      await hooks.enqueue('a', undefined, 'c', [delivery(1)], T0);
      await hooks.claim('a', T0, LEASE, 1);
      expect(await hooks.record('a', 'e-000001', 1, { status: 'pending', at: T0 + 10, next_at: T0 + 1000, status_code: 503, error: 'HTTP 503' })).toBe(true);
      expect((await hooks.deliveries('a', 1))[0]).toMatchObject({ status: 'pending', attempts: 1, next_at: T0 + 1000, status_code: 503, error: 'HTTP 503' });
      expect(await hooks.claim('a', T0 + 999, LEASE, 1)).toEqual([]);
      const [again] = await hooks.claim('a', T0 + 1000, LEASE, 1);
      expect(again).toMatchObject({ status: 'sending', attempts: 2, last_attempt_at: T0 + 1000 });
      // A success clears the earlier error.
      await hooks.record('a', 'e-000001', 2, { status: 'delivered', at: T0 + 1001, status_code: 200 });
      const delivered = (await hooks.deliveries('a', 1))[0]!;
      expect(delivered).toMatchObject({ status: 'delivered', status_code: 200, finished_at: T0 + 1001 });
      expect(delivered.error).toBeUndefined();
      const summary = await hooks.summary('a');
      expect(summary.pending).toBe(0);
      expect(summary.last).toMatchObject({ event_id: 'e-000001', status: 'delivered', attempts: 2, status_code: 200 });
      expect(await hooks.summary('b')).toEqual({ pending: 0 });
    });

    it(`keeps the newest ${WEBHOOK_DELIVERIES_KEEP} finished deliveries per hook`, async () => {
      const n = WEBHOOK_DELIVERIES_KEEP + 3;
      await hooks.enqueue('a', undefined, 'c', Array.from({ length: n }, (_, i) => delivery(i + 1)), T0);
      await hooks.enqueue('b', undefined, 'c', [delivery(1)], T0);
      const claimed = await hooks.claim('a', T0, LEASE, n + 10);
      expect(claimed.length).toBe(n);
      for (const d of claimed) await hooks.record('a', d.event_id, 1, { status: 'delivered', at: T0 + 1, status_code: 200 });
      const kept = await hooks.deliveries('a', n + 10);
      expect(kept.length).toBe(WEBHOOK_DELIVERIES_KEEP);
      expect(kept[kept.length - 1]!.event_id).toBe(delivery(4).event_id);
      expect((await hooks.deliveries('b', 10)).length).toBe(1);
    });

    it('a worker whose heartbeat expired is claimed once per expiry, within the window', async () => {
      await store.heartbeat('w1', { status: 'idle', hostname: 'encoder-1' }, T0, EXPIRY);
      await store.heartbeat('w2', { status: 'idle' }, T0 + 1000, EXPIRY);
      await store.heartbeat('old', { status: 'idle' }, T0 - 3_600_000, EXPIRY);
      const window = 600_000;
      expect(await hooks.claimOfflineWorkers(T0 + 10_000, T0 + 10_000 - window)).toEqual([]);
      const gone = await hooks.claimOfflineWorkers(T0 + EXPIRY + 1000, T0 + EXPIRY + 1000 - window);
      expect(gone).toEqual([
        { worker_id: 'w1', last_seen: T0, expires_at: T0 + EXPIRY, hostname: 'encoder-1' },
        { worker_id: 'w2', last_seen: T0 + 1000, expires_at: T0 + 1000 + EXPIRY },
      ]);
      expect(await hooks.claimOfflineWorkers(T0 + EXPIRY + 2000, T0 + EXPIRY + 2000 - window)).toEqual([]);
      // w1 comes back and goes again: a new expiry, claimed again.
      await store.heartbeat('w1', { status: 'idle', hostname: 'encoder-1' }, T0 + 50_000, EXPIRY);
      expect(await hooks.claimOfflineWorkers(T0 + 60_000, T0 + 60_000 - window)).toEqual([]);
      expect((await hooks.claimOfflineWorkers(T0 + 80_001, T0 + 80_001 - window)).map((w) => w.worker_id)).toEqual(['w1']);
      // A removed worker is not announced.
      await store.heartbeat('w3', { status: 'idle' }, T0 + 90_000, EXPIRY);
      await store.removeWorker('w3');
      expect(await hooks.claimOfflineWorkers(T0 + 130_000, T0 + 130_000 - window)).toEqual([]);
    });

    if (options.another) {
      it('two handles on one store (two servers): claims never overlap, cursors and offline workers are shared', async () => {
        const other = await another();
        await hooks.enqueue('a', undefined, 'c', Array.from({ length: 40 }, (_, i) => delivery(i + 1)), T0);
        expect(await other.enqueue('a', undefined, 'x', [delivery(99)], T0)).toBe(false);
        expect(await other.cursor('a')).toBe('c');
        const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? hooks : other).claim('a', T0, LEASE, 5)));
        const ids = claims.flat().map((d) => d.event_id);
        expect(ids.length).toBe(40);
        expect(new Set(ids).size).toBe(40);
        await store.heartbeat('w1', { status: 'idle' }, T0, EXPIRY);
        const now = T0 + EXPIRY + 1;
        const offline = await Promise.all([hooks.claimOfflineWorkers(now, now - 600_000), other.claimOfflineWorkers(now, now - 600_000)]);
        expect(offline.flat().map((w) => w.worker_id)).toEqual(['w1']);
        // The first server goes away; the second sees its work.
        await store.close();
        opened.shift();
        expect((await other.deliveries('a', 100)).filter((d) => d.status === 'sending').length).toBe(40);
        expect((await other.claim('a', T0 + LEASE, LEASE, 100)).length).toBe(40);
      });
    }
  });
}
