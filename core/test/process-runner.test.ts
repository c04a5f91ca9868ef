import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createProcessRunner, ProcessError } from '@sisyphus/core';
import { liveGroups } from '@sisyphus/core/worker';
import { alive, waitFor } from './helpers.js';

const tree = fileURLToPath(new URL('../../test/fixtures/spawn-tree.mjs', import.meta.url));
const node = process.execPath;

describe('process runner', () => {
  it('streams stdout and stderr lines (\\n and \\r separated) and reports the exit code', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const result = await createProcessRunner().run(
      node,
      ['-e', 'process.stdout.write("a\\nb\\r\\nc\\rd"); process.stderr.write("e1\\ne2\\n")'],
      { onStdoutLine: (l) => out.push(l), onStderrLine: (l) => err.push(l) },
    );
    expect(out).toEqual(['a', 'b', 'c', 'd']);
    expect(err).toEqual(['e1', 'e2']);
    expect(result.exitCode).toBe(0);
    expect(result.command).toEqual([node, '-e', expect.any(String)]);
  });

  it('passes arguments as data, never through a shell', async () => {
    const lines: string[] = [];
    const tricky = '$(touch /tmp/sisyphus-pwned); `id` && echo "x" | cat > y';
    await createProcessRunner().run(node, ['-e', 'console.log(process.argv[1])', tricky], { onStdoutLine: (l) => lines.push(l) });
    expect(lines).toEqual([tricky]);
  });

  it('fails with exit code, the stderr tail and execa\'s result as cause', async () => {
    const script = 'for (let i = 1; i <= 30; i++) console.error("line " + i); process.exit(3)';
    const error = await createProcessRunner().run(node, ['-e', script], { stderrTailLines: 5 }).catch((e) => e);
    expect(error).toBeInstanceOf(ProcessError);
    expect(error.exitCode).toBe(3);
    expect(error.stderrTail).toEqual(['line 26', 'line 27', 'line 28', 'line 29', 'line 30']);
    expect(error.message).toBe('node exited with code 3: line 30');
    expect(error.cause).toBeDefined();
    expect(error.code).toBe('SIS_PROCESS_FAILED');
  });

  it('accepts extra success exit codes', async () => {
    const r = await createProcessRunner().run(node, ['-e', 'process.exit(1)'], { okExitCodes: [0, 1] });
    expect(r.exitCode).toBe(1);
  });

  it('reports a missing program as not started', async () => {
    const error = await createProcessRunner().run('/nonexistent/ffmpeg', ['-version']).catch((e) => e);
    expect(error).toBeInstanceOf(ProcessError);
    expect(error.notStarted).toBe(true);
    expect(error.message).toBe('ffmpeg could not be started (/nonexistent/ffmpeg): program not found');
  });

  it('reports death by signal', async () => {
    const error = await createProcessRunner().run(node, ['-e', 'process.kill(process.pid, "SIGSEGV")']).catch((e) => e);
    expect(error.signal).toBe('SIGSEGV');
    expect(error.message).toMatch(/^node was killed by SIGSEGV/);
  });

  it.each([[[] as string[]], [['--ignore-term']]])('cancel kills the whole process tree within 2 s (args %j)', async (extra) => {
    const controller = new AbortController();
    let pids: number[] = [];
    let abortedAt = 0;
    const running = createProcessRunner(controller.signal).run(node, [tree, ...extra], {
      onStdoutLine: (l) => {
        pids = JSON.parse(l);
        abortedAt = Date.now();
        controller.abort();
      },
    });
    const error = await running.catch((e) => e);
    expect(pids).toHaveLength(3);
    expect(error).toBeInstanceOf(ProcessError);
    expect(error.isCanceled).toBe(true);
    expect(await waitFor(() => pids.every((p) => !alive(p)), 2000)).toBe(true);
    // Gone within 2 s of the cancel (SIGTERM, then SIGKILL after 1.5 s), with some slack for a loaded machine.
    expect(Date.now() - abortedAt).toBeLessThan(2500);
    expect(liveGroups()).not.toContain(pids[0]);
  });

  it('timeout kills the tree too', async () => {
    let pids: number[] = [];
    // Long enough for three node processes to start on a loaded machine.
    const error = await createProcessRunner()
      .run(node, [tree], { timeoutMs: 4000, onStdoutLine: (l) => (pids = JSON.parse(l)) })
      .catch((e) => e);
    expect(error.timedOut).toBe(true);
    expect(pids).toHaveLength(3);
    expect(await waitFor(() => pids.every((p) => !alive(p)), 2000)).toBe(true);
  });

  it('a child never outlives its parent, even when the parent is SIGKILLed (parent-death signal)', async () => {
    const host = spawn(process.execPath, [fileURLToPath(new URL('../../test/fixtures/runner-host.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve) => host.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    expect(alive(childPid)).toBe(true);
    host.kill('SIGKILL');
    expect(await waitFor(() => !alive(childPid), 2000)).toBe(true);
  });

  it('does not start anything when already cancelled, and refuses a non-array argv', async () => {
    const error = await createProcessRunner(AbortSignal.abort()).run(node, ['-e', '']).catch((e) => e);
    expect(error.isCanceled).toBe(true);
    // @ts-expect-error argv must be an array
    await expect(createProcessRunner().run(node, '-e 1')).rejects.toThrow('must be an array');
  });
});
