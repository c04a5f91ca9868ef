import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeQueueStore } from '../../server/src/testing/store-conformance.js';
import { queuedJobs } from '../../server/src/testing/queued-jobs.js';
import { BullmqStore } from '../src/bullmq-store.js';
import { toBullmqPriority, MAX_PRIORITY, MIN_PRIORITY } from '../src/priority-mapping.js';
import { fromBullmqId, toBullmqId } from '../src/job-ids.js';
import { BULLMQ_KEY_NAMES } from '../src/bullmq-internals.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const prefixes = new Set<string>();
let current = '';

/** Delete every key of a prefix (SCAN + DEL: never FLUSHDB, the Redis may be shared). */
const dropPrefix = (prefix: string) => deleteKeys(URL, prefix);

afterEach(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  prefixes.clear();
});

const open = (prefix: string) => BullmqStore.open({ connection: URL, prefix });

describeQueueStore(
  'bullmq',
  () => {
    current = `sis-test-${randomUUID()}`;
    prefixes.add(current);
    return open(current);
  },
  { reopen: () => open(current) },
);

describe('bullmq store specifics', () => {
  it('maps priorities into BullMQ range, higher first', () => {
    expect(toBullmqPriority(MAX_PRIORITY)).toBe(1);
    // BullMQ refuses priorities above 2^21 - 1 ("Priority should be between 0 and 2097151").
    expect(toBullmqPriority(MIN_PRIORITY)).toBe(2 ** 21 - 1);
    expect(toBullmqPriority(0)).toBe(2 ** 20);
    expect(toBullmqPriority(10 ** 9)).toBe(1);
    expect(toBullmqPriority(-(10 ** 9))).toBe(2 ** 21 - 1);
    expect(toBullmqPriority(5)).toBeLessThan(toBullmqPriority(4));
  });

  it('carries job ids BullMQ refuses', () => {
    for (const id of ['42', 'a:b', '~x', '', 'plain-id', '日本']) expect(fromBullmqId(toBullmqId(id))).toBe(id);
    expect(toBullmqId('plain-id')).toBe('plain-id');
    expect(toBullmqId('42')).not.toBe('42');
  });

  it('job ids that name BullMQ\'s own keys (wait, active, meta, ...) are carried escaped: the queue keeps working', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.add(prefix);
    const store = await open(prefix);
    try {
      const ids = [...BULLMQ_KEY_NAMES].filter((name) => name !== '');
      expect(ids).toEqual(expect.arrayContaining(['active', 'wait', 'meta', 'events', 'completed', 'prioritized', 'marker']));
      for (const id of ids) {
        expect(toBullmqId(id)).not.toBe(id);
        await store.submit({ job_id: id, job_title: id, job: { id }, priority: 0, added: new Date(0).toISOString() });
      }
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(ids);
      expect((await store.queuedDocuments({ limit: 1000 })).documents).toHaveLength(ids.length);
      for (const id of ids) {
        const leased = await store.lease('w', 60_000, 1);
        expect(leased?.job_id).toBe(id);
        expect(await store.finish(id, 'w', { state: 'completed' }, 2)).toBe('ok');
      }
      expect(await store.lease('w', 60_000, 3)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('a grace period one instance grants holds for every instance\'s sweep on the prefix', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.add(prefix);
    const [a, b] = [await open(prefix), await open(prefix)];
    try {
      const now = Date.now();
      await a.submit({ job_id: 'j', job_title: 'j', job: {}, priority: 0, added: new Date(now).toISOString() });
      await a.lease('w1', 1000, now);
      await a.setLeaseGrace(now + 60_000);
      expect(await b.expireLeases(now + 5000, 3)).toEqual({ requeued: [], failed: [] });
      expect((await b.get('j'))?.state).toBe('running');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('queues and leases jobs with ids BullMQ would refuse', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.add(prefix);
    const store = await open(prefix);
    try {
      for (const id of ['1', '2:x']) {
        await store.submit({ job_id: id, job_title: id, job: { id }, priority: 0, added: new Date(0).toISOString() });
      }
      expect((await queuedJobs(store)).map((j) => j.job_id)).toEqual(['1', '2:x']);
      expect((await store.lease('w', 1000, 0))?.job_id).toBe('1');
      expect(await store.finish('1', 'w', { state: 'completed' }, 1)).toBe('ok');
    } finally {
      await store.close();
    }
  });

  it('never hands a job out twice to two stores on one prefix', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.add(prefix);
    const [a, b] = [await open(prefix), await open(prefix)];
    try {
      for (let i = 0; i < 40; i++) {
        await a.submit({ job_id: `j${i}`, job_title: `t${i}`, job: { i }, priority: i % 3, added: new Date(i).toISOString() });
      }
      const leased = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).lease(`w${i}`, 60_000, 0)),
      );
      const got = leased.filter((j) => j !== undefined).map((j) => j!.job_id);
      expect(got).toHaveLength(40);
      expect(new Set(got).size).toBe(40);
      expect(await queuedJobs(b)).toEqual([]);
      // Either instance finishes with the token the other one leased with.
      for (const id of got) expect(await (Number(id.slice(1)) % 2 ? a : b).finish(id, undefined, { state: 'completed' }, 1)).toBe('ok');
      expect((await a.list({ state: 'completed', limit: 100 })).jobs).toHaveLength(40);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps the lock token in the record only while leased, never in what it hands out; BullMQ\'s job holds only id and title', async () => {
    const prefix = `sis-test-${randomUUID()}`;
    prefixes.add(prefix);
    const store = await open(prefix);
    const raw = new Redis(URL);
    try {
      await store.submit({ job_id: 'a', job_title: 'title a', job: { job_title: 'title a', tasks: [] }, priority: 0, added: new Date(0).toISOString() });
      expect(JSON.parse((await raw.hget(`${prefix}:jobs:${toBullmqId('a')}`, 'data'))!)).toEqual({ job_id: 'a', job_title: 'title a' });
      const leased = await store.lease('w1', 60_000, 0);
      expect(leased?.job_id).toBe('a');
      const token = await raw.hget(`${prefix}:sis:job:a`, 'lock_token');
      expect(token).toMatch(/^[0-9a-f-]{36}$/);
      expect(await raw.get(`${prefix}:jobs:${toBullmqId('a')}:lock`)).toBe(token);
      expect(JSON.stringify(leased)).not.toContain(token);
      expect(JSON.stringify(await store.get('a'))).not.toContain(token);
      expect(await store.finish('a', 'w1', { state: 'completed', result: { ok: 1 } }, 1)).toBe('ok');
      expect(await raw.hget(`${prefix}:sis:job:a`, 'lock_token')).toBeNull();
      expect((await store.get('a'))?.result).toEqual({ ok: 1 });
    } finally {
      raw.disconnect();
      await store.close();
    }
  });

});
