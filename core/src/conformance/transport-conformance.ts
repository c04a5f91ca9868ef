import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import type { JobResult } from '../engine/job-result.js';
import type { LeasedJob, Transport, WorkerStatus } from '../transport/transport.js';
import { TransportError } from '../transport/transport-error.js';

/**
 * The job source behind a transport under test, as the conformance suite
 * drives it: it queues jobs, reads back what the transport reported, and
 * flips attributes. Each adapter's test provides one (HTTP: a real server;
 * Redis: a real Redis).
 */
export interface TransportHarness {
  /** The transport under test, connected to this source. */
  transport: Transport;
  /** Queue a job; resolves with its id. */
  submit(job: Record<string, unknown>): Promise<string>;
  /** `queued`, `running`, `completed`, `failed` or `cancelled`; undefined when unknown. */
  state(jobId: string): Promise<string | undefined>;
  /** The completion `info` the source recorded. */
  result(jobId: string): Promise<Record<string, unknown> | undefined>;
  setQueueDisabled(disabled: boolean): Promise<void>;
  setWorkerDisabled(workerId: string, disabled: boolean): Promise<void>;
  /** Ask for a running job to be cancelled. */
  requestCancel(jobId: string): Promise<void>;
  putData(module: string, name: string, record: Record<string, unknown>): Promise<void>;
  /** Tear everything down (the suite closes the transport itself first). */
  close(): Promise<void>;
}

const job = (title: string) => ({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: ['/nonexistent'] } }] });

function result(leased: LeasedJob, workerId: string, patch: Partial<JobResult> = {}): JobResult {
  const now = new Date().toISOString();
  return {
    start_time: now, end_time: now, runtime: 0.1, worker: 'conformance-host', worker_id: workerId, version: '0.0.0',
    completed: true, job_id: leased.job_id, job_title: String(leased.job.job_title ?? ''), failed: false, cancelled: false,
    phase: 'run', tasks: [], ...patch,
  };
}

const status = (workerId: string, extra: Partial<WorkerStatus> = {}): WorkerStatus => ({
  status: 'idle', hostname: `host-${workerId}`, version: '0.0.0', online_at: 'None', ...extra,
});

/**
 * The transport contract, as tests every adapter runs (convention 9 of the
 * architecture): poll order and emptiness, the job document, completion and
 * its info, validation failures, heartbeats (and cancel through their
 * replies where the source has leases), module data, disabled queue and
 * worker, long-poll where announced, and closing.
 */
export function describeTransport(name: string, open: () => Promise<TransportHarness>): void {
  describe(`Transport conformance: ${name}`, () => {
    let h: TransportHarness;
    let signal: AbortSignal;
    let controller: AbortController;
    const W = 'conformance-worker';
    const next = (waitMs?: number) => h.transport.next(signal, { workerId: W, ...(waitMs !== undefined ? { waitMs } : {}) });

    beforeEach(async () => {
      h = await open();
      controller = new AbortController();
      signal = controller.signal;
      await h.transport.heartbeat(status(W, { status: 'startup' }), { workerId: W });
    });

    afterEach(async () => {
      controller.abort();
      await h.transport.close();
      await h.close();
    });

    it('answers nothing when the queue is empty', async () => {
      expect(await next(200)).toBeUndefined();
    });

    it('hands out jobs in submission order with their id and document', async () => {
      const a = await h.submit(job('Tom & Jerry <first>'));
      const b = await h.submit(job('second'));
      const first = await next();
      expect(first?.job_id).toBe(a);
      expect(first?.job.job_title).toBe('Tom & Jerry <first>');
      expect(first?.job.tasks).toEqual(job('x').tasks);
      expect((await next())?.job_id).toBe(b);
      expect(await next(200)).toBeUndefined();
    });

    it('records a completion with the worker info', async () => {
      await h.submit(job('done'));
      const leased = (await next())!;
      const reply = await h.transport.complete(leased, result(leased, W));
      if (reply) expect(reply.accepted).toBe(true);
      expect(await h.state(leased.job_id)).toBe('completed');
      expect(await h.result(leased.job_id)).toMatchObject({ worker_id: W, worker: 'conformance-host', completed: true });
    });

    it('hands out the next job with a completion only where announced (completeFetchesNext), as next() would', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      const a = await h.submit(job('first'));
      const b = await h.submit(job('second <b>'));
      const leased = (await next())!;
      expect(leased.job_id).toBe(a);
      const withNext = { next: { workerId: W } };
      const reply = await h.transport.complete(leased, result(leased, W), withNext);
      expect(await h.state(a)).toBe('completed');
      if (!caps.completeFetchesNext) {
        expect(reply && reply.next).toBeUndefined();
        expect(await h.state(b)).toBe('queued');
        return;
      }
      const second = reply && reply.next;
      expect(second?.job_id).toBe(b);
      expect(second?.job.job_title).toBe('second <b>');
      expect(await h.state(b)).toBe('running');
      // Leased to W like a polled job: its heartbeat keeps it, its report goes through.
      const beat = await h.transport.heartbeat(status(W, { status: 'in_progress', job_id: b }), { workerId: W });
      expect(beat && beat.cancel).toBeUndefined();
      const last = await h.transport.complete(second!, result(second!, W), withNext);
      expect(last && last.accepted).toBe(true);
      expect(last && last.next).toBeUndefined(); // the queue is empty
      expect(await h.state(b)).toBe('completed');
      // While the queue is disabled the report goes through and hands out nothing.
      const c = await h.submit(job('third'));
      const d = await h.submit(job('fourth'));
      const third = (await next())!;
      expect(third.job_id).toBe(c);
      await h.setQueueDisabled(true);
      const paused = await h.transport.complete(third, result(third, W), withNext);
      expect(paused && paused.next).toBeUndefined();
      expect(await h.state(c)).toBe('completed');
      expect(await h.state(d)).toBe('queued');
      await h.setQueueDisabled(false);
      expect((await next())?.job_id).toBe(d);
    });

    it('records a failure, including one in validation (message, no completed/module)', async () => {
      await h.submit(job('bad'));
      const leased = (await next())!;
      await h.transport.complete(leased, result(leased, W, { completed: false, failed: true, phase: 'validate', code: 'SIS_VALIDATION', message: 'delete must have at least 1 item' }));
      expect(await h.state(leased.job_id)).toBe('failed');
      const info = (await h.result(leased.job_id))!;
      expect(info.message).toBe('delete must have at least 1 item');
      expect(info).not.toHaveProperty('completed');
      expect(info).not.toHaveProperty('module');
    });

    it('heartbeats are accepted in the original shape, also while running', async () => {
      await h.submit(job('beat'));
      const leased = (await next())!;
      await h.transport.heartbeat(status(W, { status: 'in_progress', job_id: leased.job_id, job_title: 'beat', task: 'cleanup', progress: 42, info: { current_frame: 1 } }), { workerId: W });
      await h.transport.complete(leased, result(leased, W));
    });

    it('tells the worker through the heartbeat reply to abort a job cancelled while running (sources with leases)', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      if (!caps.leases) return;
      await h.submit(job('to cancel'));
      const leased = (await next())!;
      await h.requestCancel(leased.job_id);
      const reply = await h.transport.heartbeat(status(W, { status: 'in_progress', job_id: leased.job_id }), { workerId: W });
      expect(reply && reply.cancel).toEqual([leased.job_id]);
      await h.transport.complete(leased, result(leased, W, { completed: false, failed: true, cancelled: true, code: 'SIS_CANCELLED', message: 'job cancelled' }));
      expect(await h.state(leased.job_id)).toBe('cancelled');
    });

    it('pushes a cancel of a running job to onCancel listeners at once (transports that have onCancel)', async () => {
      if (!h.transport.onCancel) return;
      const heard: string[] = [];
      const off = h.transport.onCancel((jobId) => heard.push(jobId));
      try {
        await h.submit(job('pushed cancel'));
        const leased = (await next())!;
        await new Promise((r) => setTimeout(r, 100)); // listening (connected by next())
        await h.requestCancel(leased.job_id);
        for (let i = 0; i < 100 && !heard.length; i++) await new Promise((r) => setTimeout(r, 50));
        expect(heard).toEqual([leased.job_id]);
      } finally {
        off();
      }
    });

    it('reads module data, undefined when missing', async () => {
      await h.putData('ffmpeg', 'x265', { name: 'x265', options: { codec: 'libx265', 'x265-params': { 'aq-mode': 3 } } });
      expect(await h.transport.getData('ffmpeg', 'x265')).toMatchObject({ options: { codec: 'libx265', 'x265-params': { 'aq-mode': 3 } } });
      expect(await h.transport.getData('ffmpeg', 'nope')).toBeUndefined();
    });

    it('does not hand out jobs while the queue or the worker is disabled', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      const id = await h.submit(job('paused'));
      await h.setQueueDisabled(true);
      if (h.transport.queueDisabled) expect(await h.transport.queueDisabled()).toBe(true);
      if (caps.pollChecksDisabled) expect(await next(200)).toBeUndefined();
      await h.setQueueDisabled(false);
      await h.setWorkerDisabled(W, true);
      if (h.transport.workerDisabled) expect(await h.transport.workerDisabled(W)).toBe(true);
      if (caps.pollChecksDisabled) expect(await next(200)).toBeUndefined();
      await h.setWorkerDisabled(W, false);
      if (h.transport.queueDisabled) expect(await h.transport.queueDisabled()).toBe(false);
      expect((await next())?.job_id).toBe(id);
    });

    it('long-polls where announced: a waiting next() gets a job submitted after it started', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      if (!caps.longPoll) return;
      const started = Date.now();
      const waiting = next(10_000);
      await new Promise((r) => setTimeout(r, 150));
      const id = await h.submit(job('late'));
      expect((await waiting)?.job_id).toBe(id);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('after close, calls fail and are not worth retrying', async () => {
      await h.transport.close();
      const error = await next(0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).retryable).toBe(false);
    });
  });
}
