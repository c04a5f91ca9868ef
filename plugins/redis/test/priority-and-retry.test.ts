/**
 * Priority changes and retries on Redis beyond the shared suite: a job that
 * went back to the head of its priority (its lease ran out) takes its place
 * by submission order when its priority changes, BullMQ's job follows our
 * record, and retries hold across two store instances and after the retry
 * itself is gone.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isStoreError, type NewJob } from '@sisyphus/server/store';
import { BullmqStore } from '../src/bullmq-store.js';
import { MAX_PRIORITY, toBullmqPriority } from '../src/priority-mapping.js';
import { queuedJobs } from '../../server/src/testing/queued-jobs.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

const URL = 'redis://127.0.0.1:6379/0';
const T0 = Date.UTC(2030, 0, 1);

const prefixes = new Set<string>();
const stores: BullmqStore[] = [];
const raws: Redis[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const raw of raws.splice(0)) await raw.quit();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

async function setup(n = 1) {
  const prefix = `sis-prio-${randomUUID()}`;
  prefixes.add(prefix);
  const opened: BullmqStore[] = [];
  for (let i = 0; i < n; i++) opened.push(await BullmqStore.open({ connection: URL, prefix, stalledCheck: false }));
  stores.push(...opened);
  const raw = new Redis(URL);
  raws.push(raw);
  let count = 0;
  const job = (id: string, priority = 0): NewJob => ({ job_id: id, job_title: id, job: { id }, priority, added: new Date(T0 + ++count).toISOString() });
  const queued = async () => (await queuedJobs(opened[0]!)).map((j) => j.job_id);
  return { prefix, stores: opened, raw, job, queued };
}

describe('setPriority on Redis', () => {
  it('a job put back at the head of its priority goes by its submission order when its priority changes', async () => {
    const { stores: [store], job, queued } = await setup();
    await store!.submit(job('y', 5));
    await store!.submit(job('a', 9));
    await store!.submit(job('z', 5));
    expect((await store!.lease('w1', 1, T0))?.job_id).toBe('a');
    expect(await store!.expireLeases(T0 + 10, 5)).toEqual({ requeued: ['a'], failed: [] });
    expect(await queued()).toEqual(['a', 'y', 'z']);
    // Submitted between y and z: between them, not at the head of priority 5.
    expect(await store!.setPriority('a', 5)).toBe('ok');
    expect(await queued()).toEqual(['y', 'a', 'z']);
    expect(await store!.lease('w2', 60_000, T0 + 20)).toMatchObject({ job_id: 'y' });
    expect(await store!.lease('w2', 60_000, T0 + 20)).toMatchObject({ job_id: 'a', attempts: 2, priority: 5 });
  });

  it('BullMQ\'s job follows: its priority field and its place; a priority beyond the range queues at the bound and is kept as given', async () => {
    const { stores: [store], raw, job, queued, prefix } = await setup();
    for (const id of ['a', 'b', 'c']) await store!.submit(job(id, 0));
    expect(await store!.setPriority('c', 10 ** 9)).toBe('ok');
    expect(await raw.hget(`${prefix}:jobs:c`, 'priority')).toBe(String(toBullmqPriority(MAX_PRIORITY)));
    expect(await store!.get('c')).toMatchObject({ priority: 10 ** 9 });
    expect(await store!.setPriority('a', MAX_PRIORITY)).toBe('ok');
    // Both at the top priority BullMQ has, by submission order.
    expect(await queued()).toEqual(['a', 'c', 'b']);
    expect((await store!.list({ state: 'queued', limit: 10 })).jobs.map((j) => [j.job_id, j.priority])).toEqual([
      ['a', MAX_PRIORITY],
      ['c', 10 ** 9],
      ['b', 0],
    ]);
  });
});

describe('retry on Redis', () => {
  async function failed(store: BullmqStore, job: (id: string) => NewJob, id: string) {
    await store.submit(job(id));
    expect((await store.lease('w1', 60_000, T0))?.job_id).toBe(id);
    expect(await store.finish(id, 'w1', { state: 'failed', reason: 'boom' }, T0 + 1)).toBe('ok');
  }

  it('concurrent retries of one job through two instances: exactly one goes through', async () => {
    const { stores: [a, b], job, queued } = await setup(2);
    await failed(a!, job, 'x');
    const tries = Array.from({ length: 8 }, (_, n) => ({ ...job(`r${n}`), retry_of: 'x' }));
    const settled = await Promise.allSettled(tries.map((t, n) => (n % 2 ? a! : b!).retry('x', t)));
    const won = settled.flatMap((s, n) => (s.status === 'fulfilled' ? [tries[n]!.job_id] : []));
    expect(won).toHaveLength(1);
    for (const s of settled) if (s.status === 'rejected') expect(isStoreError(s.reason, 'SIS_JOB_STATE')).toBe(true);
    expect(await queued()).toEqual(won);
    expect(await b!.get('x')).toMatchObject({ state: 'failed', retried_as: won[0] });
  });

  it('a retry that is gone (removed from the queue) no longer stands in the way', async () => {
    const { stores: [store], job, queued } = await setup();
    await failed(store!, job, 'x');
    await store!.retry('x', { ...job('r1'), retry_of: 'x' });
    const refused = await store!.retry('x', { ...job('r2'), retry_of: 'x' }).catch((error: unknown) => error);
    expect(isStoreError(refused, 'SIS_JOB_STATE')).toBe(true);
    expect((refused as Error).message).toBe('job x was retried already as r1; retry r1 instead');
    expect(await store!.remove('r1')).toBe(true);
    expect(await store!.retry('x', { ...job('r3'), retry_of: 'x' })).toMatchObject({ job_id: 'r3', retry_of: 'x', state: 'queued' });
    expect(await store!.get('x')).toMatchObject({ retried_as: 'r3' });
    expect(await queued()).toEqual(['r3']);
    // The retry is listed with its link, and filtered like any job.
    expect((await store!.list({ title: 'r3', limit: 10 })).jobs).toEqual([await store!.get('r3')]);
  });
});
