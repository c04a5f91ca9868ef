import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, Type, createEngine, defineModule } from '@sisyphus/core';
import { alive, tempDir, waitFor } from './helpers.js';

/** A module whose phases hang the ways a stalled share makes them hang. */
const stuck = defineModule({
  name: 'stuck',
  schema: Type.Object({
    phase: Type.Union([Type.Literal('init'), Type.Literal('validate'), Type.Literal('cleanup')]),
    /** `process`: a child blocked opening a FIFO (like ffprobe on a stalled share); `promise`: work that never settles and ignores its signal. */
    how: Type.Union([Type.Literal('process'), Type.Literal('promise')]),
    fifo: Type.Optional(Type.String()),
    pidFile: Type.Optional(Type.String()),
  }),
  setup(ctx) {
    const hang = async () => {
      if (ctx.data.how === 'promise') return new Promise(() => undefined);
      // sh writes its pid, then blocks in open() of a FIFO nobody writes: killable, never returning by itself.
      return ctx.runner.run('sh', ['-c', `echo $$ > "$1"; exec cat "$2"`, 'sh', ctx.data.pidFile!, ctx.data.fifo!]);
    };
    return {
      init: () => (ctx.data.phase === 'init' ? hang() : undefined),
      validate: () => (ctx.data.phase === 'validate' ? hang() : undefined),
      run: () => undefined,
      cleanup: () => (ctx.data.phase === 'cleanup' ? hang() : undefined),
    };
  },
});

async function fifoIn(dir: string): Promise<{ fifo: string; pidFile: string }> {
  const fifo = join(dir, 'stalled-share.mkv');
  execFileSync('mkfifo', [fifo]);
  return { fifo, pidFile: join(dir, 'pid') };
}

describe('every phase is bounded', () => {
  it.each(['init', 'validate', 'cleanup'] as const)('a %s stuck on a process fails at the phase timeout, naming the phase and the command; the process is killed', async (phase) => {
    const dir = await tempDir();
    const files = await fifoIn(dir);
    const engine = createEngine({ modules: [stuck], phaseTimeoutMs: 600 });
    const started = Date.now();
    const result = await engine.run({ job_title: 'stalled', tasks: [{ module: 'stuck', data: { phase, how: 'process', ...files } }] });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.code).toBe(ErrorCodes.TIMEOUT);
    expect(result.phase).toBe(phase);
    expect(result.cancelled).toBe(false);
    expect(result.message).toMatch(new RegExp(`^${phase} timed out after 0.6 s \\(still running: sh -c .*${files.fifo}\\)$`));
    const pid = Number(execFileSync('cat', [files.pidFile]).toString());
    expect(await waitFor(() => !alive(pid), 3000)).toBe(true);
  });

  it('work that ignores its signal cannot hold the slot: the phase fails after the timeout and a short wind-down', async () => {
    const engine = createEngine({ modules: [stuck], phaseTimeoutMs: 300 });
    const started = Date.now();
    const result = await engine.run({ job_title: 'stalled', tasks: [{ module: 'stuck', data: { phase: 'validate', how: 'promise' } }] });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.code).toBe(ErrorCodes.TIMEOUT);
    expect(result.message).toBe('validate timed out after 0.3 s');
  });

  it('the task timeout bounds init and validate too when no phase timeout is set', async () => {
    const engine = createEngine({ modules: [stuck], taskTimeoutMs: 300 });
    const result = await engine.run({ job_title: 'stalled', tasks: [{ module: 'stuck', data: { phase: 'init', how: 'promise' } }] });
    expect(result.code).toBe(ErrorCodes.TIMEOUT);
    expect(result.message).toBe('init timed out after 0.3 s');
  });

  it('a cancel during a stuck validate ends the job as cancelled and kills the process', async () => {
    const dir = await tempDir();
    const files = await fifoIn(dir);
    const engine = createEngine({ modules: [stuck] });
    const controller = new AbortController();
    const running = engine.run({ job_title: 'stalled', tasks: [{ module: 'stuck', data: { phase: 'validate', how: 'process', ...files } }] }, { signal: controller.signal });
    expect(await waitFor(() => existsSync(files.pidFile) && readdirSync(dir).length > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    const result = await running;
    expect(result.cancelled).toBe(true);
    expect(result.code).toBe(ErrorCodes.CANCELLED);
    const pid = Number(execFileSync('cat', [files.pidFile]).toString());
    expect(await waitFor(() => !alive(pid), 3000)).toBe(true);
  });
});

describe('a module can say what it is doing', () => {
  it('work labelled with ctx.activity.during is named when the task times out', async () => {
    const copier = defineModule({
      name: 'copier',
      schema: Type.Object({ file: Type.String() }),
      setup: (ctx) => ({ run: () => ctx.activity.during(`copying ${ctx.data.file}`, new Promise(() => undefined)) }),
    });
    const engine = createEngine({ modules: [copier], taskTimeoutMs: 300, phaseTimeoutMs: 60_000 });
    const result = await engine.run({ job_title: 'slow copy', tasks: [{ module: 'copier', data: { file: '/mnt/share/a.mkv' } }] });
    expect(result.code).toBe(ErrorCodes.TIMEOUT);
    expect(result.message).toBe('task timed out after 0.3 s (still running: copying /mnt/share/a.mkv)');
  });
});

/** A module that declares what it reads, writes and removes, and does nothing. */
const declares = defineModule({
  name: 'declares',
  schema: Type.Object({
    inputs: Type.Optional(Type.Array(Type.String())),
    outputs: Type.Optional(Type.Array(Type.String())),
    removes: Type.Optional(Type.Array(Type.String())),
  }),
  setup: (ctx) => ({
    run: () => undefined,
    inputs: () => ctx.data.inputs ?? [],
    outputs: () => ctx.data.outputs ?? [],
    removes: () => ctx.data.removes ?? [],
  }),
});

describe('job-level file rules (by real identity)', () => {
  it('a task may not write onto its own input, even spelt through a symlinked folder or a hard link', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'source.mkv'), 'original');
    execFileSync('ln', ['-s', dir, join(dir, 'library')]);
    execFileSync('ln', [join(dir, 'source.mkv'), join(dir, 'hard.mkv')]);
    const engine = createEngine({ modules: [declares] });
    for (const output of [join(dir, 'library', 'source.mkv'), join(dir, 'hard.mkv')]) {
      const result = await engine.run({ job_title: 'in place', tasks: [{ module: 'declares', data: { inputs: [join(dir, 'source.mkv')], outputs: [output] } }] });
      expect(result.code).toBe(ErrorCodes.VALIDATION);
      expect(result.message).toBe(`writes ${output}, which is the same file as its input ${join(dir, 'source.mkv')}; a source is never written in place`);
    }
  });

  it('a task may not remove a file a later task still reads, unless a task in between writes it anew', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a.mkv');
    await writeFile(a, 'x');
    const engine = createEngine({ modules: [declares] });
    const bad = await engine.run({
      job_title: 'early delete',
      tasks: [
        { module: 'declares', data: { inputs: [a] } },
        { module: 'declares', data: { removes: [join(dir, '.', 'a.mkv')] } },
        { module: 'declares', data: { inputs: [a] } },
      ],
    });
    expect(bad.code).toBe(ErrorCodes.VALIDATION);
    expect(bad.task_index).toBe(1);
    expect(bad.message).toBe(`removes ${dir}/a.mkv, which task 3 (declares) reads later (${a})`);
    const ok = await engine.run({
      job_title: 'delete then remake',
      tasks: [
        { module: 'declares', data: { removes: [a] } },
        { module: 'declares', data: { outputs: [a] } },
        { module: 'declares', data: { inputs: [a] } },
      ],
    });
    expect(ok.completed, ok.message).toBe(true);
  });

  it('deleting a symlink or one hard link of a file a later task reads is fine; deleting the file a link points to is not', async () => {
    const dir = await tempDir();
    const real = join(dir, 'real.mkv');
    await writeFile(real, 'x');
    execFileSync('ln', ['-s', real, join(dir, 'link.mkv')]);
    execFileSync('ln', [real, join(dir, 'hard.mkv')]);
    const engine = createEngine({ modules: [declares] });
    const run = (removed: string, read: string) =>
      engine.run({ job_title: 'links', tasks: [{ module: 'declares', data: { removes: [removed] } }, { module: 'declares', data: { inputs: [read] } }] });
    expect((await run(join(dir, 'link.mkv'), real)).completed).toBe(true);
    expect((await run(join(dir, 'hard.mkv'), real)).completed).toBe(true);
    const broken = await run(real, join(dir, 'link.mkv'));
    expect(broken.code).toBe(ErrorCodes.VALIDATION);
    expect(broken.message).toBe(`removes ${real}, which task 2 (declares) reads later (${join(dir, 'link.mkv')})`);
  });
});
