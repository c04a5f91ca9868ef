import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createEngine,
  definePlugin,
  type JobResult,
} from '@sisyphus/core';
import {
  DEFAULT_TRANSPORT_PLUGINS,
  backoffDelay,
  createWorker,
  findTransport,
  resolveWorkerSettings,
  slotWorkerIds,
} from '@sisyphus/core/worker';
import {
  checkConfig,
} from '@sisyphus/core/config';
import {
  TransportError,
  type LeasedJob,
  type Transport,
  type WorkerStatus,
} from '@sisyphus/core/transport';
import { waitFor } from './helpers.js';

describe('worker parts', () => {
  it('slot ids: plain id for one slot, ID-n for more', () => {
    expect(slotWorkerIds('w', 1)).toEqual(['w']);
    expect(slotWorkerIds('w', 3)).toEqual(['w-1', 'w-2', 'w-3']);
    expect(() => slotWorkerIds('w', 0)).toThrow(RangeError);
  });

  it('backoff doubles from the base, is capped, and jitters in the upper half', () => {
    const o = { baseMs: 1000, maxMs: 5000 };
    expect(backoffDelay(0, { ...o, random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { ...o, random: () => 0.999999 })).toBe(1000);
    expect(backoffDelay(2, { ...o, random: () => 0.999999 })).toBe(4000);
    expect(backoffDelay(10, { ...o, random: () => 0.999999 })).toBe(5000);
    for (let i = 0; i < 50; i++) expect(backoffDelay(1, o)).toBeGreaterThanOrEqual(1000);
  });

  it('settings: the original environment variables beat the config; seconds become milliseconds', () => {
    const config = checkConfig({ worker: { id: 'cfg', hostname: 'cfg-host', pollInterval: 3, concurrency: 2, stateDir: 'state' }, transport: { options: { apiUrl: 'http://cfg:1' } } }, 'test');
    const base = resolveWorkerSettings(config, '/etc/sis', {});
    expect(base).toMatchObject({ id: 'cfg', hostname: 'cfg-host', pollIntervalMs: 3000, heartbeatIntervalMs: 5000, networkRetryIntervalMs: 20000, concurrency: 2, stateDir: '/etc/sis/state', transport: { name: 'http', options: { apiUrl: 'http://cfg:1' } } });
    const env = { API_URL: 'http://env:2', HOST_UUID: 'env-id', HOSTNAME_OVERRIDE: 'env-host', HEARTBEAT_INTERVAL: '1', QUEUE_POLL_INTERVAL: '0.5', NETWORK_RETRY_INTERVAL: '7', SISYPHUS_TOKEN: 'tok' };
    expect(resolveWorkerSettings(config, '/etc/sis', env)).toMatchObject({ id: 'env-id', hostname: 'env-host', heartbeatIntervalMs: 1000, pollIntervalMs: 500, networkRetryIntervalMs: 7000, transport: { options: { apiUrl: 'http://env:2', token: 'tok' } } });
    expect(resolveWorkerSettings(config, '/', env, { api: 'http://flag:3', concurrency: 4 })).toMatchObject({ concurrency: 4, transport: { options: { apiUrl: 'http://flag:3' } } });
    expect(() => resolveWorkerSettings({}, '/', { HEARTBEAT_INTERVAL: 'soon' })).toThrow(/HEARTBEAT_INTERVAL/);
    expect(resolveWorkerSettings({}, '/', { XDG_CONFIG_HOME: '/x' }).stateDir).toBe('/x/sisyphus');
    expect(() => checkConfig({ worker: { colour: 'red' } }, 'test')).toThrow(ConfigError);
  });

  it('finds a transport among plugins, else the shipped http one; names what is missing', async () => {
    const fake = { name: 'fake', create: () => ({}) as Transport };
    const plugin = { plugin: definePlugin({ name: 'p', version: '1.0.0', transports: [fake] }), source: 'p' };
    expect((await findTransport('fake', [plugin])).factory).toBe(fake);
    expect(DEFAULT_TRANSPORT_PLUGINS).toContain('@sisyphus/transport-http');
    const http = await findTransport('http', [plugin]);
    expect(http.factory.name).toBe('http');
    expect(http.plugins.map((p) => p.source)).toEqual(['p', '@sisyphus/transport-http']);
    await expect(findTransport('carrier-pigeon', [plugin])).rejects.toThrow(/no plugin provides transport "carrier-pigeon" \(available: fake, http, redis\)/);
  });

  it('a transport (or a listener) that throws never crashes the loop; the outage is logged once', async () => {
    let failing = true;
    const beats: WorkerStatus[] = [];
    const completed: string[] = [];
    const queue: LeasedJob[] = [{ job_id: 'j1', job: { job_title: 'x', tasks: [] } }];
    const transport: Transport = {
      name: 'memory',
      async next() {
        if (failing) throw new TransportError('down');
        return queue.shift();
      },
      async heartbeat(status) {
        if (failing) throw new Error('down');
        beats.push(status);
      },
      async complete(job: LeasedJob, _result: JobResult) {
        completed.push(job.job_id);
      },
      async getData() {
        return undefined;
      },
      async close() {},
    };
    const worker = createWorker({ engine: createEngine(), transport, workerId: 'm', heartbeatIntervalMs: 30, pollIntervalMs: 20, networkRetryIntervalMs: 10, networkRetryMaxMs: 40 });
    const warnings: string[] = [];
    worker.on('log', (l) => l.level === 'warn' && warnings.push(l.message));
    worker.on('heartbeat', () => {
      throw new Error('a careless listener');
    });
    worker.start();
    await waitFor(() => warnings.length > 0);
    await new Promise((r) => setTimeout(r, 150));
    failing = false;
    await waitFor(() => completed.length === 1);
    await worker.stop();
    expect(warnings.filter((w) => w.includes('unreachable'))).toHaveLength(1);
    expect(beats.some((b) => b.status === 'idle')).toBe(true);
  });
});
