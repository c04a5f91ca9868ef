import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { MAX_ROUNDS, reportJob } from '../src/queue/job-report.js';
import { isStoreError } from '../src/store/store-error.js';

// The queue rules over a report that waits for children (reportJob): who may
// hand over children, and what ends a job instead of letting it wait.
const LEASE = 30_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const doc = (title: string, tasks = 1) => ({ job_title: title, tasks: Array.from({ length: tasks }, () => ({ module: 'cleanup', data: { delete: ['/x'] } })) });
const waitInfo = (workerId: string | undefined, taskIndex = 0, children = [doc('child')]) => ({
  ...(workerId ? { worker_id: workerId } : {}),
  completed: false,
  failed: false,
  end_time: new Date(T0).toISOString(),
  tasks: [],
  waiting_children: { task_index: taskIndex, children },
});

async function running(tasks = 1) {
  const store = openSqliteStore(':memory:');
  const id = randomUUID();
  await store.submit({ job_id: id, job_title: 'parent', job: doc('parent', tasks), priority: 0, added: new Date(T0).toISOString() });
  const leased = await store.lease('w1', LEASE, T0);
  expect(leased?.job_id).toBe(id);
  return { store, id };
}

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => (isStoreError(error) ? { code: error.code, message: error.message } : error));

describe('reports that wait for children (reportJob)', () => {
  it('must name the holder: an anonymous report cannot hand over children, nor can another worker', async () => {
    const { store, id } = await running();
    expect(await refusal(reportJob(store, id, { failed: false, info: waitInfo(undefined) }, { workerId: undefined, now: T0 + 1, leaseMs: LEASE }))).toMatchObject({
      code: 'SIS_VALIDATION',
      message: 'a report that waits for children must name its worker (info.worker_id), the holder of the job',
    });
    expect(await refusal(reportJob(store, id, { failed: false, info: waitInfo('w2') }, { workerId: 'w2', now: T0 + 1, leaseMs: LEASE }))).toMatchObject({ code: 'SIS_LEASE_LOST' });
    expect((await store.get(id))?.state).toBe('running');
    expect(await store.queueLength()).toBe(0);
    await store.close();
  });

  it('refuses a task_index that is not a task of the job', async () => {
    const { store, id } = await running(2);
    expect(await refusal(reportJob(store, id, { failed: false, info: waitInfo('w1', 2) }, { workerId: 'w1', now: T0 + 1, leaseMs: LEASE }))).toMatchObject({
      code: 'SIS_VALIDATION',
      message: `waiting_children.task_index 2 is not a task of job ${id} (it has 2)`,
    });
    expect(await reportJob(store, id, { failed: false, info: waitInfo('w1', 1) }, { workerId: 'w1', now: T0 + 1, leaseMs: LEASE })).toEqual({ state: 'waiting-children' });
    await store.close();
  });

  it('a child that waits for children fails with the reason (nested fan-out), instead of a refusal its worker would retry', async () => {
    const { store, id } = await running();
    await reportJob(store, id, { failed: false, info: waitInfo('w1') }, { workerId: 'w1', now: T0 + 1, leaseMs: LEASE });
    const child = (await store.lease('w1', LEASE, T0 + 2))!;
    expect(child.parent_id).toBe(id);
    expect(await reportJob(store, child.job_id, { failed: false, info: waitInfo('w1') }, { workerId: 'w1', now: T0 + 3, leaseMs: LEASE })).toEqual({ state: 'failed' });
    expect((await store.get(child.job_id))?.result?.message).toBe('a child job cannot wait for children of its own (nested fan-out is not supported)');
    expect((await store.get(id))?.state).toBe('failed');
    expect((await store.get(id))?.reason).toMatch(/^child \S+ \(child\) failed: a child job cannot wait/);
    await store.close();
  });

  it(`a job that waited ${MAX_ROUNDS} times fails instead of waiting again`, async () => {
    const { store, id } = await running();
    let now = T0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      expect(await reportJob(store, id, { failed: false, info: waitInfo('w1', 0, []) }, { workerId: 'w1', now: ++now, leaseMs: LEASE })).toEqual({ state: 'waiting-children' });
      expect((await store.lease('w1', LEASE, ++now))?.job_id).toBe(id); // no children: queued again at once
    }
    expect(await reportJob(store, id, { failed: false, info: waitInfo('w1', 0, []) }, { workerId: 'w1', now: ++now, leaseMs: LEASE })).toEqual({ state: 'failed' });
    expect((await store.get(id))?.result?.message).toMatch(new RegExp(`waited for children ${MAX_ROUNDS} times`));
    await store.close();
  });
});
