import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SisyphusServer } from '@sisyphus/server';
import type { QueueStore } from '@sisyphus/server/store';
import { describeWebhookStore } from '../../server/src/testing/webhook-store-suite.js';
import { WebhookReceiver } from '../../server/test/webhook-receiver.js';
import { BullmqStore } from '../src/bullmq-store.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';

// Webhooks on the Redis store: the store part's conformance, and several servers on one Redis delivering each event once.
const URL = 'redis://127.0.0.1:6379/0';
const SECRET = 'whsec-0123456789abcdef-0123456789';
const prefixes = new Set<string>();
let current = '';
const servers: SisyphusServer[] = [];
const receivers: WebhookReceiver[] = [];
const handles: QueueStore[] = [];

afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  while (handles.length) await handles.pop()!.close();
  while (receivers.length) await receivers.pop()!.close();
  for (const prefix of prefixes) await deleteKeys(URL, prefix);
  prefixes.clear();
});

const open = (prefix: string) => BullmqStore.open({ connection: URL, prefix });
const freshPrefix = () => {
  current = `sis-test-${randomUUID()}`;
  prefixes.add(current);
  return current;
};

describeWebhookStore('bullmq', () => open(freshPrefix()), { another: () => open(current) });

async function serve(prefix: string, url: string, events: string[], now?: () => number): Promise<{ server: SisyphusServer; base: string }> {
  const store = await open(prefix);
  const server = await createServer(
    store,
    { acceptUnknownModules: true, sweepIntervalMs: now ? 3_600_000 : 1000, webhooks: [{ name: 'fleet', url, events, secret: SECRET }] },
    now ? { now } : {},
  );
  servers.push(server);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, base: `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}` };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    signal: AbortSignal.timeout(15_000),
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A handle of our own on the prefix: the hook has read the whole log and has nothing left to send. */
async function settled(prefix: string): Promise<void> {
  const store = await open(prefix);
  handles.push(store);
  await until('the webhook to settle', async () => (await store.webhooks.cursor('fleet')) === (await store.events.last()) && (await store.webhooks.summary('fleet')).pending === 0);
}

describe('webhooks on Redis', () => {
  it('two servers on one Redis deliver each event once, not once per server', async () => {
    const prefix = freshPrefix();
    const r = await WebhookReceiver.start();
    receivers.push(r);
    const [a, b] = [await serve(prefix, r.url, ['job.submitted', 'job.completed']), await serve(prefix, r.url, ['job.submitted', 'job.completed'])];
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await call((i % 2 ? a : b).base, 'POST', '/queue', { job_title: `j${i}`, tasks: [{ module: 'noop', data: {} }] })).json.job_id);
    for (let i = 0; i < 10; i++) {
      const base = (i % 2 ? b : a).base;
      const polled = await call(base, 'GET', `/queue/poll?worker_id=w${i % 2}`);
      expect(polled.status).toBe(200);
      await call(base, 'PATCH', `/jobs/${polled.json.job_id}/completed`, { failed: false, info: { worker_id: `w${i % 2}`, completed: true } });
    }
    await r.until('twenty deliveries', () => r.received.length >= 20);
    await settled(prefix);
    expect(r.received).toHaveLength(20);
    expect(new Set(r.received.map((d) => d.json.id)).size).toBe(20);
    const pairs = r.received.map((d) => `${d.json.type} ${d.json.data.job.job_id}`).sort();
    expect(pairs).toEqual(ids.flatMap((id) => [`job.completed ${id}`, `job.submitted ${id}`]).sort());
    const { json } = await call(b.base, 'GET', '/webhooks/fleet/deliveries?limit=200');
    expect(json.deliveries).toHaveLength(20);
    expect(json.deliveries.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  });

  it('worker.offline is appended once for two sweeping servers, and delivered once', async () => {
    const prefix = freshPrefix();
    const r = await WebhookReceiver.start();
    receivers.push(r);
    const T0 = Date.now();
    const clock = { now: T0 };
    const a = await serve(prefix, r.url, ['worker.offline'], () => clock.now);
    const b = await serve(prefix, r.url, ['worker.offline'], () => clock.now);
    expect((await call(a.base, 'POST', '/workers/w1', { status: 'idle', hostname: 'encoder-1' })).status).toBe(200);
    clock.now = T0 + 61_000;
    await Promise.all([a.server.sweeper.tick(), b.server.sweeper.tick()]);
    await Promise.all([a.server.sweeper.tick(), b.server.sweeper.tick()]);
    await r.until('the offline delivery', () => r.received.length >= 1);
    await settled(prefix);
    const log = await handles[0]!.events.read(undefined, 1000);
    expect(log.events.filter((e) => e.type === 'worker.offline').map((e) => (e.data.worker as { worker_id: string }).worker_id)).toEqual(['w1']);
    expect(r.received.map((d) => [d.json.type, d.json.data.worker.worker_id, d.json.data.worker.hostname])).toEqual([['worker.offline', 'w1', 'encoder-1']]);
  });
});
