import { afterEach, describe, expect, it } from 'vitest';
import { LeaseSweeper } from '../src/queue/lease-sweeper.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { QueueStore } from '../src/store/queue-store.js';

/*
 * The lease sweep's grace periods: a lease only runs out fairly if its
 * holder could have renewed it, so after the sweep was away (start, store
 * outage, frozen process) running leases get one lease length.
 */

const LEASE = 3000;
const T0 = 1_900_000_000_000;
const sweepers: LeaseSweeper[] = [];
afterEach(() => {
  while (sweepers.length) sweepers.pop()!.stop();
});

/** A SQLite store with a switchable outage and reconnect listeners, as the Redis store has. */
function flakyStore() {
  const store = openSqliteStore(':memory:');
  let down = false;
  const reconnect = new Set<() => void>();
  const grace: number[] = [];
  const flaky = Object.assign(store, {
    unavailable: () => (down ? 'the store is reconnecting' : undefined),
    onReconnect(listener: () => void) {
      reconnect.add(listener);
      return () => reconnect.delete(listener);
    },
    async setLeaseGrace(until: number) {
      grace.push(until);
    },
  }) as QueueStore;
  return {
    store: flaky,
    grace,
    goDown: () => (down = true),
    comeBack: () => {
      down = false;
      reconnect.forEach((l) => l());
    },
  };
}

async function runningJob(store: QueueStore, now: number): Promise<string> {
  const job_id = `j${Math.round(Math.random() * 1e9)}`;
  await store.submit({ job_id, job_title: 't', job: { job_title: 't', tasks: [] }, priority: 0, added: new Date(now).toISOString() });
  await store.lease('w1', LEASE, now);
  return job_id;
}

function sweeper(store: QueueStore, clock: { now: number }, lines: string[] = []) {
  const s = new LeaseSweeper(store, { leaseMs: LEASE, maxAttempts: 3, intervalMs: 60_000, now: () => clock.now, log: (_l, m) => lines.push(m) });
  sweepers.push(s);
  return s;
}

describe('LeaseSweeper grace periods', () => {
  it('after it starts, a lease that ran out while nobody swept expires only one lease length later', async () => {
    const { store, grace } = flakyStore();
    const clock = { now: T0 };
    const id = await runningJob(store, T0 - 10 * LEASE); // leased long ago: the server was down since
    const lines: string[] = [];
    const s = sweeper(store, clock, lines);
    s.start();
    expect(s.graceUntil).toBe(T0 + LEASE);
    expect(grace).toEqual([T0 + LEASE]); // a store with its own stalled check hears it too
    await s.tick();
    expect((await store.get(id))?.state).toBe('running');
    // Its worker heartbeats within the grace: the lease is alive again.
    clock.now += LEASE - 1;
    expect(await store.renew(id, 'w1', LEASE, clock.now)).toBe(true);
    clock.now += LEASE - 1;
    await s.tick();
    expect((await store.get(id))?.state).toBe('running');
    // A worker that never comes back: requeued once the grace and its lease are over.
    clock.now += LEASE;
    await s.tick();
    expect((await store.get(id))?.state).toBe('queued');
    expect(lines[0]).toMatch(/lease sweep started: running leases expire no sooner than 3 s from now/);
  });

  it('after the store comes back (reconnect or a sweep that saw it down), leases get the grace again', async () => {
    const { store, goDown, comeBack } = flakyStore();
    const clock = { now: T0 };
    const s = sweeper(store, clock);
    s.start();
    clock.now += 2 * LEASE;
    const id = await runningJob(store, clock.now);
    goDown();
    clock.now += 2 * LEASE; // the outage outlasts the lease
    await s.tick(); // sees the store down: sweeps nothing
    comeBack();
    expect(s.graceUntil).toBe(clock.now + LEASE);
    await s.tick();
    expect((await store.get(id))?.state).toBe('running');
    clock.now += LEASE + 1;
    await s.tick();
    expect((await store.get(id))?.state).toBe('queued');
  });

  it('a sweep that fails (store gone mid-sweep) counts as an outage', async () => {
    const { store } = flakyStore();
    const clock = { now: T0 };
    const s = sweeper(store, clock);
    s.start();
    clock.now += 2 * LEASE;
    const id = await runningJob(store, clock.now);
    const expire = store.expireLeases.bind(store);
    store.expireLeases = async () => {
      throw new Error('Connection is closed.');
    };
    clock.now += 2 * LEASE;
    await s.tick();
    store.expireLeases = expire;
    await s.tick(); // back: grace from now
    expect((await store.get(id))?.state).toBe('running');
    expect(s.graceUntil).toBe(clock.now + LEASE);
  });

  it('a frozen process (no tick for several intervals of real time) grants the grace when it runs again', async () => {
    const { store } = flakyStore();
    const clock = { now: T0 };
    const s = new LeaseSweeper(store, { leaseMs: LEASE, maxAttempts: 3, intervalMs: 50, now: () => clock.now });
    sweepers.push(s);
    s.start();
    clock.now += 2 * LEASE;
    const id = await runningJob(store, clock.now);
    await s.tick();
    // Block the event loop for well over 3 intervals and 2 s (what SIGSTOP or a suspended VM does to the timer).
    clock.now += 3 * LEASE;
    const until = Date.now() + 2100;
    while (Date.now() < until);
    await s.tick();
    expect(s.graceUntil).toBe(clock.now + LEASE);
    expect((await store.get(id))?.state).toBe('running');
  });
});
