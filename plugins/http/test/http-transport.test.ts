import { describe, expect, it } from 'vitest';
import { TransportError } from '@sisyphus/core/transport';
import { type JobResult } from '@sisyphus/core';
import httpPlugin, { createHttpTransport, featuresFromConfig, httpTransportFactory } from '@sisyphus/transport-http';
import { completionBody } from '@sisyphus/core/transport';
import { FakeOriginalServer } from './fake-original-server.js';
import { onCleanup, waitFor } from './helpers.js';

async function fake(): Promise<FakeOriginalServer> {
  const server = await new FakeOriginalServer().listen();
  onCleanup(() => server.close());
  return server;
}

const baseResult: JobResult = {
  start_time: '2026-01-01T00:00:00.000Z', end_time: '2026-01-01T00:00:01.000Z', runtime: 1, worker: 'host', worker_id: 'w',
  version: '0.1.0', completed: false, job_id: 'j', job_title: 't', failed: true, cancelled: false, tasks: [],
};

describe('http transport against the original server', () => {
  it('is a plugin providing transport "http"', () => {
    expect(httpPlugin.kind).toBe('sisyphus-plugin');
    expect(httpPlugin.transports?.map((t) => t.name)).toEqual(['http']);
    expect(httpTransportFactory.create({ apiUrl: 'http://127.0.0.1:1' })).toHaveProperty('name', 'http');
    expect(() => httpTransportFactory.create({ apiUrl: 'ftp://x' })).toThrow(/apiUrl/);
  });

  it('polls plainly (no long-poll on the original), parses \\u0026 escapes, 404 is nothing', async () => {
    const server = await fake();
    const t = createHttpTransport({ apiUrl: server.url });
    expect(await t.capabilities()).toEqual({ longPoll: false, leases: false, pollChecksDisabled: false, completeFetchesNext: false, children: false });
    const id = server.submit({ job_title: 'Tom & Jerry <3>', tasks: [] });
    const job = await t.next(new AbortController().signal, { workerId: 'w1', waitMs: 5000 });
    expect(job).toEqual({ job_id: id, job: expect.objectContaining({ job_id: id, job_title: 'Tom & Jerry <3>' }) });
    expect(await t.next(new AbortController().signal, { workerId: 'w1' })).toBeUndefined();
    // The original takes no parameters on poll.
    expect(server.seen('GET', '/queue/poll').map((r) => r.path)).toEqual(['/queue/poll', '/queue/poll']);
    expect(server.seen('GET', '/status/config')).toHaveLength(1);
  });

  it('long-polls with wait and worker_id when the server announces it', async () => {
    const server = await fake();
    server.features = { long_poll: true, leases: true };
    const t = createHttpTransport({ apiUrl: server.url });
    expect(await t.capabilities()).toEqual({ longPoll: true, leases: true, pollChecksDisabled: false, completeFetchesNext: false, children: false });
    const started = Date.now();
    const polling = t.next(new AbortController().signal, { workerId: 'w1', waitMs: 5000 });
    await waitFor('poll waiting', () => server.seen('GET', '/queue/poll').length === 1);
    const id = server.submit({ job_title: 'quick', tasks: [] });
    expect((await polling)?.job_id).toBe(id);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(server.seen('GET', '/queue/poll')[0]!.path).toBe('/queue/poll?wait=5&worker_id=w1');
    // Forced off: plain poll even on our server.
    const plain = createHttpTransport({ apiUrl: server.url, longPoll: false });
    expect(await plain.next(new AbortController().signal, { workerId: 'w1', waitMs: 5000 })).toBeUndefined();
    expect(server.seen('GET', '/queue/poll')[1]!.path).toBe('/queue/poll?worker_id=w1');
  });

  it('reads queue and worker attributes, data records, and sends heartbeats', async () => {
    const server = await fake();
    const t = createHttpTransport({ apiUrl: `${server.url}/`, token: 'secret' });
    expect(await t.queueDisabled()).toBe(false);
    server.queueDisabled = true;
    expect(await t.queueDisabled()).toBe(true);
    expect(await t.workerDisabled('w 1')).toBe(false);
    server.workerAttributes.set('w 1', { disabled: true });
    expect(await t.workerDisabled('w 1')).toBe(true);
    server.data.set('ffmpeg/x265', { name: 'x265', options: { crf: 19 } });
    expect(await t.getData('ffmpeg', 'x265')).toEqual({ name: 'x265', options: { crf: 19 } });
    expect(await t.getData('ffmpeg', 'nope')).toBeUndefined();
    const reply = await t.heartbeat({ status: 'idle', hostname: 'h', version: '0.1.0', online_at: 'None' }, { workerId: 'w 1' });
    expect(reply).toBeUndefined(); // the original's reply carries nothing for us
    expect(server.heartbeats('w%201')[0]!.body).toEqual({ status: 'idle', hostname: 'h', version: '0.1.0', online_at: 'None' });
    server.heartbeatExtra = () => ({ cancel: ['job-1', 7] });
    expect(await t.heartbeat({ status: 'idle', hostname: 'h', version: '0.1.0', online_at: 'x' }, { workerId: 'w1' })).toEqual({ cancel: ['job-1'] });
  });

  it('completes with {failed, info}; 409 is a refusal; 5xx and network errors throw retryable errors', async () => {
    const server = await fake();
    const t = createHttpTransport({ apiUrl: server.url });
    const job = { job_id: 'a&b', job: {} };
    expect(await t.complete(job, { ...baseResult, completed: true, failed: false })).toEqual({ accepted: true });
    expect(server.completions()[0]!.path).toBe('/jobs/a%26b/completed');
    server.completeStatus = 409;
    expect(await t.complete(job, baseResult)).toMatchObject({ accepted: false, reason: expect.stringContaining('409') });
    server.completeStatus = 503;
    const e5 = await t.complete(job, baseResult).catch((e: unknown) => e);
    expect(e5).toBeInstanceOf(TransportError);
    expect(e5).toMatchObject({ retryable: true, status: 503 });
    server.completeStatus = 400;
    expect(await t.complete(job, baseResult).catch((e: unknown) => e)).toMatchObject({ retryable: false, status: 400 });
    server.down = true;
    expect(await t.complete(job, baseResult).catch((e: unknown) => e)).toMatchObject({ name: 'TransportError', retryable: true });
    await t.close();
    expect(await t.getData('a', 'b').catch((e: unknown) => e)).toMatchObject({ retryable: false });
  });

  it('a closed port is a retryable error, not a crash', async () => {
    const t = createHttpTransport({ apiUrl: 'http://127.0.0.1:9', requestTimeoutMs: 2000 });
    const error = await t.next(new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).retryable).toBe(true);
  });

  it('builds the original completion shapes', () => {
    const done = completionBody({ ...baseResult, completed: true, failed: false });
    expect(done).toMatchObject({ failed: false, info: { completed: true, start_time: baseResult.start_time, runtime: 1, worker: 'host', worker_id: 'w', version: '0.1.0' } });
    const validation = completionBody({ ...baseResult, phase: 'validate', module: 'ffmpeg', message: 'bad', code: 'SIS_VALIDATION' });
    expect(validation.failed).toBe(true);
    expect(validation.info).toMatchObject({ message: 'bad', code: 'SIS_VALIDATION', phase: 'validate' });
    expect(validation.info).not.toHaveProperty('completed');
    expect(validation.info).not.toHaveProperty('module');
    const unparsable = completionBody({ ...baseResult, message: 'job invalid', code: 'SIS_JOB_INVALID' });
    expect(unparsable.info).not.toHaveProperty('completed');
    const runFailure = completionBody({ ...baseResult, phase: 'run', module: 'ffmpeg', message: 'exit 1' });
    expect(runFailure).toMatchObject({ failed: true, info: { completed: false, module: 'ffmpeg', message: 'exit 1' } });
  });

  it('detects our server features', () => {
    expect(featuresFromConfig({ version: '1', features: { long_poll: true, leases: true } })).toEqual({ longPoll: true, leases: true, pollChecksDisabled: false, completeFetchesNext: false, children: false });
    expect(featuresFromConfig({ version: '1.5.9', uptime: '3 hours' })).toEqual({ longPoll: false, leases: false, pollChecksDisabled: false, completeFetchesNext: false, children: false });
    expect(featuresFromConfig({ features: { long_poll: true, complete_next: true } }).completeFetchesNext).toBe(true);
    expect(featuresFromConfig({ features: { children: true } }).children).toBe(true);
  });
});
