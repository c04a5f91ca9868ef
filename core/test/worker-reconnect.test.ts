import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  Type,
  createEngine,
  defineModule,
} from '@sisyphus/core';
import {
  TransportError,
  type LeasedJob,
  type Transport,
  type WorkerStatus,
} from '@sisyphus/core/transport';
import {
  backoffDelay,
  createWorker,
} from '@sisyphus/core/worker';
import { OutageTracker } from '../src/worker/outage-tracker.js';
import { sleep } from '../src/worker/sleep.js';
import { waitFor } from './helpers.js';

const noop = defineModule({ name: 'noop', schema: Type.Object({}), setup: () => ({ run() {} }) });
const job = (id: string): LeasedJob => ({ job_id: id, job: { job_title: id, tasks: [{ module: 'noop', data: {} }] } });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  kind: 'heartbeat' | 'next' | 'complete';
  /** performance.now() when the call came in. */
  at: number;
  ok: boolean;
  workerId?: string;
  status?: WorkerStatus;
  jobId?: string;
}

/**
 * An in-process server the test turns off and on: while `up` is false every
 * call fails (retryable) after a few milliseconds, like a refused connection;
 * a completion while down takes a little longer (a request that times out).
 */
class FakeServer {
  up = true;
  /** While true (and up), completions fail with a retryable 503 though every other call goes through. */
  failCompletions = false;
  readonly queue: LeasedJob[] = [];
  readonly calls: Call[] = [];
  readonly delivered: string[] = [];
  #completing = 0;
  maxCompleting = 0;

  #refuse(what: string, ms = 5): Promise<never> {
    return pause(ms).then(() => {
      throw new TransportError(`${what}: connect ECONNREFUSED`);
    });
  }

  count(kind: Call['kind'], filter: (c: Call) => boolean = () => true): number {
    return this.calls.filter((c) => c.kind === kind && filter(c)).length;
  }

  readonly transport: Transport = {
    name: 'fake',
    next: async (_signal, options) => {
      const ok = this.up;
      this.calls.push({ kind: 'next', at: performance.now(), ok, ...(options?.workerId ? { workerId: options.workerId } : {}) });
      if (!ok) return this.#refuse('next');
      return this.queue.shift() ?? (await pause(20).then(() => undefined));
    },
    heartbeat: async (status, options) => {
      const ok = this.up;
      this.calls.push({ kind: 'heartbeat', at: performance.now(), ok, status, ...(options?.workerId ? { workerId: options.workerId } : {}) });
      if (!ok) return this.#refuse('heartbeat');
      return undefined;
    },
    complete: async (leased) => {
      const ok = this.up && !this.failCompletions;
      this.calls.push({ kind: 'complete', at: performance.now(), ok, jobId: leased.job_id });
      this.maxCompleting = Math.max(this.maxCompleting, ++this.#completing);
      try {
        if (!this.up) return await this.#refuse('complete', 20);
        if (!ok) throw new TransportError('complete: HTTP 503', { status: 503 });
        this.delivered.push(leased.job_id);
        return undefined;
      } finally {
        this.#completing -= 1;
      }
    },
    getData: async () => undefined,
    close: async () => undefined,
  };
}

/** The worker's `job:reported` outcomes, and the slot that ran the (single) job. */
function watch(worker: ReturnType<typeof createWorker>) {
  const seen = { outcomes: [] as string[], jobSlot: undefined as string | undefined };
  worker.on('job:start', (e) => (seen.jobSlot = e.workerId));
  worker.on('job:reported', (e) => seen.outcomes.push(e.outcome));
  return seen;
}

describe('worker reconnect', () => {
  it('a report waiting on a long backoff goes at once when the server is back, after a heartbeat renewing its job', async () => {
    const server = new FakeServer();
    server.queue.push(job('j1'));
    const retry = { baseMs: 100, maxMs: 20_000 };
    const heartbeatMs = 300;
    const worker = createWorker({
      engine: createEngine({ modules: [noop] }), transport: server.transport, workerId: 'w', concurrency: 2,
      heartbeatIntervalMs: heartbeatMs, pollIntervalMs: 20, networkRetryIntervalMs: retry.baseMs, networkRetryMaxMs: retry.maxMs,
    });
    const seen = watch(worker);
    worker.on('job:start', () => (server.up = false)); // the job finishes while the server is down
    // After the report failed 6 times it sleeps backoffDelay(5): at least this long.
    const failures = 6;
    const pendingMin = backoffDelay(failures - 1, { ...retry, random: () => 0 });
    expect(pendingMin).toBe(1600);
    let failedAt = 0;
    let upAt = 0;
    // Back right after a failed heartbeat of the busy slot, so its own next one is a whole interval away.
    worker.on('heartbeat', (e) => {
      if (!e.ok && e.workerId === seen.jobSlot && failedAt && !server.up) {
        server.up = true;
        upAt = performance.now();
      }
    });
    worker.start();
    expect(await waitFor(() => server.count('complete', (c) => !c.ok) === failures, 10_000)).toBe(true);
    failedAt = performance.now();
    expect(await waitFor(() => server.delivered.length === 1, 5000)).toBe(true);
    await worker.stop();

    const firstOk = server.calls.find((c) => c.ok && c.at >= upAt)!;
    const delivery = server.calls.find((c) => c.kind === 'complete' && c.ok)!;
    // The backoff that would have applied still had at least this long to run at recovery.
    const pendingLeft = failedAt + pendingMin - firstOk.at;
    expect(pendingLeft).toBeGreaterThan(pendingMin / 2);
    expect(delivery.at - firstOk.at).toBeLessThan(pendingLeft / 4);
    expect(delivery.at).toBeLessThan(failedAt + pendingMin / 2);
    expect(server.count('complete')).toBe(failures + 1); // no attempt between the 6th failure and the recovery

    // The busy slot renewed its job's lease at once (not a heartbeat interval later), before the report went.
    const renewal = server.calls.find((c) => c.kind === 'heartbeat' && c.ok && c.workerId === seen.jobSlot && c.at >= upAt)!;
    expect(renewal.status).toMatchObject({ status: 'in_progress', job_id: 'j1' });
    expect(renewal.at - firstOk.at).toBeLessThan(heartbeatMs / 3);
    expect(renewal.at).toBeLessThanOrEqual(delivery.at);

    // Reported once, never two attempts at a time.
    expect(server.delivered).toEqual(['j1']);
    expect(seen.outcomes).toEqual(['delivered']);
    expect(server.maxCompleting).toBe(1);
  });

  it('while the server stays down, reports and polls keep backing off and heartbeats keep their interval', async () => {
    const server = new FakeServer();
    server.queue.push(job('j1'));
    const retry = { baseMs: 100, maxMs: 20_000 };
    const heartbeatMs = 100;
    const worker = createWorker({
      engine: createEngine({ modules: [noop] }), transport: server.transport, workerId: 'w', concurrency: 2,
      heartbeatIntervalMs: heartbeatMs, pollIntervalMs: 20, networkRetryIntervalMs: retry.baseMs, networkRetryMaxMs: retry.maxMs,
    });
    const seen = watch(worker);
    let downAt = 0;
    worker.on('job:start', () => {
      server.up = false;
      downAt = performance.now();
    });
    worker.start();
    expect(await waitFor(() => downAt > 0, 5000)).toBe(true);
    const outageMs = 2500;
    await pause(outageMs);
    const during = (c: Call) => c.at >= downAt && c.at < downAt + outageMs;
    const reports = server.count('complete', during);
    const polls = server.count('next', (c) => during(c) && c.workerId !== seen.jobSlot);
    const beats = server.count('heartbeat', (c) => during(c) && c.workerId === seen.jobSlot);
    server.up = true;
    expect(await waitFor(() => server.delivered.length === 1, 5000)).toBe(true);
    await worker.stop();

    // With the shortest backoffs (half of base * 2^n) there is room for at most this many tries.
    let maxTries = 1;
    for (let waited = 0; (waited += backoffDelay(maxTries - 1, { ...retry, random: () => 0 })) < outageMs; ) maxTries++;
    expect(maxTries).toBe(6);
    expect(reports).toBeGreaterThanOrEqual(3);
    expect(reports).toBeLessThanOrEqual(maxTries);
    expect(polls).toBeLessThanOrEqual(maxTries + 1); // +1: a poll may have been on its way when the server went
    // Heartbeats are not on a backoff: one per interval all through the outage.
    expect(beats).toBeGreaterThanOrEqual(Math.floor(outageMs / heartbeatMs) - 5);
    expect(beats).toBeLessThanOrEqual(Math.ceil(outageMs / heartbeatMs) + 2);

    expect(server.delivered).toEqual(['j1']);
    expect(seen.outcomes).toEqual(['delivered']);
    expect(server.maxCompleting).toBe(1);
  });

  it('a busy slot heartbeats at once when another call finds the server back', async () => {
    const server = new FakeServer();
    server.queue.push({ job_id: 'long', job: { job_title: 'long', tasks: [{ module: 'gate', data: {} }] } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = defineModule({ name: 'gate', schema: Type.Object({}), setup: () => ({ run: () => gate }) });
    // Heartbeats are far apart: only the renewal can bring one of the busy slot within the test.
    const worker = createWorker({
      engine: createEngine({ modules: [gated] }), transport: server.transport, workerId: 'w', concurrency: 2,
      heartbeatIntervalMs: 60_000, pollIntervalMs: 20, networkRetryIntervalMs: 50, networkRetryMaxMs: 100,
    });
    const seen = watch(worker);
    worker.on('job:start', () => (server.up = false));
    worker.start();
    // The busy slot's status heartbeat (250 ms after the start) fails; the idle slot's polls fail.
    expect(await waitFor(() => server.count('heartbeat', (c) => !c.ok && c.workerId === seen.jobSlot) === 1, 5000)).toBe(true);
    server.up = true;
    const upAt = performance.now();
    expect(await waitFor(() => server.count('heartbeat', (c) => c.ok && c.at >= upAt && c.workerId === seen.jobSlot) === 1, 2000)).toBe(true);
    const firstOk = server.calls.find((c) => c.ok && c.at >= upAt)!;
    const renewal = server.calls.find((c) => c.kind === 'heartbeat' && c.ok && c.at >= upAt && c.workerId === seen.jobSlot)!;
    expect(firstOk.workerId).not.toBe(seen.jobSlot); // another slot's call found the server back
    expect(renewal.at - firstOk.at).toBeLessThan(50);
    expect(renewal.status).toMatchObject({ status: 'in_progress', job_id: 'long' });
    release();
    expect(await waitFor(() => server.delivered.length === 1, 5000)).toBe(true);
    await worker.stop();
    expect(seen.outcomes).toEqual(['delivered']);
  });

  it('a server that answers heartbeats but keeps failing the report gets it at a bounded pace, not in a loop', async () => {
    const server = new FakeServer();
    server.queue.push(job('j1'));
    const heartbeatMs = 100;
    const worker = createWorker({
      engine: createEngine({ modules: [noop] }), transport: server.transport, workerId: 'w', concurrency: 2,
      heartbeatIntervalMs: heartbeatMs, pollIntervalMs: 5, networkRetryIntervalMs: 300, networkRetryMaxMs: 20_000,
    });
    const seen = watch(worker);
    let failingAt = 0;
    worker.on('job:start', () => {
      server.failCompletions = true;
      failingAt = performance.now();
    });
    worker.start();
    expect(await waitFor(() => failingAt > 0, 5000)).toBe(true);
    const windowMs = 1500;
    await pause(windowMs);
    const during = (c: Call) => c.at >= failingAt && c.at < failingAt + windowMs;
    const reports = server.count('complete', during);
    const beats = server.count('heartbeat', during);
    server.failCompletions = false;
    expect(await waitFor(() => server.delivered.length === 1, 5000)).toBe(true);
    await worker.stop();

    // Every failure ends "up" (the next heartbeat or poll goes through), so each
    // backoff is cut short, but never below min(heartbeat interval, base) = 100 ms.
    let plainTries = 1; // on plain backoff, at most this many within the window
    for (let waited = 0; (waited += backoffDelay(plainTries - 1, { baseMs: 300, maxMs: 20_000, random: () => 0 })) < windowMs; ) plainTries++;
    expect(plainTries).toBe(4);
    expect(reports).toBeGreaterThan(plainTries + 1);
    expect(reports).toBeLessThanOrEqual(Math.ceil(windowMs / heartbeatMs) + 1);
    // The recoveries do not multiply heartbeats: a slot that heartbeat within its interval does not renew.
    expect(beats).toBeLessThanOrEqual(2 * (Math.ceil(windowMs / heartbeatMs) + 3));
    expect(server.delivered).toEqual(['j1']);
    expect(seen.outcomes).toEqual(['delivered']);
    expect(server.maxCompleting).toBe(1);
  });
});

describe('outage signal and sleep', () => {
  it('the tracker hands every failure of one outage the same signal; it fires once the outage ends, after `up`', () => {
    const seen: string[] = [];
    const tracker = new OutageTracker({ down: () => seen.push('down'), up: () => seen.push('up') });
    const first = tracker.failed(new Error('a'), 'x');
    expect(tracker.failed(new Error('b'), 'y')).toBe(first);
    first.addEventListener('abort', () => seen.push('fired'));
    tracker.succeeded();
    tracker.succeeded(); // no outage: nothing to report or fire
    expect(seen).toEqual(['down', 'up', 'fired']);
    const second = tracker.failed(new Error('c'), 'z');
    expect(second).not.toBe(first);
    expect(second.aborted).toBe(false);
  });

  it('a server that answers again but refuses the token is reported again, as a refusal (not one more "unreachable")', () => {
    const seen: string[] = [];
    const tracker = new OutageTracker({ down: (error, _context, refused) => seen.push(`${refused ? 'refused' : 'down'} ${error}`), up: () => seen.push('up') });
    tracker.failed(new Error('ECONNRESET'), 'x');
    tracker.failed(new Error('ECONNREFUSED'), 'x');
    const unauthorised = Object.assign(new Error('HTTP 401 unknown token'), { status: 401 });
    tracker.failed(unauthorised, 'x');
    tracker.failed(unauthorised, 'x');
    expect(seen).toEqual(['down ECONNRESET', 'refused HTTP 401 unknown token']);
  });

  it('a wake cuts a sleep short, not before its minimum, and leaves no listener behind', async () => {
    const stop = new AbortController();
    const wake = new AbortController();
    let t0 = performance.now();
    const woken = sleep(10_000, stop.signal, { signal: wake.signal, minMs: 50 });
    expect(getEventListeners(wake.signal, 'abort')).toHaveLength(1);
    wake.abort();
    expect(await woken).toBe(false);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(1000);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);

    // Fired before the sleep began (the server came back meanwhile): only the minimum is waited.
    t0 = performance.now();
    expect(await sleep(10_000, stop.signal, { signal: wake.signal, minMs: 20 })).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);

    // The full time, and a stop, leave no listener either.
    const calm = new AbortController();
    expect(await sleep(10, stop.signal, { signal: calm.signal })).toBe(true);
    const stopped = sleep(10_000, stop.signal, { signal: calm.signal });
    stop.abort();
    expect(await stopped).toBe(false);
    expect(getEventListeners(calm.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
