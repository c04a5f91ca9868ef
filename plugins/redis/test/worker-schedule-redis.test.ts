import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { workerScheduleBlock } from '../../server/src/queue/applied-schedule.js';
import { checkScheduleAttributes, seedSchedules } from '../../server/src/queue/schedule-attributes.js';
import { BullmqStore } from '../src/bullmq-store.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const stores: BullmqStore[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  while (stores.length) await stores.pop()!.close();
  while (prefixes.length) await deleteKeys(URL, prefixes.pop()!);
});

async function open(prefix: string) {
  const store = await BullmqStore.open({ connection: URL, prefix });
  stores.push(store);
  return store;
}

describe('schedules on the Redis store (what a direct Redis worker reads, without a server)', () => {
  it("a worker's own schedule and its tags' schedules live in the store, so any process on the prefix decides the same", async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.push(prefix);
    // One process writes (a server at start, or the API), another reads (a direct worker).
    const writer = await open(prefix);
    const reader = await open(prefix);
    const night = { timezone: 'Europe/Berlin', windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }] };
    await seedSchedules(writer, { tags: { gpu: night }, workers: {} });
    await writer.setWorkerAttributes('own', checkScheduleAttributes('worker', { schedule: { timezone: 'UTC', windows: [{ from: '09:00', to: '17:00' }] } }));
    const now = Date.parse('2025-03-29T12:00:00Z'); // Saturday noon
    await reader.heartbeat('tagged', { status: 'idle', capabilities: { tags: ['gpu'] } }, now, 30_000);
    await reader.heartbeat('own', { status: 'idle', capabilities: { tags: ['gpu'] } }, now, 30_000);
    await reader.heartbeat('plain', { status: 'idle' }, now, 30_000);

    // Berlin springs forward on Sunday: Monday 22:00 CEST is 20:00Z.
    expect(await workerScheduleBlock(reader, 'tagged', now)).toMatchObject({ blocked: true, until: Date.parse('2025-03-31T20:00:00Z') });
    expect(await workerScheduleBlock(reader, 'own', now)).toBeUndefined();
    expect(await workerScheduleBlock(reader, 'plain', now)).toBeUndefined();
    const evening = Date.parse('2025-03-29T18:00:00Z');
    expect(await workerScheduleBlock(reader, 'own', evening)).toMatchObject({ reason: 'this worker is outside its active hours until 2025-03-30T09:00:00.000Z (its own schedule)' });
  });
});
