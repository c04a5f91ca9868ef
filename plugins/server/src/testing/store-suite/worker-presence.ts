import { describe, expect, it } from 'vitest';
import type { WorkerRecord } from '../../store/queue-store.js';
import { EXPIRY, T0, type StoreFixture } from './store-fixture.js';

/** The `live` flag of worker records, and which workers `workers(now)` lists. */
export function describeWorkerPresence(fixture: StoreFixture): void {
  const { store } = fixture;

  describe('worker presence', () => {
    it('live while the heartbeat is within its expiry; after it, live false, status {}, last_seen kept', async () => {
      const body = { status: 'in_progress', hostname: 'h1', job_id: 'j1', progress: 50 };
      expect(await store.heartbeat('w1', body, T0, EXPIRY)).toMatchObject({ live: true, status: body, last_seen: T0 });
      for (const now of [T0, T0 + 1, T0 + EXPIRY - 1]) {
        expect(await store.worker('w1', now), `at +${now - T0}`).toEqual({ worker_id: 'w1', status: body, attributes: { disabled: false }, last_seen: T0, live: true });
      }
      for (const now of [T0 + EXPIRY + 1, T0 + 100 * EXPIRY]) {
        expect(await store.worker('w1', now), `at +${now - T0}`).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: T0, live: false });
      }
      // Each heartbeat counts from its own time and expiry.
      await store.heartbeat('w1', body, T0 + 10 * EXPIRY, 2 * EXPIRY);
      expect((await store.worker('w1', T0 + 12 * EXPIRY - 1)).live).toBe(true);
      expect(await store.worker('w1', T0 + 12 * EXPIRY + 1)).toMatchObject({ live: false, status: {}, last_seen: T0 + 10 * EXPIRY });
    });

    it('workers(now) lists the live workers and the workers with attributes, each with its live flag', async () => {
      const beat = (hostname: string) => ({ status: 'idle', hostname });
      await store.heartbeat('live', beat('a-live'), T0, EXPIRY);
      await store.heartbeat('live-disabled', beat('b-live-disabled'), T0, EXPIRY);
      await store.setWorkerAttributes('live-disabled', { disabled: true });
      await store.heartbeat('gone', beat('c-gone'), T0 - 2 * EXPIRY, EXPIRY);
      await store.heartbeat('gone-disabled', beat('d-gone-disabled'), T0 - 2 * EXPIRY, EXPIRY);
      await store.setWorkerAttributes('gone-disabled', { disabled: true });
      await store.heartbeat('gone-labelled', beat('e-gone-labelled'), T0 - 2 * EXPIRY, EXPIRY);
      await store.setWorkerAttributes('gone-labelled', { label: 'x' });
      await store.setWorkerAttributes('never-seen', { disabled: true });

      const listed = await store.workers(T0 + 1);
      const byId = new Map(listed.map((w) => [w.worker_id, w]));
      expect([...byId.keys()].sort()).toEqual(['gone-disabled', 'gone-labelled', 'live', 'live-disabled', 'never-seen']);
      expect(listed).toHaveLength(5);
      const expected: Record<string, Omit<WorkerRecord, 'worker_id'>> = {
        live: { status: beat('a-live'), attributes: { disabled: false }, last_seen: T0, live: true },
        'live-disabled': { status: beat('b-live-disabled'), attributes: { disabled: true }, last_seen: T0, live: true },
        'gone-disabled': { status: {}, attributes: { disabled: true }, last_seen: T0 - 2 * EXPIRY, live: false },
        'gone-labelled': { status: {}, attributes: { disabled: false, label: 'x' }, last_seen: T0 - 2 * EXPIRY, live: false },
        'never-seen': { status: {}, attributes: { disabled: true }, last_seen: 0, live: false },
      };
      for (const [id, record] of Object.entries(expected)) {
        expect(byId.get(id), id).toEqual({ worker_id: id, ...record });
        // The listing and the single record agree.
        expect(await store.worker(id, T0 + 1), id).toEqual({ worker_id: id, ...record });
      }
      // Once the live ones expire, only the ones with attributes stay listed.
      const later = await store.workers(T0 + EXPIRY + 1);
      expect(later.map((w) => w.worker_id).sort()).toEqual(['gone-disabled', 'gone-labelled', 'live-disabled', 'never-seen']);
      for (const w of later) expect(w.live, w.worker_id).toBe(false);
    });
  });
}
