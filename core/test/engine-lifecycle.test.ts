import { beforeEach, describe, expect, it } from 'vitest';
import { createEngine, ErrorCodes, type TaskPhaseEvent } from '@sisyphus/core';
import { calls, probeModule } from './probe-module.js';

const job = (...tasks: Array<Record<string, unknown>>) => ({
  job_title: 'lifecycle',
  tasks: tasks.map((data) => ({ module: 'probe', data })),
});

describe('engine lifecycle', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it('inits all, validates all, then runs and cleans up each task in order', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const phases: TaskPhaseEvent[] = [];
    engine.on('task:phase', (e) => phases.push(e));
    const result = await engine.run(job({ name: 'a' }, { name: 'b' }, { name: 'c' }));
    expect(calls).toEqual([
      'a:init', 'b:init', 'c:init',
      'a:validate', 'b:validate', 'c:validate',
      'a:run', 'a:cleanup', 'b:run', 'b:cleanup', 'c:run', 'c:cleanup',
    ]);
    expect(result.completed).toBe(true);
    expect(result.failed).toBe(false);
    expect(result.tasks.map((t) => t.status)).toEqual(['done', 'done', 'done']);
    expect(Object.keys(result.tasks[0]!.durations).sort()).toEqual(['cleanup', 'init', 'run', 'validate']);
    expect(phases.filter((p) => p.status === 'end')).toHaveLength(12);
    for (const key of ['start_time', 'end_time', 'runtime', 'worker', 'worker_id', 'version', 'completed']) {
      expect(result).toHaveProperty(key);
    }
  });

  it.each([
    ['init', ['a:init', 'b:init'], ErrorCodes.INIT],
    ['validate', ['a:init', 'b:init', 'c:init', 'a:validate', 'b:validate'], ErrorCodes.VALIDATION],
  ] as const)('a failure in %s stops the job before any task runs', async (phase, expected, code) => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run(job({ name: 'a' }, { name: 'b', fail: phase, plain: true }, { name: 'c' }));
    expect(calls).toEqual(expected);
    expect(result.failed).toBe(true);
    expect(result.completed).toBe(false);
    expect(result.code).toBe(code);
    expect(result.phase).toBe(phase);
    expect(result.module).toBe('probe');
    expect(result.task_index).toBe(1);
    expect(result.message).toBe(`b broke in ${phase}`);
    expect(result.tasks.map((t) => t.status)).toEqual(['skipped', 'failed', 'skipped']);
  });

  it('a failure in run still runs that task\'s cleanup, which learns it failed; later tasks never run', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run(job({ name: 'a' }, { name: 'b', fail: 'run' }, { name: 'c' }));
    expect(calls.slice(6)).toEqual(['a:run', 'a:cleanup', 'b:run', 'b:cleanup:failed']);
    expect(calls).not.toContain('c:run');
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.phase).toBe('run');
    expect(result.tasks.map((t) => t.status)).toEqual(['done', 'failed', 'skipped']);
  });

  it('a failure in cleanup fails the job with a CleanupError and stops later tasks', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run(job({ name: 'a', fail: 'cleanup', plain: true }, { name: 'b' }));
    expect(calls.slice(4)).toEqual(['a:run', 'a:cleanup']);
    expect(result.code).toBe(ErrorCodes.CLEANUP);
    expect(result.phase).toBe('cleanup');
    expect(result.tasks[1]!.status).toBe('skipped');
  });

  it('when run and cleanup both fail, the run error is reported and the cleanup error kept', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const m = probeModule;
    const failingBoth: typeof m = { ...m, setup: (ctx) => {
      const h = m.setup(ctx);
      return { ...h, run: () => { throw new Error('run broke'); }, cleanup: () => { throw new Error('cleanup broke'); } };
    } };
    const engine2 = createEngine({ modules: [failingBoth] });
    const result = await engine2.run(job({ name: 'x' }));
    expect(result.code).toBe(ErrorCodes.RUN);
    expect(result.message).toBe('run broke');
    expect(result.tasks[0]!.cleanupError).toMatchObject({ code: ErrorCodes.CLEANUP, message: 'cleanup broke' });
    void engine;
  });

  it('validates every task before running any: a bad third task means the first never starts', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run(job({ name: 'a' }, { name: 'b' }, { name: 'c', bogus: true }));
    expect(calls).not.toContain('a:run');
    expect(result.code).toBe(ErrorCodes.VALIDATION);
    expect(result.task_index).toBe(2);
    expect(result.message).toBe('bogus is not an allowed field');
  });

  it('a job naming an unavailable module fails validation naming it and listing the available ones', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run({ job_title: 'x', tasks: [{ module: 'probe', data: { name: 'a' } }, { module: 'ffmpegg', data: {} }] });
    expect(calls).toEqual([]);
    expect(result.code).toBe(ErrorCodes.MODULE_NOT_FOUND);
    expect(result.message).toBe('module "ffmpegg" is not available (available: probe)');
    expect(result.task_index).toBe(1);
  });

  it('reports a malformed job as a failed result, not a throw', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run({ job_name: 'x', tasks: [] });
    expect(result.failed).toBe(true);
    expect(result.code).toBe(ErrorCodes.JOB_INVALID);
    expect(result.message).toContain('tasks must have at least 1 item');
  });

  it('emits progress and log events tagged with the task', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const progress: unknown[] = [];
    engine.on('progress', (p) => progress.push(p));
    await engine.run(job({ name: 'a' }));
    expect(progress).toEqual([expect.objectContaining({ index: 0, module: 'probe', percent: 50, fps: 10 })]);
  });

  it('cancels through the AbortSignal: run stops, cleanup runs and knows, result says cancelled', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const controller = new AbortController();
    engine.on('task:phase', (e) => {
      if (e.phase === 'run' && e.status === 'start') setTimeout(() => controller.abort(), 50);
    });
    const result = await engine.run(job({ name: 'a', sleepMs: 20_000 }, { name: 'b' }), { signal: controller.signal });
    expect(result.cancelled).toBe(true);
    expect(result.code).toBe(ErrorCodes.CANCELLED);
    expect(calls).toContain('a:cleanup:failed:cancelled');
    expect(calls).not.toContain('b:run');
    expect(result.tasks.map((t) => t.status)).toEqual(['cancelled', 'skipped']);
  });

  it('a cancel also ends a task that never looks at its signal (no timeout set)', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const controller = new AbortController();
    engine.on('task:phase', (e) => {
      if (e.phase === 'run' && e.status === 'start') setTimeout(() => controller.abort(), 50);
    });
    const started = Date.now();
    const result = await engine.run(job({ name: 'a', sleepMs: 20_000, ignoreSignal: true }), { signal: controller.signal });
    expect(result.cancelled).toBe(true);
    expect(result.tasks.map((t) => t.status)).toEqual(['cancelled']);
    expect(calls).toContain('a:cleanup:failed:cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a per-task timeout stops a module that ignores its signal', async () => {
    const engine = createEngine({ modules: [probeModule], taskTimeoutMs: 100 });
    const started = Date.now();
    const result = await engine.run(job({ name: 'a', sleepMs: 1500, ignoreSignal: true }));
    expect(result.code).toBe(ErrorCodes.TIMEOUT);
    expect(result.cancelled).toBe(false);
    expect(result.failed).toBe(true);
    expect(result.message).toBe('task timed out after 0.1 s');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a job already cancelled before it starts runs nothing', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const result = await engine.run(job({ name: 'a' }), { signal: AbortSignal.abort() });
    expect(result.cancelled).toBe(true);
    expect(calls).not.toContain('a:run');
  });

  it('renders variables itself and never runs an unfilled placeholder as a literal', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const raw = { job_title: '{{ t }}', tasks: [{ module: 'probe', data: { name: '{{ n }}' } }] };
    const bad = await engine.run(raw);
    expect(bad.code).toBe(ErrorCodes.TEMPLATE);
    expect(bad.message).toBe('unfilled placeholder {{ t }} at job_title; unfilled placeholder {{ n }} at tasks[0].data.name');
    expect(calls).toEqual([]);
    const good = await engine.run(raw, { variables: { t: 'T {{ n }}', n: 'a' } });
    expect(good.completed).toBe(true);
    expect(good.job_title).toBe('T {{ n }}');
    expect(calls).toContain('a:run');
  });

  it('a cancel that makes init or validate fail is reported as a cancel', async () => {
    const { defineModule, Type } = await import('@sisyphus/core');
    const controller = new AbortController();
    const slowValidate = defineModule({
      name: 'slow', schema: Type.Object({}),
      setup: (ctx) => ({
        validate: () => new Promise((_, reject) => {
          setTimeout(() => controller.abort(), 20);
          ctx.signal.addEventListener('abort', () => reject(new Error('ffprobe was killed')));
        }),
        run() {},
      }),
    });
    const result = await createEngine({ modules: [slowValidate] }).run({ job_title: 'c', tasks: [{ module: 'slow', data: {} }] }, { signal: controller.signal });
    expect(result.cancelled).toBe(true);
    expect(result.code).toBe(ErrorCodes.CANCELLED);
    expect(result.phase).toBe('validate');
  });

  it('validate() inits and validates without running and returns the plan', async () => {
    const engine = createEngine({ modules: [probeModule] });
    const plan = await engine.validate(job({ name: 'a' }, { name: 'b' }));
    expect(plan.tasks.map((t) => t.module)).toEqual(['probe', 'probe']);
    expect(calls).toEqual(['a:init', 'b:init', 'a:validate', 'b:validate']);
    await expect(engine.validate(job({ name: 'a', fail: 'validate' }))).rejects.toMatchObject({ code: ErrorCodes.RUN, phase: 'validate' });
  });
});
