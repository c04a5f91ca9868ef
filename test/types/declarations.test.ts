// Type tests against the BUILT declarations: the files beside this one are
// compiled like a consumer's project (module NodeNext, strict), importing
// @sisyphus/core and the module packages through node_modules -> their
// package `exports` -> dist/*.d.ts. Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = promisify(execFile);

/** Run tsc on a project; its exit code and everything it printed. */
async function compile(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [tsc, ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const built = ['core/dist/index.d.ts', 'modules/ffmpeg/dist/index.d.ts', 'modules/mkvmerge/dist/index.d.ts', 'modules/cleanup/dist/index.d.ts', 'examples/checksum-module/dist/index.d.ts'];

describe('published type declarations', () => {
  it('are built', () => {
    expect(built.filter((f) => !existsSync(join(root, f))), 'missing declarations: run `npm run build`').toEqual([]);
  });

  it('compile the type tests (module data, defineModule, engine.run, events, the guide\'s code) without an error', async () => {
    const { code, output } = await compile('-p', 'test/types/tsconfig.json');
    expect(output.trim(), 'tsc -p test/types/tsconfig.json').toBe('');
    expect(code).toBe(0);
  }, 120_000);

  it('are what the type tests see: every package resolves to its dist/*.d.ts, none to its sources', async () => {
    const { code, output } = await compile('-p', 'test/types/tsconfig.json', '--listFilesOnly');
    expect(code, output).toBe(0);
    const ours = output
      .split('\n')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => relative(root, f))
      .filter((f) => !f.startsWith('..') && !f.startsWith('node_modules') && !f.startsWith('test/types'));
    for (const entry of built) expect(ours).toContain(entry);
    expect(ours.filter((f) => !/\/dist\/.*\.d\.ts$/.test(f))).toEqual([]);
  }, 120_000);

  it('can fail: tsc refuses exactly the lines of canary/canary.ts marked `must fail`', async () => {
    const source = readFileSync(join(here, 'canary', 'canary.ts'), 'utf8').split('\n');
    const marked = source.flatMap((line, i) => (/\/\/ must fail/.test(line) ? [i + 1] : []));
    expect(marked.length).toBeGreaterThanOrEqual(4);
    const { code, output } = await compile('-p', 'test/types/canary/tsconfig.json');
    expect(code).not.toBe(0);
    const failed = [...new Set([...output.matchAll(/canary\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])))];
    expect(failed, output).toEqual(marked);
  }, 120_000);
});
