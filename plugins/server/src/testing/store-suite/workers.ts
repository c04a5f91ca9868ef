import { describe, expect, it } from 'vitest';
import { EXPIRY, T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** Workers: heartbeats, expiry, the listing, attributes, removal. */
export function describeWorkers(fixture: StoreFixture): void {
  const { store } = fixture;

  describe('workers', () => {
    const status = (hostname: string, extra: Record<string, unknown> = {}) => ({
      status: 'idle',
      hostname,
      version: '1.5.9',
      online_at: 'None',
      ...extra,
    });

    it('answer a never-seen worker with defaults', async () => {
      expect(await store.worker('w1', T0)).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: 0, live: false });
      // Asking again gives the same answer.
      expect(await store.worker('w1', T0)).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: 0, live: false });
    });

    it('store a heartbeat and answer it', async () => {
      const body = status('host-a', { job_id: 'j', progress: 42.5, info: { current_frame: 10, total_frames: 100 }, text: TRICKY });
      const record = await store.heartbeat('w1', body, T0, EXPIRY);
      expect(record).toEqual({ worker_id: 'w1', status: body, attributes: { disabled: false }, last_seen: T0, live: true });
      expect(await store.worker('w1', T0 + 1)).toEqual(record);
      expect(await store.workers(T0 + 1)).toEqual([record]);
    });

    it('replace the status with each heartbeat', async () => {
      await store.heartbeat('w1', status('a', { job_id: 'j', progress: 10 }), T0, EXPIRY);
      const second = status('a', { status: 'in_progress' });
      const record = await store.heartbeat('w1', second, T0 + 5000, EXPIRY);
      expect(record.status).toEqual(second);
      expect(record.last_seen).toBe(T0 + 5000);
      expect((await store.worker('w1', T0 + 5001)).status).toEqual(second);
    });

    it('drop a worker whose heartbeat expired', async () => {
      await store.heartbeat('w1', status('a'), T0, EXPIRY);
      await store.heartbeat('w2', status('b'), T0 + 20_000, EXPIRY);
      expect((await store.workers(T0 + EXPIRY - 1)).map((w) => w.worker_id)).toEqual(['w1', 'w2']);
      expect((await store.workers(T0 + EXPIRY + 1)).map((w) => w.worker_id)).toEqual(['w2']);
      expect(await store.workers(T0 + 20_000 + EXPIRY + 1)).toEqual([]);
      // Still answered by id, with its attributes, but its heartbeat is gone.
      const gone = await store.worker('w1', T0 + EXPIRY + 1);
      expect(gone.worker_id).toBe('w1');
      expect(gone.status).toEqual({});
      expect(gone.attributes).toEqual({ disabled: false });
    });

    it('keep a worker alive with each heartbeat', async () => {
      await store.heartbeat('w1', status('a'), T0, EXPIRY);
      await store.heartbeat('w1', status('a'), T0 + 20_000, EXPIRY);
      expect(await store.workers(T0 + EXPIRY + 1)).toHaveLength(1);
    });

    it('sort by hostname, falling back to the worker id', async () => {
      await store.heartbeat('id-3', status('charlie'), T0, EXPIRY);
      await store.heartbeat('id-1', status('delta'), T0, EXPIRY);
      await store.heartbeat('id-2', status('alpha'), T0, EXPIRY);
      await store.heartbeat('bravo-id', { status: 'idle' }, T0, EXPIRY);
      expect((await store.workers(T0 + 1)).map((w) => w.worker_id)).toEqual(['id-2', 'bravo-id', 'id-3', 'id-1']);
    });

    it('merge attribute patches and answer the result', async () => {
      expect(await store.setWorkerAttributes('w1', { disabled: true })).toEqual({ disabled: true });
      expect(await store.setWorkerAttributes('w1', { label: TRICKY })).toEqual({ disabled: true, label: TRICKY });
      expect(await store.setWorkerAttributes('w1', { disabled: false })).toEqual({ disabled: false, label: TRICKY });
      expect((await store.worker('w1', T0)).attributes).toEqual({ disabled: false, label: TRICKY });
      expect(await store.setWorkerAttributes('w2', { other: 1 })).toEqual({ disabled: false, other: 1 });
    });

    it('keep attributes across heartbeats', async () => {
      await store.setWorkerAttributes('w1', { disabled: true });
      const record = await store.heartbeat('w1', status('a'), T0, EXPIRY);
      expect(record.attributes).toEqual({ disabled: true });
      await store.heartbeat('w1', status('a'), T0 + 1000, EXPIRY);
      expect((await store.worker('w1', T0 + 1001)).attributes).toEqual({ disabled: true });
    });

    it('list a disabled worker even when it expired or was never seen', async () => {
      await store.heartbeat('w1', status('a'), T0, EXPIRY);
      await store.heartbeat('w2', status('b'), T0, EXPIRY);
      await store.setWorkerAttributes('w1', { disabled: true });
      await store.setWorkerAttributes('w3', { disabled: true });
      const later = T0 + 10 * EXPIRY;
      const listed = await store.workers(later);
      expect(listed.map((w) => w.worker_id).sort()).toEqual(['w1', 'w3']);
      for (const w of listed) expect(w.attributes.disabled).toBe(true);
      const never = listed.find((w) => w.worker_id === 'w3')!;
      expect(never.status).toEqual({});
      expect(never.last_seen).toBe(0);
    });

    it('give every listed worker an attributes object', async () => {
      await store.heartbeat('w1', status('a'), T0, EXPIRY);
      await store.heartbeat('w2', status('b'), T0, EXPIRY);
      await store.setWorkerAttributes('w2', { disabled: true });
      for (const w of await store.workers(T0 + 1)) expect(typeof w.attributes.disabled).toBe('boolean');
    });

    it('remove a worker with its status and attributes', async () => {
      await store.heartbeat('w1', status('a'), T0, EXPIRY);
      await store.setWorkerAttributes('w1', { disabled: true });
      await store.heartbeat('w2', status('b'), T0, EXPIRY);
      expect(await store.removeWorker('w1')).toBe(true);
      expect((await store.workers(T0 + 1)).map((w) => w.worker_id)).toEqual(['w2']);
      expect(await store.worker('w1', T0 + 1)).toEqual({ worker_id: 'w1', status: {}, attributes: { disabled: false }, last_seen: 0, live: false });
      expect(await store.removeWorker('w1')).toBe(false);
      expect(await store.removeWorker('never-seen')).toBe(false);
      // Attributes alone are enough to be removable.
      await store.setWorkerAttributes('w3', { disabled: true });
      expect(await store.removeWorker('w3')).toBe(true);
      expect(await store.workers(T0 + 1)).toHaveLength(1);
    });
  });
}
