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

    // ---- fan-out: a completion that waits for children (sources with leases: ours) ----

    /** Report `leased` as waiting for `titles` as children (each a cleanup job), keeping `kept`. */
    const waitFor = (leased: LeasedJob, titles: string[], kept: unknown, extra: Record<string, unknown> = {}) =>
      h.transport.complete(
        leased,
        result(leased, W, {
          completed: false,
          tasks: [{ index: 0, module: 'cleanup', status: 'pending', durations: { run: 1 }, waiting: true }],
          waiting_children: { task_index: 0, state: kept, children: titles.map((t) => job(t)), ...extra } as JobResult['waiting_children'],
        }),
      );

    it('fan-out: a report that waits queues the children; the job resumes with their results once all completed', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      if (!caps.leases) return;
      const parentId = await h.submit(job('parent'));
      const parent = (await next())!;
      expect(parent.job_id).toBe(parentId);
      const reply = await waitFor(parent, ['child 1', 'child 2', 'child 3'], { plan: [1, 2, 3], note: 'kept as given' });
      expect(reply === undefined || reply.accepted).toBe(true);
      expect(await h.state(parentId)).toBe('waiting-children');
      const children: LeasedJob[] = [];
      for (let i = 0; i < 3; i++) children.push((await next())!);
      expect(children.map((c) => c.job.job_title)).toEqual(['child 1', 'child 2', 'child 3']);
      expect(children.every((c) => !('resume' in c.job))).toBe(true);
      expect(await next(100)).toBeUndefined(); // the parent holds no place while it waits
      for (const [i, child] of children.entries()) {
        await h.transport.complete(child, result(child, W, { tasks: [{ index: 0, module: 'cleanup', status: 'done', durations: {}, returnvalue: { part: i } }] }));
      }
      const resumed = (await next())!;
      expect(resumed.job_id).toBe(parentId);
      const resume = resumed.job.resume as Record<string, unknown>;
      expect(resume).toMatchObject({ task_index: 0, round: 1, state: { plan: [1, 2, 3], note: 'kept as given' }, tasks: [] });
      const kids = resume.children as Array<Record<string, unknown>>;
      expect(kids.map((k) => [k.job_id, k.job_title, k.state])).toEqual(children.map((c) => [c.job_id, c.job.job_title, 'completed']));
      expect(kids.map((k) => ((k.result as JobResult).tasks[0]!.returnvalue as { part: number }).part)).toEqual([0, 1, 2]);
      await h.transport.complete(resumed, result(resumed, W));
      expect(await h.state(parentId)).toBe('completed');
    });

    it('fan-out: a child that fails fails the parent with its reason; cancelling a waiting parent cancels its children', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      if (!caps.leases) return;
      const failing = await h.submit(job('parent that fails'));
      await waitFor((await next())!, ['doomed', 'sibling'], null);
      const doomed = (await next())!;
      await h.transport.complete(doomed, result(doomed, W, { completed: false, failed: true, message: 'ffmpeg exited with 1' }));
      expect(await h.state(failing)).toBe('failed');
      expect(await h.state(doomed.job_id)).toBe('failed');
      expect(await next(100)).toBeUndefined(); // the sibling was cancelled with its parent

      const cancelled = await h.submit(job('parent to cancel'));
      await waitFor((await next())!, ['running child', 'queued child'], null);
      const running = (await next())!;
      await h.requestCancel(cancelled);
      expect(await h.state(cancelled)).toBe('cancelled');
      const beat = await h.transport.heartbeat(status(W, { status: 'in_progress', job_id: running.job_id }), { workerId: W });
      expect(beat && beat.cancel).toEqual([running.job_id]);
      expect(await next(100)).toBeUndefined();
      await h.transport.complete(running, result(running, W, { completed: false, failed: true, cancelled: true, code: 'SIS_CANCELLED', message: 'job cancelled' }));
      expect(await h.state(running.job_id)).toBe('cancelled');
    });

    it('fan-out: a report that waits is refused as a bad request when a child is not a job document', async () => {
      const caps = (await h.transport.capabilities?.()) ?? {};
      if (!caps.leases) return;
      const id = await h.submit(job('bad children'));
      const leased = (await next())!;
      const error = await h.transport
        .complete(leased, result(leased, W, { completed: false, waiting_children: { task_index: 0, children: [{ job_title: 'no tasks' }] } as unknown as JobResult['waiting_children'] }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).retryable).toBe(false);
      expect((error as Error).message).toMatch(/waiting_children\.children\[0\]/);
      expect(await h.state(id)).toBe('running');
    });

    it('after close, calls fail and are not worth retrying', async () => {
      await h.transport.close();
      const error = await next(0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).retryable).toBe(false);
    });
  });
}
