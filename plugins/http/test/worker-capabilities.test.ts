import { describe, expect, it } from 'vitest';
import { createEngine } from '@sisyphus/core';
import { createWorker, detectWorkerCapabilities, type WorkerCapabilities, type WorkerLogEvent } from '@sisyphus/core/worker';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createHttpTransport } from '@sisyphus/transport-http';
import { FakeOriginalServer } from './fake-original-server.js';
import { onCleanup, tempDir, waitFor } from './helpers.js';

// Heartbeats carry the worker's capabilities, on the wire, from each slot's startup heartbeat on.
async function setup(capabilities: WorkerCapabilities | Promise<WorkerCapabilities>) {
  const server = await new FakeOriginalServer().listen();
  const dir = await tempDir();
  const transport = createHttpTransport({ apiUrl: server.url, requestTimeoutMs: 5000 });
  const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [dir] });
  const worker = createWorker({ engine, transport, workerId: 'caps', hostname: 'h', heartbeatIntervalMs: 50, pollIntervalMs: 40, concurrency: 2, capabilities });
  const logs: WorkerLogEvent[] = [];
  worker.on('log', (l) => logs.push(l));
  onCleanup(async () => {
    await worker.stop({ abort: true });
    await transport.close();
    await server.close();
  });
  return { server, worker, engine, logs };
}

describe('capabilities in heartbeats (HTTP transport, real worker loop)', () => {
  it('every heartbeat of every slot carries them; each slot\'s first request is its startup heartbeat, sent once detection is done', async () => {
    let resolve!: (c: WorkerCapabilities) => void;
    const pending = new Promise<WorkerCapabilities>((r) => (resolve = r));
    const { server, worker, engine } = await setup(pending);
    worker.start();
    // Detection still running: the slots wait (nothing asked of the server yet).
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toEqual([]);
    resolve(await detectWorkerCapabilities({ modules: engine.modules, tags: ['GPU'], gpus: [] }));
    await waitFor('a few heartbeats of each slot', () => server.heartbeats('caps-1').length >= 3 && server.heartbeats('caps-2').length >= 3);
    const expected = { modules: ['cleanup'], binaries: {}, encoders: [], hwaccels: [], gpus: [], tags: ['gpu'] };
    for (const slot of ['caps-1', 'caps-2']) {
      const mine = server.requests.filter((r) => r.path.includes(slot));
      expect(mine[0]).toMatchObject({ method: 'POST', path: `/workers/${slot}`, body: { status: 'startup', capabilities: expected } });
      for (const beat of server.heartbeats(slot)) expect(beat.body.capabilities).toEqual(expected);
    }
    expect(worker.statuses().map((s) => s.status.capabilities)).toEqual([expected, expected]);
  });

  it('detection that fails is logged; the worker runs and its heartbeats carry none', async () => {
    const failing = Promise.reject(new Error('no /dev'));
    failing.catch(() => undefined); // handled by the worker, later than Node's unhandled-rejection check
    const { server, worker, logs } = await setup(failing);
    worker.start();
    await waitFor('heartbeats', () => server.heartbeats('caps-1').length >= 2);
    expect(server.heartbeats('caps-1').every((b) => b.body.capabilities === undefined)).toBe(true);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: 'capabilities not known (no /dev); heartbeats carry none' }));
  });
});
