import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createEngine, type JobResult } from '@sisyphus/core';
import { createWorker } from '@sisyphus/core/worker';
import { TransportError, transportDataStore, type TransportFactory } from '@sisyphus/core/transport';
import { describeTransport } from '@sisyphus/core/conformance';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { prepareSubmission } from '@sisyphus/server';
import { BullmqStore } from '../src/bullmq-store.js';
import redisPlugin, { redisTransportFactory } from '../src/index.js';
import { createRedisTransport, type RedisTransport, type RedisTransportOptions } from '../src/redis-transport.js';
import { deleteKeys } from '../../../test/support/redis-keys.js';
// @ts-expect-error: a plain .mjs fixture without types
import sleeperPlugin from '../../http/test/fixtures/sleeper-plugin.mjs';

const URL = 'redis://127.0.0.1:6379/0';
const prefixes = new Set<string>();

/** Delete every key of a prefix (SCAN + DEL: never FLUSHDB, the Redis may be shared). */
const dropPrefix = (prefix: string) => deleteKeys(URL, prefix);

afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
});

const freshPrefix = () => {
  const prefix = `sis-test-${randomUUID()}`;
  prefixes.add(prefix);
  return prefix;
};

/** Queue a job through the server's own submission check, as `POST /queue` does. */
async function submit(store: BullmqStore, body: Record<string, unknown>): Promise<string> {
  const job = prepareSubmission(body, undefined, true, new Date());
  await store.submit(job);
  return job.job_id;
}

// The Redis transport against a second BullmqStore on the same fresh prefix (what a server would use).
describeTransport('redis -> BullmqStore', async () => {
  const prefix = freshPrefix();
  const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
  return {
    transport: createRedisTransport({ connection: URL, prefix, pollIntervalMs: 25 }),
    submit: (job) => submit(store, job),
    state: async (id) => (await store.get(id))?.state,
    result: async (id) => (await store.get(id))?.result,
    setQueueDisabled: async (disabled) => void (await store.setQueueAttributes({ disabled })),
    setWorkerDisabled: async (id, disabled) => void (await store.setWorkerAttributes(id, { disabled })),
    requestCancel: async (id) => void (await store.cancel(id, Date.now())),
    putData: (module, name, record) => store.putData(module, name, record),
    close: async () => {
      await store.close();
      await dropPrefix(prefix);
      prefixes.delete(prefix);
    },
  };
});

const cleanupJob = (title: string, path: string) => ({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: [path] } }] });

function result(jobId: string, workerId: string, patch: Partial<JobResult> = {}): JobResult {
  const now = new Date().toISOString();
  return {
    start_time: now, end_time: now, runtime: 0.1, worker: 'test-host', worker_id: workerId, version: '0.0.0',
    completed: true, job_id: jobId, job_title: 'x', failed: false, cancelled: false, phase: 'run', tasks: [], ...patch,
  };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!(await check())) throw new Error(`timed out waiting for: ${what}`);
}

describe('redis transport specifics', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  /** A store (the "server" side) and a transport on one fresh prefix; both closed and the keys dropped after the test. */
  async function setup(options: Partial<RedisTransportOptions> = {}): Promise<{ store: BullmqStore; transport: RedisTransport; prefix: string }> {
    const prefix = freshPrefix();
    const store = await BullmqStore.open({ connection: URL, prefix, stalledCheck: false });
    const transport = createRedisTransport({ connection: URL, prefix, pollIntervalMs: 25, ...options });
    cleanups.push(async () => {
      await store.close();
      await dropPrefix(prefix);
      prefixes.delete(prefix);
    });
    cleanups.push(() => transport.close());
    return { store, transport, prefix };
  }

  it('is a plugin with a `redis` transport factory', async () => {
    expect(redisPlugin.name).toBe('@sisyphus/redis');
    expect(redisPlugin.transports?.map((t: TransportFactory) => t.name)).toEqual(['redis']);
    const transport = await redisTransportFactory.create({ connection: URL, prefix: freshPrefix() });
    expect(transport.name).toBe('redis');
    expect(await transport.capabilities?.()).toEqual({ longPoll: true, leases: true, pollChecksDisabled: true, completeFetchesNext: true, children: true });
    await transport.close();
  });

  it('names the option when one is wrong, missing or unknown (ConfigError)', () => {
    const prefix = 'p';
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ prefix }, /^transport\.options\.connection: is required/],
      [{ connection: 'http://127.0.0.1:6379', prefix }, /^transport\.options\.connection: must be a redis:\/\/ or rediss:\/\/ URL/],
      [{ connection: URL }, /^transport\.options\.prefix: must be a non-empty key prefix/],
      [{ connection: URL, prefix: 'a b' }, /^transport\.options\.prefix:/],
      [{ connection: URL, prefix, leaseSeconds: 0 }, /^transport\.options\.leaseSeconds: must be a positive number \(got 0\)/],
      [{ connection: URL, prefix, sweepIntervalMs: '5000' }, /^transport\.options\.sweepIntervalMs: must be a positive number/],
      [{ connection: URL, prefix, maxAttempts: 1.5 }, /^transport\.options\.maxAttempts: must be a positive whole number/],
      [{ connection: URL, prefix, maintenance: 'yes' }, /^transport\.options\.maintenance: must be true or false/],
      [{ connection: URL, prefix, leaseSecond: 30 }, /^transport\.options\.leaseSecond: is not an option of the redis transport \(known: connection, prefix, leaseSeconds/],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        createRedisTransport(options as unknown as RedisTransportOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).code).toBe('SIS_CONFIG_INVALID');
      expect((thrown as Error).message).toMatch(message);
    }
  });

  it('hands out the job document the server does and records the lease holder', async () => {
    const { store, transport } = await setup();
    const id = await submit(store, { ...cleanupJob('doc', '/nonexistent'), priority: 3 });
    const leased = (await transport.next(new AbortController().signal, { workerId: 'w1' }))!;
    const stored = (await store.get(id))!;
    expect(leased.job).toEqual({ ...stored.job, job_id: id, job_title: 'doc', added: stored.added });
    expect(stored).toMatchObject({ state: 'running', worker_id: 'w1', attempts: 1 });
  });

  it('gives a job back with requeue, refuses a report after the lease was lost', async () => {
    const { store, transport } = await setup();
    const id = await submit(store, cleanupJob('requeue', '/nonexistent'));
    const signal = new AbortController().signal;
    const first = (await transport.next(signal, { workerId: 'w1' }))!;
    expect(await transport.complete(first, result(id, 'w1', { completed: false, failed: true, requeue: true, phase: 'run' }))).toEqual({ accepted: true });
    expect((await store.get(id))?.state).toBe('queued');
    // Taken again, its lease runs out and another worker gets it: the first worker's report is refused.
    const second = (await transport.next(signal, { workerId: 'w1' }))!;
    expect(second.job_id).toBe(id);
    await store.expireLeases(Date.now() + 60_000, 5);
    const third = (await transport.next(signal, { workerId: 'w2' }))!;
    expect(third.job_id).toBe(id);
    const late = await transport.complete(second, result(id, 'w1'));
    expect(late).toMatchObject({ accepted: false, reason: expect.stringContaining('lease lost') });
    // The heartbeat of the worker that lost it asks it to abort.
    expect(await transport.heartbeat({ status: 'in_progress', hostname: 'h', version: '0', online_at: 'None', job_id: id }, { workerId: 'w1' })).toEqual({ cancel: [id] });
    expect(await transport.heartbeat({ status: 'in_progress', hostname: 'h', version: '0', online_at: 'None', job_id: id }, { workerId: 'w2' })).toBeUndefined();
    expect(await transport.complete(third, result(id, 'w2'))).toEqual({ accepted: true });
    expect((await store.get(id))?.state).toBe('completed');
    expect(await transport.complete({ job_id: 'nope', job: {} }, result('nope', 'w2', { completed: false, failed: true }))).toMatchObject({ accepted: false });
  });

  it('renews the lease with each heartbeat', async () => {
    const { store, transport } = await setup({ leaseSeconds: 60 });
    const id = await submit(store, cleanupJob('renew', '/nonexistent'));
    await transport.next(new AbortController().signal, { workerId: 'w1' });
    const before = (await store.get(id))!.lease_expires!;
    await new Promise((r) => setTimeout(r, 20));
    await transport.heartbeat({ status: 'in_progress', hostname: 'h', version: '0', online_at: 'None', job_id: id }, { workerId: 'w1' });
    expect((await store.get(id))!.lease_expires!).toBeGreaterThan(before);
  });

  it('an idle poll is woken by a submit on another connection, not by its next look', async () => {
    const { store, transport } = await setup({ pollIntervalMs: 20_000 });
    const signal = new AbortController().signal;
    expect(await transport.next(signal, { workerId: 'w1' })).toBeUndefined(); // connected and subscribed
    await new Promise((r) => setTimeout(r, 100));
    const waiting = transport.next(signal, { workerId: 'w1', waitMs: 15_000 });
    await new Promise((r) => setTimeout(r, 200));
    const submitted = Date.now();
    const id = await submit(store, cleanupJob('wake', '/nonexistent'));
    expect((await waiting)?.job_id).toBe(id);
    expect(Date.now() - submitted).toBeLessThan(5000); // its own next look would be 20 s away
  });

  it('without any server, a worker transport requeues the job of a worker that died (maintenance)', async () => {
    const { store, prefix } = await setup();
    const id = await submit(store, cleanupJob('orphan', '/nonexistent'));
    const signal = new AbortController().signal;
    // A worker takes the job with a 1 s lease and dies: no heartbeat, no report.
    const dying = createRedisTransport({ connection: URL, prefix, leaseSeconds: 1, maintenance: false });
    expect((await dying.next(signal, { workerId: 'dead' }))?.job_id).toBe(id);
    await dying.close();
    // Another worker, the only process left on the queue, sweeps the lease and gets the job.
    const survivor = createRedisTransport({ connection: URL, prefix, leaseSeconds: 1, sweepIntervalMs: 100, pollIntervalMs: 20_000 });
    cleanups.push(() => survivor.close());
    const again = await survivor.next(signal, { workerId: 'alive', waitMs: 10_000 });
    expect(again?.job_id).toBe(id);
    expect(await store.get(id)).toMatchObject({ state: 'running', worker_id: 'alive', attempts: 2 });
    expect(await survivor.complete(again!, result(id, 'alive'))).toEqual({ accepted: true });
  });

  it('ends a waiting poll when its signal fires', async () => {
    const { transport } = await setup();
    const controller = new AbortController();
    const started = Date.now();
    const waiting = transport.next(controller.signal, { workerId: 'w1', waitMs: 10_000 });
    setTimeout(() => controller.abort(), 100);
    expect(await waiting).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails retryably when Redis cannot be reached', async () => {
    const transport = createRedisTransport({
      connection: { host: '127.0.0.1', port: 1, retryStrategy: () => null },
      prefix: freshPrefix(),
      callTimeoutMs: 2000,
    });
    try {
      const error = await transport.next(new AbortController().signal, { workerId: 'w1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).retryable).toBe(true);
    } finally {
      await transport.close();
    }
  });

  it('fails retryably while Redis is away and works again once it is back (private redis-server)', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    let server: ChildProcess | undefined;
    const startRedis = async () => {
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      await waitFor('private redis-server up', async () => (await probe.connect().then(() => true, () => false)) && (await probe.ping()) === 'PONG', 10_000);
      probe.disconnect();
    };
    const stopRedis = async () => {
      const child = server;
      server = undefined;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    };
    cleanups.push(stopRedis);
    await startRedis();
    const transport = createRedisTransport({ connection: `redis://127.0.0.1:${port}/0`, prefix: 'sis-test-outage', callTimeoutMs: 1000 });
    cleanups.push(() => transport.close());
    const signal = new AbortController().signal;
    expect(await transport.next(signal, { workerId: 'w1' })).toBeUndefined();
    await stopRedis();
    const asked = Date.now();
    const error = await transport.next(signal, { workerId: 'w1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).retryable).toBe(true);
    // The call fails at once (it is not queued, so Redis never runs it after the worker gave up on it).
    expect((error as TransportError).message).toMatch(/^poll: (the Redis store is \w+; try again shortly|Redis is unreachable; retrying)$/);
    expect(Date.now() - asked).toBeLessThan(900);
    await startRedis();
    // ioredis reconnects by itself (its retry delay grows to 2 s): the calls work again.
    await waitFor('transport back', () => transport.next(signal, { workerId: 'w1' }).then(() => true, () => false), 15_000);
    expect(await transport.getData('ffmpeg', 'none')).toBeUndefined();
  }, 30_000);

  it('a cancel reaches a running job at once (pub/sub), not at the next heartbeat', async () => {
    const { store, transport } = await setup();
    const engine = createEngine({ plugins: [sleeperPlugin], dataStore: transportDataStore(transport) });
    // Heartbeats a minute apart: only the pushed cancel can stop the job in time.
    const worker = createWorker({ engine, transport, workerId: 'cancel-me', heartbeatIntervalMs: 60_000, pollIntervalMs: 1000 });
    const ended: Array<{ jobId: string; cancelled: boolean }> = [];
    worker.on('job:end', (e) => ended.push({ jobId: e.jobId, cancelled: e.result.cancelled }));
    cleanups.push(() => worker.stop({ abort: true }));
    worker.start();
    const id = await submit(store, { job_title: 'long', tasks: [{ module: 'sleeper', data: { ms: 30_000 } }] });
    await waitFor('job running', async () => (await store.get(id))?.state === 'running');
    await new Promise((r) => setTimeout(r, 300)); // the child process is up
    const asked = Date.now();
    expect(await store.cancel(id, Date.now())).toBe('requested');
    await waitFor('job cancelled', async () => (await store.get(id))?.state === 'cancelled', 10_000);
    expect(Date.now() - asked).toBeLessThan(5000);
    expect(ended).toEqual([{ jobId: id, cancelled: true }]);
  });

  it('runs a cleanup job with the real worker loop; the worker shows up as GET /workers lists it', async () => {
    const { store, transport } = await setup();
    const dir = await mkdtemp(join(tmpdir(), 'sis-redis-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'old.txt');
    await writeFile(file, 'x');
    const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: [dir], dataStore: transportDataStore(transport) });
    const worker = createWorker({
      engine, transport, workerId: 'redis-worker', hostname: 'redis-host',
      heartbeatIntervalMs: 100, pollIntervalMs: 1000, networkRetryIntervalMs: 50, networkRetryMaxMs: 500,
    });
    cleanups.push(() => worker.stop({ abort: true }));
    worker.start();
    const id = await submit(store, cleanupJob('clean up', file));
    await waitFor('job completed', async () => (await store.get(id))?.state === 'completed');
    const job = (await store.get(id))!;
    expect(job).toMatchObject({ worker_id: 'redis-worker', attempts: 1, result: { completed: true, worker: 'redis-host', worker_id: 'redis-worker', job_id: id } });
    expect(existsSync(file)).toBe(false);
    await waitFor('idle heartbeat', async () => (await store.worker('redis-worker', Date.now())).status.status === 'idle');
    const listed = (await store.workers(Date.now())).find((w) => w.worker_id === 'redis-worker');
    expect(listed?.status).toMatchObject({ status: 'idle', hostname: 'redis-host', version: expect.any(String), online_at: expect.any(String) });
    expect(listed?.last_seen).toBeGreaterThan(Date.now() - 5000);
  });
});
