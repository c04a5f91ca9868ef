import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { ErrorCodes, Type, createEngine, defineModule } from '@sisyphus/core';

/** A module that fails where told, synchronously or not, optionally after asking for its signal. */
const failing = defineModule({
  name: 'failing',
  schema: Type.Object({
    fail: Type.Optional(Type.Union([Type.Literal('validate'), Type.Literal('run')])),
    /** Throw from a promise (validate then goes through the bounded, async path). */
    async: Type.Optional(Type.Boolean()),
    /** Ask for the task's signal first (makes the task controller, which forwards the job's cancel). */
    signal: Type.Optional(Type.Boolean()),
    /** Wait in run until the signal fires. */
    wait: Type.Optional(Type.Boolean()),
  }),
  setup(ctx) {
    const maybeFail = (phase: 'validate' | 'run') => {
      if (ctx.data.signal) void ctx.signal;
      if (ctx.data.fail !== phase) return undefined;
      if (ctx.data.async) return Promise.resolve().then(() => { throw new Error(`broke in ${phase}`); });
      throw new Error(`broke in ${phase}`);
    };
    return {
      validate: () => maybeFail('validate'),
      run: () => {
        if (ctx.data.wait) return new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
        return maybeFail('run');
      },
    };
  },
});

const job = (data: Record<string, unknown>) => ({ job_title: 'leak', tasks: [{ module: 'failing', data }] });
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('the engine leaves no abort listener on a reused job signal', () => {
  it.each([
    ['no task timeout', {}],
    ['a task timeout', { taskTimeoutMs: 60_000 }],
  ])('many failing jobs on one signal (as a worker slot reuses it), then a cancel, with %s', async (_, settings) => {
    const engine = createEngine({ modules: [failing], ...settings });
    // One controller for every job, kept until it fires, as worker-slot.ts does.
    const controller = new AbortController();
    const { signal } = controller;
    const kinds: Array<[Record<string, unknown>, string]> = [
      [{ fail: 'run' }, ErrorCodes.RUN],
      [{ fail: 'run', async: true }, ErrorCodes.RUN],
      [{ fail: 'run', signal: true }, ErrorCodes.RUN],
      [{ fail: 'validate' }, ErrorCodes.VALIDATION],
      [{ fail: 'validate', async: true }, ErrorCodes.VALIDATION],
      [{ fail: 'validate', async: true, signal: true }, ErrorCodes.VALIDATION],
      [{}, ''],
    ];
    // Listeners left behind, by kind of job: none expected anywhere.
    const left: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const [data, code] = kinds[i % kinds.length]!;
      const before = listeners(signal);
      const result = await engine.run(job(data), { signal });
      expect(result.code ?? '').toBe(code);
      const added = listeners(signal) - before;
      if (added) left[JSON.stringify(data)] = (left[JSON.stringify(data)] ?? 0) + added;
    }
    expect(left).toEqual({});
    expect(listeners(signal)).toBe(0);
    await expect(engine.validate(job({ fail: 'validate', async: true }), { signal })).rejects.toThrow('broke in validate');
    await engine.validate(job({ async: true }), { signal });
    expect(listeners(signal)).toBe(0);

    // The last job on this signal is cancelled mid-run.
    const running = engine.run(job({ wait: true }), { signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(listeners(signal)).toBeGreaterThan(0);
    controller.abort(new Error('cancelled'));
    const cancelled = await running;
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.phase).toBe('run');
    expect(listeners(signal)).toBe(0);
    // A job handed an already-fired signal adds none either.
    expect((await engine.run(job({ fail: 'run', signal: true }), { signal })).cancelled).toBe(true);
    expect(listeners(signal)).toBe(0);
  });
});
