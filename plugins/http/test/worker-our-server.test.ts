import { describe, expect, it } from 'vitest';
import { createEngine } from '@sisyphus/core';
import { createWorker } from '@sisyphus/core/worker';
import { type Transport } from '@sisyphus/core/transport';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, openSqliteStore } from '@sisyphus/server';
import { createHttpTransport } from '@sisyphus/transport-http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onCleanup, tempDir, waitFor } from './helpers.js';

/** Counts the calls a worker makes through `transport`. */
function counting(transport: Transport) {
  const calls = { next: 0, complete: 0, completeWithNext: 0 };
  const counted: Transport = {
    name: transport.name,
    capabilities: (signal) => transport.capabilities!(signal),
    heartbeat: (status, options) => transport.heartbeat(status, options),
    getData: (module, name) => transport.getData(module, name),
    close: () => transport.close(),
    next: (signal, options) => {
      calls.next++;
      return transport.next(signal, options);
    },
    complete: (job, result, options) => {
      calls.complete++;
      if (options?.next) calls.completeWithNext++;
      return transport.complete(job, result, options);
    },
  };
  return { transport: counted, calls };
}

/**
 * Our server (SQLite in memory), a counting HTTP transport, and a worker
 * `workerId` running cleanup jobs in a temp folder; `submit(title)` queues a
 * job deleting a file made for it.
 */
async function setup(workerId: string) {
  const server = await createServer(openSqliteStore(':memory:'), {});
  const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const http = createHttpTransport({ apiUrl: base });
  const { transport, calls } = counting(http);
  const dir = await tempDir();
  const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [dir] });
  const worker = createWorker({ engine, transport, workerId, heartbeatIntervalMs: 1000, pollIntervalMs: 1000 });
  onCleanup(async () => {
    await worker.stop({ abort: true });
    await http.close();
    await server.close();
  });
  const submit = async (title: string) => {
    const file = join(dir, `${title}.tmp`);
    await writeFile(file, 'x');
    const res = await fetch(`${base}/queue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: [file] } }] }),
    });
    return ((await res.json()) as { job_id: string }).job_id;
  };
  const state = async (id: string) => ((await (await fetch(`${base}/jobs/${id}`)).json()) as { state: string }).state;
  return { base, worker, calls, submit, state };
}

describe('worker loop against our server', () => {
  it('a busy queue runs back to back: each report brings the next job, no poll in between', async () => {
    const { base, worker, calls, submit, state } = await setup('busy');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submit(`job ${i}`));
    const started: string[] = [];
    worker.on('job:start', (e) => started.push(e.jobId));
    worker.start();
    await waitFor('all jobs reported', async () => (await Promise.all(ids.map(state))).every((s) => s === 'completed'));
    expect(started).toEqual(ids); // in queue order, each once
    expect(calls.complete).toBe(6);
    expect(calls.completeWithNext).toBe(6);
    // One poll found the first job; the five others came with reports. (Polls after the last job only wait.)
    await waitFor('the worker polls again once the queue is empty', () => calls.next >= 2);
    const history = (await (await fetch(`${base}/jobs?state=completed&limit=10`)).json()) as { jobs: Array<{ worker_id: string; attempts: number }> };
    for (const job of history.jobs) expect(job).toMatchObject({ worker_id: 'busy', attempts: 1 });
    await worker.stop();
    expect(calls.next).toBeLessThanOrEqual(3);
  });

  it('a stopping worker asks for no next job: what is queued stays queued', async () => {
    const { worker, calls, submit, state } = await setup('stopper');
    const first = await submit('first');
    const second = await submit('second');
    let stopping: Promise<void> | undefined;
    worker.on('job:start', () => {
      stopping ??= worker.stop(); // graceful: the running job finishes, nothing new is taken
    });
    worker.start();
    await waitFor('stop requested', () => stopping !== undefined);
    await stopping;
    expect(await state(first)).toBe('completed');
    expect(await state(second)).toBe('queued');
    expect(calls.completeWithNext).toBe(0);
  });
});
