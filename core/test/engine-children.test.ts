import { describe, expect, it } from 'vitest';
import { ErrorCodes, Type, createEngine, defineModule, takeResume, type JobResult } from '@sisyphus/core';

// Fan-out in the engine: ctx.children.wait ends a run without failing it;
// locally (inline) the engine runs the children and resumes; a worker
// (defer) gets waiting_children in the result and resumes from `resume`.
const calls: string[] = [];

const parts = defineModule({
  name: 'parts',
  schema: Type.Object({ n: Type.Integer(), fail_at: Type.Optional(Type.Integer()), rounds: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
  setup: (ctx) => ({
    run() {
      const done = ctx.children.resumed;
      calls.push(done ? `parts resumed round ${done.round}` : 'parts first');
      if (!done || done.round < (ctx.data.rounds ?? 1)) {
        ctx.children.wait(
          Array.from({ length: ctx.data.n }, (_, i) => ({
            job_title: `part ${i}`,
            weight: i + 1,
            tasks: [{ module: 'square', data: { n: i, ...(ctx.data.fail_at === i ? { fail: true } : {}) } }],
          })),
          { state: { asked: ctx.data.n, round: (done?.round ?? 0) + 1 }, finally: { job_title: 'tidy', tasks: [{ module: 'square', data: { n: -1 } }] } },
        );
      }
      return { total: done.children.reduce((s, c) => s + (c.returnvalue as { square: number }).square, 0), state: done.state };
    },
  }),
});

const square = defineModule({
  name: 'square',
  schema: Type.Object({ n: Type.Integer(), fail: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  setup: (ctx) => ({
    run() {
      calls.push(`square ${ctx.data.n}`);
      if (ctx.data.fail) throw new Error(`square ${ctx.data.n} failed on purpose`);
      return { square: ctx.data.n * ctx.data.n };
    },
  }),
});

const before = defineModule({
  name: 'before',
  schema: Type.Object({}),
  setup: () => ({
    run() {
      calls.push('before');
      return { from: 'before' };
    },
  }),
});

const nested = defineModule({
  name: 'nested',
  schema: Type.Object({}),
  setup: (ctx) => ({
    run() {
      ctx.children.wait([{ job_title: 'grandchild', tasks: [{ module: 'square', data: { n: 1 } }] }]);
    },
  }),
});

const engine = () => createEngine({ modules: [parts, square, before, nested] });
const job = (data: Record<string, unknown>, extra: Array<{ module: string; data: Record<string, unknown> }> = []) => ({
  job_title: 'fan',
  tasks: [{ module: 'before', data: {} }, { module: 'parts', data }, ...extra],
});

describe('engine: child jobs (fan-out)', () => {
  it('locally runs the children one after the other, then resumes the task with their returnvalues (earlier tasks do not run again)', async () => {
    calls.length = 0;
    const result = await engine().run(job({ n: 4 }));
    expect(result.completed).toBe(true);
    expect(calls).toEqual(['before', 'parts first', 'square 0', 'square 1', 'square 2', 'square 3', 'parts resumed round 1']);
    expect(result.tasks.map((t) => t.status)).toEqual(['done', 'done']);
    expect(result.tasks[0]!.returnvalue).toEqual({ from: 'before' });
    expect(result.tasks[1]!.returnvalue).toEqual({ total: 0 + 1 + 4 + 9, state: { asked: 4, round: 1 } });
    expect(result.waiting_children).toBeUndefined();
  });

  it('waits again after a resume (round 2) when the task asks', async () => {
    calls.length = 0;
    const result = await engine().run(job({ n: 2, rounds: 2 }));
    expect(result.completed).toBe(true);
    expect(calls.filter((c) => c.startsWith('parts'))).toEqual(['parts first', 'parts resumed round 1', 'parts resumed round 2']);
    expect(result.tasks[1]!.returnvalue).toEqual({ total: 1, state: { asked: 2, round: 2 } });
  });

  it('locally, a failed child fails the job with its reason and runs the finally job', async () => {
    calls.length = 0;
    const result = await engine().run(job({ n: 3, fail_at: 1 }, [{ module: 'square', data: { n: 9 } }]));
    expect(result.completed).toBe(false);
    expect(result.failed).toBe(true);
    expect(result.task_index).toBe(1);
    expect(result.message).toMatch(/^child \S+-1-2 \(part 1\) failed: square 1 failed on purpose$/);
    expect(result.tasks.map((t) => t.status)).toEqual(['done', 'failed', 'skipped']);
    expect(calls).toEqual(['before', 'parts first', 'square 0', 'square 1', 'square -1']); // part 2 never ran; the finally job did
  });

  it('on a worker (defer) ends the run with waiting_children, and resumes from `resume` without running earlier tasks', async () => {
    calls.length = 0;
    const e = engine();
    const first = await e.run(job({ n: 2 }), { children: 'defer', jobId: 'J' });
    expect(first).toMatchObject({ completed: false, failed: false, cancelled: false });
    expect(first.waiting_children).toMatchObject({ task_index: 1, state: { asked: 2, round: 1 }, finally: { job_title: 'tidy' } });
    expect(first.waiting_children!.children.map((c) => [c.job_title, c.weight])).toEqual([['part 0', 1], ['part 1', 2]]);
    expect(first.tasks.map((t) => [t.status, t.waiting])).toEqual([['done', undefined], ['pending', true]]);
    expect(calls).toEqual(['before', 'parts first']);
    // The server's document: resume is taken out of it, and the job parses again.
    const child = (n: number): JobResult => ({ ...first, job_id: `c${n}`, completed: true, tasks: [{ index: 0, module: 'square', status: 'done', durations: {}, returnvalue: { square: n * n } }] });
    const doc: Record<string, unknown> = {
      ...job({ n: 2 }),
      job_id: 'J',
      resume: {
        task_index: 1, round: 1, state: first.waiting_children!.state, tasks: first.tasks.slice(0, 1),
        children: [0, 1].map((n) => ({ job_id: `c${n}`, job_title: `part ${n}`, state: 'completed', result: child(n) })),
      },
    };
    const resume = takeResume(doc)!;
    expect('resume' in doc).toBe(false);
    calls.length = 0;
    const resumed = await e.run(doc as never, { children: 'defer', resume });
    expect(calls).toEqual(['parts resumed round 1']);
    expect(resumed.completed).toBe(true);
    expect(resumed.tasks.map((t) => t.status)).toEqual(['done', 'done']);
    expect(resumed.tasks[0]!.returnvalue).toEqual({ from: 'before' });
    expect(resumed.tasks[1]!.returnvalue).toEqual({ total: 1, state: { asked: 2, round: 1 } });
  });

  it('refuses a malformed resume with a line naming the member', () => {
    expect(() => takeResume({ resume: { task_index: -1 } })).toThrow(/resume\.task_index/);
    expect(() => takeResume({ resume: { task_index: 0, round: 1, tasks: [], children: [{}] } })).toThrow(/resume\.children/);
    expect(takeResume({ job_title: 'x' })).toBeUndefined();
  });

  it('refuses nested fan-out, and children that are not jobs, naming them', async () => {
    const local = await engine().run({ job_title: 'n', tasks: [{ module: 'parts', data: { n: 0 } }] });
    expect(local.completed).toBe(true); // zero children: resumed at once
    expect(local.tasks[0]!.returnvalue).toEqual({ total: 0, state: { asked: 0, round: 1 } });
    const bad = defineModule({
      name: 'bad',
      schema: Type.Object({}),
      setup: (ctx) => ({ run: () => ctx.children.wait([{ job_title: 'no tasks' } as never]) }),
    });
    const r = await createEngine({ modules: [bad] }).run({ job_title: 'b', tasks: [{ module: 'bad', data: {} }] }, { children: 'defer' });
    expect(r.failed).toBe(true);
    expect(r.code).toBe(ErrorCodes.RUN);
    expect(r.message).toMatch(/^ctx\.children\.wait: children\[0\]: /);
    // A child run inline cannot wait for children of its own.
    const parent = defineModule({
      name: 'parent',
      schema: Type.Object({}),
      setup: (ctx) => ({ run: () => (ctx.children.resumed ? undefined : ctx.children.wait([{ job_title: 'inner', tasks: [{ module: 'nested', data: {} }] }])) }),
    });
    const n = await createEngine({ modules: [parent, nested, square] }).run({ job_title: 'p', tasks: [{ module: 'parent', data: {} }] });
    expect(n.failed).toBe(true);
    expect(n.message).toMatch(/failed: a child job cannot wait for children of its own/);
  });

  it('stops a task that waits for ever (locally: after 1000 rounds)', async () => {
    const r = await engine().run({ job_title: 'loop', tasks: [{ module: 'nested', data: {} }] });
    expect(r.failed).toBe(true);
    expect(r.message).toMatch(/waited for children 1000 times/);
  });

  it('keeps JSON returnvalues only; other values are left out with a warning', async () => {
    const odd = defineModule({ name: 'odd', schema: Type.Object({}), setup: () => ({ run: () => ({ big: 1n }) }) });
    const r = await createEngine({ modules: [odd] }).run({ job_title: 'o', tasks: [{ module: 'odd', data: {} }] });
    expect(r.completed).toBe(true);
    expect(r.tasks[0]!.returnvalue).toBeUndefined();
    expect(r.tasks[0]!.warnings?.[0]).toMatch(/not JSON/);
  });
});
