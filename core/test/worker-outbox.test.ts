import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type, createEngine, defineModule } from '@sisyphus/core';
import { TransportError, type LeasedJob, type Transport } from '@sisyphus/core/transport';
import { createFileOutbox, createWorker } from '@sisyphus/core/worker';
import { tempDir, waitFor } from './helpers.js';

const noop = defineModule({ name: 'noop', schema: Type.Object({}), setup: () => ({ run() {} }) });

function fakeTransport(jobs: LeasedJob[], complete: Transport['complete']): Transport {
  return {
    name: 'fake',
    next: async () => jobs.shift() ?? (await new Promise<undefined>((r) => setTimeout(r, 20, undefined))),
    heartbeat: async () => undefined,
    complete,
    getData: async () => undefined,
    close: async () => undefined,
  };
}

describe('worker outbox', () => {
  it('keeps a result it could not report across a restart and reports it first thing on the next start', async () => {
    const dir = await tempDir();
    const outbox = createFileOutbox(join(dir, 'outbox'));
    const engine = createEngine({ modules: [noop] });
    const job: LeasedJob = { job_id: 'job-1', job: { job_title: 'kept', tasks: [{ module: 'noop', data: {} }] } };

    const down = fakeTransport([job], async () => {
      throw new TransportError('connect ECONNREFUSED', { retryable: true });
    });
    const reported: string[] = [];
    const firstWithOutbox = createWorker({ engine, transport: down, workerId: 'w', pollIntervalMs: 20, heartbeatIntervalMs: 60_000, networkRetryIntervalMs: 20, outbox });
    firstWithOutbox.on('job:reported', (e) => reported.push(e.outcome));
    firstWithOutbox.start();
    expect(await waitFor(() => existsSync(join(dir, 'outbox', 'job-1.json')), 5000)).toBe(true);
    await firstWithOutbox.stop({ abort: true });
    expect(reported).toEqual(['kept']);
    expect(readdirSync(join(dir, 'outbox'))).toEqual(['job-1.json']);

    const delivered: Array<{ id: string; completed: boolean; title: string }> = [];
    const up = fakeTransport([], async (leased, result) => {
      delivered.push({ id: leased.job_id, completed: result.completed, title: result.job_title });
    });
    const second = createWorker({ engine, transport: up, workerId: 'w', pollIntervalMs: 20, heartbeatIntervalMs: 60_000, networkRetryIntervalMs: 20, outbox });
    second.start();
    expect(await waitFor(() => delivered.length === 1, 5000)).toBe(true);
    expect(delivered).toEqual([{ id: 'job-1', completed: true, title: 'kept' }]);
    expect(await waitFor(() => readdirSync(join(dir, 'outbox')).length === 0, 2000)).toBe(true);
    await second.stop();
  });

  it('a kept result the server refuses (lease lost meanwhile) is dropped, not retried forever', async () => {
    const dir = await tempDir();
    const outbox = createFileOutbox(join(dir, 'outbox'));
    await outbox.save({ leased: { job_id: 'old', job: { job_title: 'x' } }, result: { job_id: 'old' } as never });
    const engine = createEngine({ modules: [noop] });
    const worker = createWorker({ engine, transport: fakeTransport([], async () => ({ accepted: false, reason: 'lease lost' })), workerId: 'w', pollIntervalMs: 20, heartbeatIntervalMs: 60_000, outbox });
    const outcomes: string[] = [];
    worker.on('job:reported', (e) => outcomes.push(e.outcome));
    worker.start();
    expect(await waitFor(() => outcomes.length === 1, 5000)).toBe(true);
    expect(outcomes).toEqual(['refused']);
    expect(await waitFor(() => readdirSync(join(dir, 'outbox')).length === 0, 2000)).toBe(true);
    await worker.stop();
  });
});
