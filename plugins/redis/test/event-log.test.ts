/**
 * The Redis store's event log beyond the shared conformance suite: what only
 * a log shared through Redis has to do. Two store instances on one prefix
 * hear each other's appends (a server and another server, or a direct
 * worker); the tail survives its connection being killed; a closed store
 * leaves nothing that keeps the process alive; and the trimming knows
 * exactly which reader missed events.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_LOG_KEEP, type NewQueueEvent } from '@sisyphus/server/store';
import { BullmqStore } from '../src/bullmq-store.js';
import { tailName } from '../src/event-log.js';
import { StoreKeys } from '../src/store-keys.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';
import { PrivateRedis } from '../../../test/support/redis-server.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);

const prefixes = new Set<string>();
const stores: BullmqStore[] = [];
const raws: Redis[] = [];
const privates: PrivateRedis[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const raw of raws.splice(0)) await raw.quit();
  for (const redis of privates.splice(0)) await redis.close();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

/** `n` store instances on one fresh prefix, and a raw connection. */
async function setup(n: number) {
  const prefix = `sis-events-${randomUUID()}`;
  prefixes.add(prefix);
  const opened: BullmqStore[] = [];
  for (let i = 0; i < n; i++) {
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
    stores.push(store);
    opened.push(store);
  }
  const raw = new Redis(URL);
  raws.push(raw);
  return { prefix, stores: opened, raw, keys: new StoreKeys(prefix) };
}

/** `n` events numbered from `from` (`data.n`). */
const numbered = (from: number, n: number): NewQueueEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'job.submitted', at: T0 + from + i, data: { n: from + i } }));

/** A listener of `store`'s log: how often it was called, and a promise of its call count passing a number. */
function listener(store: BullmqStore) {
  let calls = 0;
  const waiters: Array<{ above: number; resolve: () => void }> = [];
  const stop = store.events.onAppend(() => {
    calls++;
    for (const w of waiters.filter((w) => calls > w.above)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    stop,
    calls: () => calls,
    /** Resolves once the listener was called more than `above` times. */
    called: (above: number) => new Promise<void>((resolve) => (calls > above ? resolve() : waiters.push({ above, resolve }))),
  };
}

/** The clients named `name` (CLIENT LIST): id and current command. */
async function clients(raw: Redis, name: string): Promise<Array<{ id: string; cmd: string }>> {
  const list = (await raw.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => ({ id: /(?:^|\s)id=(\d+)/.exec(line)![1]!, cmd: /\scmd=(\S+)/.exec(line)?.[1] ?? '' }));
}

/** Resolves once `check` is true, looking again after each Redis round trip of `raw` (no timers). */
async function eventually(raw: Redis, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await raw.ping();
}

describe('the Redis event log, shared through Redis', () => {
  it('a store hears what another store on the prefix appends, and reads it', async () => {
    const { stores: [a, b] } = await setup(2);
    const onB = listener(b!);
    const onA = listener(a!);
    const ids = await a!.events.append(numbered(0, 3));
    await onB.called(0);
    expect((await b!.events.read(undefined, 10)).events.map((e) => e.id)).toEqual(ids);
    // And the other way round; the appender's own listeners hear it too.
    await onA.called(0);
    const seen = onA.calls();
    const more = await b!.events.append(numbered(3, 1));
    await onA.called(seen);
    expect(await a!.events.read(ids[2], 10)).toEqual({ reset: false, events: [{ id: more[0], type: 'job.submitted', at: T0 + 3, data: { n: 3 } }] });
    expect(await a!.events.last()).toBe(more[0]);
  });

  it('the tail reads on after its connection is killed, and tells its listeners when it is back', async () => {
    const { stores: [a, b], raw, keys } = await setup(2);
    const onB = listener(b!);
    await a!.events.append(numbered(0, 1));
    await onB.called(0);
    const name = tailName(keys.events);
    const [tail] = await clients(raw, name);
    expect(tail).toBeDefined();
    // Kill it, and append before it is back: the listener hears of it once it reconnects.
    let seen = onB.calls();
    expect(await raw.client('KILL', 'ID', tail!.id)).toBe(1);
    await a!.events.append(numbered(1, 1));
    await onB.called(seen);
    // A new connection, blocked in its read again: it hears the next append as before.
    await eventually(raw, async () => (await clients(raw, name)).some((c) => c.id !== tail!.id && c.cmd === 'xread'));
    await new Promise(setImmediate); // its reconnect call was made by now (the read was sent after it)
    seen = onB.calls();
    await a!.events.append(numbered(2, 1));
    await onB.called(seen);
    expect((await b!.events.read(undefined, 10)).events.map((e) => e.data['n'])).toEqual([0, 1, 2]);
  });

  it('the tail follows the log across a restart of Redis: appends after it reach the listeners, nothing kept is lost', async () => {
    const redis = await PrivateRedis.start();
    privates.push(redis);
    const open = () => BullmqStore.open({ connection: redis.url, prefix: 'sisyphus', stalledCheck: false });
    const [a, b] = [await open(), await open()];
    stores.push(a, b);
    const onB = listener(b);
    const before = await a.events.append(numbered(0, 2));
    await onB.called(0);
    const seen = onB.calls();
    await redis.kill('SIGKILL');
    await redis.start();
    // A's append waits for its connection to come back; B's tail reads on from where it stood.
    const after = await a.events.append(numbered(2, 1));
    await onB.called(seen);
    const read = await b.events.read(before[1], 10);
    expect(read).toEqual({ reset: false, events: [{ id: after[0], type: 'job.submitted', at: T0 + 2, data: { n: 2 } }] });
    expect((await b.events.read(undefined, 10)).events.map((e) => e.id)).toEqual([...before, ...after]);
  }, 60_000);

  it('close() stops the tail: its connection is gone and listeners hear nothing more', async () => {
    const { stores: [a, b], raw, keys } = await setup(2);
    const onB = listener(b!);
    await a!.events.append(numbered(0, 1));
    await onB.called(0);
    expect(await clients(raw, tailName(keys.events))).toHaveLength(1);
    await b!.close();
    await eventually(raw, async () => (await clients(raw, tailName(keys.events))).length === 0);
    const calls = onB.calls();
    const onA = listener(a!);
    await a!.events.append(numbered(1, 1));
    await onA.called(0);
    expect(onB.calls()).toBe(calls);
  });

  it('a process whose store listened and was closed exits by itself', () => {
    const prefix = `sis-events-${randomUUID()}`;
    prefixes.add(prefix);
    const store = fileURLToPath(new globalThis.URL('../dist/index.js', import.meta.url));
    const script = `
      const { BullmqStore } = await import(${JSON.stringify(store)});
      const store = await BullmqStore.open({ connection: ${JSON.stringify(URL)}, prefix: ${JSON.stringify(prefix)} });
      await new Promise((resolve) => {
        store.events.onAppend(resolve);
        void store.events.append([{ type: 'queue.cleared', at: 0, data: {} }]);
      });
      await store.close();
      console.log('closed');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
    expect(run.signal, 'the process had to be killed: something kept it alive').toBeNull();
    expect(run.status).toBe(0);
  });

  it('trims to the newest EVENT_LOG_KEEP and knows the newest trimmed id: a reader at it missed nothing, one before it did', async () => {
    const { stores: [store], raw, keys } = await setup(1);
    const all: string[] = [];
    for (let n = 0; n < EVENT_LOG_KEEP + 1200; n += 1000) all.push(...(await store!.events.append(numbered(n, 1000))));
    const length = await raw.xlen(keys.events);
    expect(length).toBeGreaterThanOrEqual(EVENT_LOG_KEEP);
    expect(length).toBeLessThanOrEqual(EVENT_LOG_KEEP + 1000);
    const trimmed = await raw.get(keys.eventsTrimmed);
    const at = all.indexOf(trimmed!);
    // The newest trimmed entry is the one right before the oldest kept.
    expect(at).toBe(all.length - length - 1);
    expect((await store!.events.read(undefined, 1)).events[0]!.id).toBe(all[at + 1]);
    expect(await store!.events.read(trimmed!, 2)).toEqual({ reset: false, events: (await store!.events.read(undefined, 2)).events });
    expect((await store!.events.read(all[at - 1], 2)).reset).toBe(true);
    expect((await store!.events.read(all[0], 2)).reset).toBe(true);
    // An id the log never made, even one between the trimmed and the kept: another log's.
    const [ms, seq] = trimmed!.split('-');
    expect((await store!.events.read(`${ms}-${Number(seq) + 1}`, 1)).reset).toBe(!all.includes(`${ms}-${Number(seq) + 1}`));
  });

  it('a log that is gone (Redis emptied) answers reset to a reader that was following it, also once a new log grew', async () => {
    const { stores: [store], raw, keys } = await setup(1);
    const ids = await store!.events.append(numbered(0, 2));
    await raw.del(keys.events);
    expect(await store!.events.read(ids[1], 10)).toEqual({ events: [], reset: true });
    const fresh = await store!.events.append(numbered(2, 1));
    expect(await store!.events.read(ids[1], 10)).toEqual({ events: [{ id: fresh[0], type: 'job.submitted', at: T0 + 2, data: { n: 2 } }], reset: true });
  });
});
