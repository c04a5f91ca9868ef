import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobResult } from '@sisyphus/core';
import type { WorkerCapabilities, WorkerStatus } from '@sisyphus/core/transport';
import { prepareSubmission } from '@sisyphus/server';
import type { JobRequirements } from '@sisyphus/server/store';
import { BullmqStore } from '../src/bullmq-store.js';
import { createRedisTransport } from '../src/redis-transport.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

// The direct Redis transport routes by the capabilities of each slot's heartbeats:
// its polls (and reports that take the next job) are handed only jobs the slot can run.
const URL = 'redis://127.0.0.1:6379/0';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const prefix = `sis-test-${randomUUID()}`;
  const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
  const transport = createRedisTransport({ connection: URL, prefix, pollIntervalMs: 25 });
  cleanups.push(async () => {
    await store.close();
    await deleteKeys(URL, prefix);
  });
  cleanups.push(() => transport.close());
  const submit = async (title: string, requires?: JobRequirements) => {
    const job = prepareSubmission({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: ['/nonexistent'] } }] }, undefined, true, new Date());
    await store.submit(requires ? { ...job, requires } : job);
    return job.job_id;
  };
  return { store, transport, submit };
}

const caps = (tags: string[]): WorkerCapabilities => ({ modules: ['cleanup'], binaries: {}, encoders: [], hwaccels: [], gpus: [], tags });
const beat = (capabilities?: WorkerCapabilities): WorkerStatus => ({ status: 'idle', hostname: 'h', version: '0', online_at: 'None', ...(capabilities ? { capabilities } : {}) });
const done = (jobId: string, workerId: string): JobResult => {
  const now = new Date().toISOString();
  return { start_time: now, end_time: now, runtime: 0.1, worker: 'h', worker_id: workerId, version: '0', completed: true, job_id: jobId, job_title: 'x', failed: false, cancelled: false, tasks: [] };
};
const GPU: JobRequirements = { all: ['module:cleanup', 'tag:gpu'], explicit: true };
const ANY: JobRequirements = { all: ['module:cleanup'], explicit: false };
/** Derived from what a task uses, not explicit: a worker advertising nothing would get it, one advertising what it has does not. */
const NVENC: JobRequirements = { all: ['encoder:hevc_nvenc', 'module:cleanup'], explicit: false };

describe('redis transport: capability routing', () => {
  it('each slot is handed only the jobs its heartbeat\'s capabilities meet; a job nobody here can run does not block the ones behind it', async () => {
    const { store, transport, submit } = await setup();
    const gpuJob = await submit('needs a gpu tag', GPU);
    const anyJob = await submit('anyone with cleanup', ANY);
    const signal = new AbortController().signal;
    await transport.heartbeat(beat(caps(['cpu'])), { workerId: 'cpu-1' });
    await transport.heartbeat(beat(caps(['GPU'])), { workerId: 'gpu-1' });
    expect((await transport.next(signal, { workerId: 'cpu-1' }))?.job_id).toBe(anyJob);
    expect(await transport.next(signal, { workerId: 'cpu-1' })).toBeUndefined();
    expect((await transport.next(signal, { workerId: 'gpu-1' }))?.job_id).toBe(gpuJob);
    // The heartbeat stored for GET /workers carries them too.
    expect((await store.worker('gpu-1', Date.now())).status.capabilities).toEqual(caps(['GPU']));
  });

  it('a slot that advertises nothing (no capabilities in its heartbeats) gets only jobs without an explicit requires', async () => {
    const { transport, submit } = await setup();
    await submit('explicit', GPU);
    const plain = await submit('derived only', ANY);
    await transport.heartbeat(beat(), { workerId: 'old-1' });
    const signal = new AbortController().signal;
    expect((await transport.next(signal, { workerId: 'old-1' }))?.job_id).toBe(plain);
    expect(await transport.next(signal, { workerId: 'old-1' })).toBeUndefined();
  });

  it('a report that takes the next job takes one the slot can run', async () => {
    const { transport, submit } = await setup();
    const first = await submit('first', ANY);
    const signal = new AbortController().signal;
    await transport.heartbeat(beat(caps([])), { workerId: 'cpu-1' });
    const leased = (await transport.next(signal, { workerId: 'cpu-1' }))!;
    expect(leased.job_id).toBe(first);
    await submit('nvenc only', NVENC);
    const last = await submit('cpu can', ANY);
    const reply = await transport.complete(leased, done(first, 'cpu-1'), { next: { workerId: 'cpu-1' } });
    expect(reply).toMatchObject({ accepted: true, next: { job_id: last } });
  });
});

describe('redis transport: child jobs\' requirements', () => {
  it('children a task hands over require what their tasks use, derived from the worker\'s modules (as a server derives them)', async () => {
    const { default: ffmpegPlugin } = await import('@sisyphus/module-ffmpeg');
    const modules = { get: (name: string) => {
      const module = ffmpegPlugin.modules!.find((m) => m.name === name);
      return module ? { module } : undefined;
    } };
    const prefix = `sis-test-${randomUUID()}`;
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
    const transport = createRedisTransport({ connection: URL, prefix, pollIntervalMs: 25, modules });
    cleanups.push(async () => {
      await store.close();
      await deleteKeys(URL, prefix);
    });
    cleanups.push(() => transport.close());
    const parent = prepareSubmission({ job_title: 'parent', tasks: [{ module: 'cleanup', data: { delete: ['/nonexistent'] } }] }, undefined, true, new Date());
    await store.submit(parent);
    const signal = new AbortController().signal;
    await transport.heartbeat(beat(caps([])), { workerId: 'w' });
    const leased = (await transport.next(signal, { workerId: 'w' }))!;
    const child = {
      job_title: 'chunk',
      tasks: [{ module: 'ffmpeg', data: { sources: ['/a.mkv'], source_maps: [{ source: 0 }], output_maps: [{ specifier: 'v', options: { 'c:v': 'hevc_nvenc' } }], output_file: '/b.mkv' } }],
    };
    const result = { ...done(leased.job_id, 'w'), waiting_children: { task_index: 0, children: [child] } } as unknown as JobResult;
    expect(await transport.complete(leased, result)).toMatchObject({ accepted: true });
    const [stored] = await store.children(leased.job_id);
    expect(stored!.requires!.all).toEqual(expect.arrayContaining(['encoder:hevc_nvenc', 'binary:ffmpeg', 'module:ffmpeg']));
  });
});
