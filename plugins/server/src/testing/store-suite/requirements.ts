import { describe, expect, it } from 'vitest';
import type { JobRequirements, NewJob, StoredJob } from '../../store/queue-store.js';
import { LEASE, T0, MAX_ATTEMPTS, type StoreFixture } from './store-fixture.js';

const FFMPEG: JobRequirements = { all: ['binary:ffmpeg', 'module:ffmpeg'], explicit: false };
const NVENC: JobRequirements = { all: ['binary:ffmpeg', 'encoder:hevc_nvenc', 'module:ffmpeg', 'tag:gpu'], explicit: true };
const MKV: JobRequirements = { all: ['binary:mkvmerge', 'module:mkvmerge'], explicit: false };

/** A CPU worker with ffmpeg and mkvmerge, and a GPU worker with ffmpeg and NVENC only. */
const CPU = ['binary:ffmpeg', 'binary:mkvmerge', 'encoder:libx264', 'module:ffmpeg', 'module:mkvmerge'];
const GPU = ['binary:ffmpeg', 'encoder:hevc_nvenc', 'encoder:libx264', 'module:ffmpeg', 'tag:gpu'];

/** Capability routing: a job is handed only to a worker that has all it requires (`canRun`), and a job nobody polling can run blocks nothing. */
export function describeRequirements(fixture: StoreFixture, options: { persistence: boolean }): void {
  const { store, newJob, queuedIds, getJob } = fixture;
  const job = (requires: JobRequirements | undefined, priority = 0): NewJob => ({ ...newJob(priority), ...(requires ? { requires } : {}) });
  const leaseAs = async (workerId: string, capabilities: readonly string[] | undefined): Promise<string[]> => {
    const ids: string[] = [];
    for (;;) {
      const leased = await store.lease(workerId, LEASE, T0, capabilities ? { capabilities } : {});
      if (!leased) return ids;
      ids.push(leased.job_id);
    }
  };

  describe('capability routing (requirements)', () => {
    it('keeps a job\'s requirements: submit, get, list, lease', async () => {
      const submitted = await store.submit(job(NVENC));
      expect(submitted.requires).toEqual(NVENC);
      expect((await getJob(submitted.job_id)).requires).toEqual(NVENC);
      const listed = await store.list({ state: 'queued', limit: 10 });
      expect(listed.jobs[0]!.requires).toEqual(NVENC);
      const leased = await store.lease('gpu', LEASE, T0, { capabilities: GPU });
      expect(leased).toMatchObject({ job_id: submitted.job_id, requires: NVENC });
      const plain = await store.submit(job(undefined));
      expect((await getJob(plain.job_id)).requires).toBeUndefined();
    });

    it('passes over a job the worker cannot run, which keeps its place for one that can', async () => {
      const gpuJob = await store.submit(job(NVENC, 5));
      const cpuJob1 = await store.submit(job(FFMPEG));
      const mkvJob = await store.submit(job(MKV));
      const cpuJob2 = await store.submit(job(FFMPEG));
      expect(await leaseAs('cpu', CPU)).toEqual([cpuJob1.job_id, mkvJob.job_id, cpuJob2.job_id]);
      expect(await queuedIds()).toEqual([gpuJob.job_id]);
      expect((await getJob(gpuJob.job_id)).state).toBe('queued');
      expect(await leaseAs('gpu', GPU)).toEqual([gpuJob.job_id]);
    });

    it('hands out, among the jobs a worker can run, by priority then FIFO across different requirements', async () => {
      const a = await store.submit(job(FFMPEG, 0));
      const b = await store.submit(job(MKV, 3));
      const c = await store.submit(job(undefined, 3));
      const d = await store.submit(job(NVENC, 9));
      const e = await store.submit(job(FFMPEG, 3));
      const f = await store.submit(job(MKV, 0));
      expect(await leaseAs('cpu', CPU)).toEqual([b.job_id, c.job_id, e.job_id, a.job_id, f.job_id]);
      expect(await queuedIds()).toEqual([d.job_id]);
    });

    it('gives a worker that advertises nothing (the original worker, an anonymous poll) only jobs without explicit requirements', async () => {
      const derived = await store.submit(job(FFMPEG));
      const explicit = await store.submit(job(NVENC));
      const plain = await store.submit(job(undefined));
      expect(await leaseAs('legacy', undefined)).toEqual([derived.job_id, plain.job_id]);
      const anonymous = await store.lease('', LEASE, T0);
      expect(anonymous).toBeUndefined();
      expect(await queuedIds()).toEqual([explicit.job_id]);
    });

    it('hands a job with requirements to nobody without every one of them', async () => {
      await store.submit(job(NVENC));
      const almost = GPU.filter((c) => c !== 'tag:gpu');
      expect(await store.lease('w', LEASE, T0, { capabilities: almost })).toBeUndefined();
      expect(await store.lease('w', LEASE, T0, { capabilities: [] })).toBeUndefined();
      expect(await store.lease('w', LEASE, T0, { capabilities: [...GPU, 'tag:extra'] })).toBeDefined();
    });

    it('passes over any number of jobs nobody polling can run', async () => {
      const blocked = await Promise.all(Array.from({ length: 300 }, () => store.submit(job(NVENC, 7))));
      const runnable = await store.submit(job(FFMPEG, 0));
      const leased = await store.lease('cpu', LEASE, T0, { capabilities: CPU });
      expect(leased?.job_id).toBe(runnable.job_id);
      expect(await store.queueLength()).toBe(blocked.length);
      expect((await store.lease('gpu', LEASE, T0, { capabilities: GPU }))?.job_id).toBe(blocked[0]!.job_id);
    });

    it('poll and finishAndPoll apply the worker\'s capabilities too', async () => {
      const gpuJob = await store.submit(job(NVENC, 5));
      const cpu1 = await store.submit(job(FFMPEG));
      const cpu2 = await store.submit(job(FFMPEG));
      const polled = await store.poll('cpu', LEASE, T0, { capabilities: CPU });
      expect(polled.job?.job_id).toBe(cpu1.job_id);
      const next = await store.finishAndPoll(cpu1.job_id, 'cpu', { state: 'completed', result: {} }, T0 + 1, LEASE, { capabilities: CPU });
      expect(next.result).toBe('ok');
      expect(next.job?.job_id).toBe(cpu2.job_id);
      const last = await store.finishAndPoll(cpu2.job_id, 'cpu', { state: 'completed', result: {} }, T0 + 2, LEASE, { capabilities: CPU });
      expect(last.result).toBe('ok');
      expect(last.job).toBeUndefined();
      expect(await queuedIds()).toEqual([gpuJob.job_id]);
      await store.setWorkerAttributes('gpu', { disabled: true });
      expect((await store.poll('gpu', LEASE, T0, { capabilities: GPU })).blocked).toBe('worker');
    });

    it('requeues an expired job with its requirements, at the head of its priority, for workers that can run it', async () => {
      const first = await store.submit(job(NVENC));
      const second = await store.submit(job(NVENC));
      await store.submit(job(MKV));
      expect((await store.lease('gpu', LEASE, T0, { capabilities: GPU }))?.job_id).toBe(first.job_id);
      const { requeued } = await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS);
      expect(requeued).toEqual([first.job_id]);
      expect((await getJob(first.job_id)).requires).toEqual(NVENC);
      expect(await leaseAs('gpu', GPU)).toEqual([first.job_id, second.job_id]);
    });

    it('puts a job back at the head of its priority ahead of older jobs of other requirement sets', async () => {
      const older = await store.submit(job(MKV));
      const putBack = await store.submit(job(FFMPEG));
      const newer = await store.submit(job(MKV));
      expect((await store.lease('ffmpeg-only', LEASE, T0, { capabilities: ['binary:ffmpeg', 'module:ffmpeg'] }))?.job_id).toBe(putBack.job_id);
      expect((await store.expireLeases(T0 + LEASE + 1, MAX_ATTEMPTS)).requeued).toEqual([putBack.job_id]);
      expect(await leaseAs('cpu', CPU)).toEqual([putBack.job_id, older.job_id, newer.job_id]);
    });

    it('finishAndPoll hands out the best job the worker can run, whatever requirement set the finished job had', async () => {
      const a = await store.submit(job(FFMPEG));
      const b = await store.submit(job(MKV));
      const c = await store.submit(job(FFMPEG));
      expect((await store.lease('cpu', LEASE, T0, { capabilities: CPU }))?.job_id).toBe(a.job_id);
      const afterA = await store.finishAndPoll(a.job_id, 'cpu', { state: 'completed', result: {} }, T0 + 1, LEASE, { capabilities: CPU });
      expect(afterA.job?.job_id).toBe(b.job_id);
      const afterB = await store.finishAndPoll(b.job_id, 'cpu', { state: 'completed', result: {} }, T0 + 2, LEASE, { capabilities: CPU });
      expect(afterB.job?.job_id).toBe(c.job_id);
    });

    it('hands each job once to concurrent workers of both kinds', async () => {
      const gpuIds = (await Promise.all(Array.from({ length: 10 }, () => store.submit(job(NVENC))))).map((j) => j.job_id);
      const cpuIds = (await Promise.all(Array.from({ length: 10 }, () => store.submit(job(MKV))))).map((j) => j.job_id);
      const leased = await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.lease(`w${i}`, LEASE, T0, { capabilities: i % 2 ? GPU : CPU })),
      );
      const got = leased.map((j, i) => ({ j, gpu: i % 2 === 1 })).filter((x): x is { j: StoredJob; gpu: boolean } => x.j !== undefined);
      expect(got).toHaveLength(20);
      expect(new Set(got.map((x) => x.j.job_id)).size).toBe(20);
      for (const { j, gpu } of got) expect(gpu ? gpuIds : cpuIds).toContain(j.job_id);
    });

    it('applies requirements to children (and keeps them through a reopen)', async () => {
      const parent = await store.submit(job(FFMPEG));
      await store.lease('cpu', LEASE, T0, { capabilities: CPU });
      const child = { ...newJob(0), requires: NVENC };
      expect(await store.waitForChildren(parent.job_id, 'cpu', { result: {}, task_index: 0, children: [child] }, T0 + 1)).toBe('ok');
      expect(await store.lease('cpu', LEASE, T0 + 2, { capabilities: CPU })).toBeUndefined();
      if (options.persistence) await fixture.reopen();
      expect((await getJob(child.job_id)).requires).toEqual(NVENC);
      expect((await store.lease('gpu', LEASE, T0 + 3, { capabilities: GPU }))?.job_id).toBe(child.job_id);
    });
  });
}
