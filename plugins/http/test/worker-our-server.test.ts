import { describe, expect, it } from 'vitest';
import { createEngine, createWorker, type Transport } from '@sisyphus/core';
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

describe('worker loop against our server', () => {
  it('a busy queue runs back to back: each report brings the next job, no poll in between', async () => {
    const server = await createServer(openSqliteStore(':memory:'), {});
    const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const http = createHttpTransport({ apiUrl: base });
    const { transport, calls } = counting(http);
    const dir = await tempDir();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      await writeFile(join(dir, `${i}.tmp`), 'x');
      const res = await fetch(`${base}/queue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ job_title: `job ${i}`, tasks: [{ module: 'cleanup', data: { delete: [join(dir, `${i}.tmp`)] } }] }),
      });
      ids.push(((await res.json()) as { job_id: string }).job_id);
    }
    const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [dir] });
    const worker = createWorker({ engine, transport, workerId: 'busy', heartbeatIntervalMs: 1000, pollIntervalMs: 1000 });
    const started: string[] = [];
    worker.on('job:start', (e) => started.push(e.jobId));
    onCleanup(async () => {
      await worker.stop({ abort: true });
      await http.close();
      await server.close();
    });
    worker.start();
    await waitFor('all jobs reported', async () => {
      const states = await Promise.all(ids.map(async (id) => ((await (await fetch(`${base}/jobs/${id}`)).json()) as { state: string }).state));
      return states.every((s) => s === 'completed');
    });
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
    const server = await createServer(openSqliteStore(':memory:'), {});
    const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const http = createHttpTransport({ apiUrl: base });
    const { transport, calls } = counting(http);
    const dir = await tempDir();
    const submit = async (title: string) => {
      const res = await fetch(`${base}/queue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: [join(dir, `${title}.tmp`)] } }] }),
      });
      return ((await res.json()) as { job_id: string }).job_id;
    };
    await writeFile(join(dir, 'first.tmp'), 'x');
    await writeFile(join(dir, 'second.tmp'), 'x');
    const first = await submit('first');
    const second = await submit('second');
    const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [dir] });
    const worker = createWorker({ engine, transport, workerId: 'stopper', heartbeatIntervalMs: 1000, pollIntervalMs: 1000 });
    onCleanup(async () => {
      await worker.stop({ abort: true });
      await http.close();
      await server.close();
    });
    let stopping: Promise<void> | undefined;
    worker.on('job:start', () => {
      stopping ??= worker.stop(); // graceful: the running job finishes, nothing new is taken
    });
    worker.start();
    await waitFor('stop requested', () => stopping !== undefined);
    await stopping;
    const state = async (id: string) => ((await (await fetch(`${base}/jobs/${id}`)).json()) as { state: string }).state;
    expect(await state(first)).toBe('completed');
    expect(await state(second)).toBe('queued');
    expect(calls.completeWithNext).toBe(0);
  });
});
