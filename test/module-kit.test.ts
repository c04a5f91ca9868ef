// The module kit: the test kit (@sisyphus/core/testing) a module author's tests
// use, and `sisyphus new module`, which runs the scaffold (create-sisyphus-module).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, Type, ValidationError, createMemoryDataStore, defineModule } from '@sisyphus/core';
import { assertCompleted, createTestFolder, phaseTrail, runTask, type TestFolder } from '@sisyphus/core/testing';
import { findScaffold, newCommand } from '../core/src/cli/commands/new-command.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SISYPHUS = join(repo, 'core/bin/sisyphus.js');

let folder: TestFolder;
beforeEach(async () => {
  folder = await createTestFolder({ files: { 'in.txt': 'hello', 'sub/deep/x.bin': new Uint8Array([1, 2, 3]) } });
});
afterEach(() => folder.remove());

/** Copies `input` to `output` with a real child process (node), through an output claim. */
const copier = defineModule({
  name: 'copier',
  schema: Type.Object({ input: Type.String(), output: Type.String(), preset: Type.Optional(Type.String()), clobber: Type.Optional(Type.Boolean()) }),
  setup(ctx) {
    let input = '';
    let output = '';
    return {
      async validate() {
        input = await ctx.paths.check(ctx.data.input, 'input');
        output = await ctx.paths.check(ctx.data.output, 'output');
        if (ctx.data.preset !== undefined) {
          const record = await ctx.dataStore.get('copier', ctx.data.preset);
          if (!record) throw new ValidationError(`preset: no record "${ctx.data.preset}"`, { code: ErrorCodes.DATA_NOT_FOUND });
          ctx.logger.info(`preset ${JSON.stringify(record)}`);
        }
      },
      async run() {
        const claim = await ctx.outputFiles.claim(output, { field: 'output' });
        const script = 'const fs = require("node:fs"); fs.copyFileSync(process.argv[1], process.argv[2]); console.log("copied")';
        await ctx.runner.run(process.execPath, ['-e', script, input, claim.path], { onStdoutLine: (line) => ctx.logger.info(line) });
        ctx.progress.report({ percent: 50 });
        // Another writer puts a file at the target meanwhile: promotion (no overwrite) must refuse it.
        if (ctx.data.clobber) await writeFile(output, 'theirs');
        await claim.promote();
        ctx.progress.report({ percent: 100 });
      },
    };
  },
});

describe('test kit: TestFolder', () => {
  it('writes, reads and lists files; refuses paths that leave it; is removed', async () => {
    expect(await folder.list()).toEqual(['in.txt', 'sub/', 'sub/deep/', 'sub/deep/x.bin']);
    expect(await folder.readText('in.txt')).toBe('hello');
    expect([...(await folder.read('sub/deep/x.bin'))]).toEqual([1, 2, 3]);
    expect(await folder.write('a/b.txt', 'b')).toBe(join(folder.path, 'a/b.txt'));
    expect(await folder.exists('a/b.txt')).toBe(true);
    expect(await folder.exists('nope')).toBe(false);
    expect(() => folder.resolve('../escape')).toThrow('"../escape" is not a path inside');
    expect(() => folder.resolve('/etc/passwd')).toThrow('is not a path inside');
    await folder.remove();
    expect(await readdir(tmpdir())).not.toContain(folder.path.split('/').at(-1));
  });
});

describe('test kit: runTask with a folder', () => {
  it('runs a real process through the engine inside the folder and collects phases, progress and logs', async () => {
    const run = await runTask(copier, { input: 'in.txt', output: 'out.txt' }, { folder });
    assertCompleted(run);
    expect(phaseTrail(run)).toEqual(['init:start', 'init:end', 'validate:start', 'validate:end', 'run:start', 'run:end', 'cleanup:start', 'cleanup:end']);
    expect(run.progress.map((p) => p.percent)).toEqual([50, 100]);
    expect(run.logs.map((l) => l.message)).toContain('copied');
    expect(await folder.readText('out.txt')).toBe('hello');
    expect(await folder.leftovers()).toEqual([]);
    expect(await folder.list()).toEqual(['in.txt', 'out.txt', 'sub/', 'sub/deep/', 'sub/deep/x.bin']);
  });

  it('makes the folder the only allowed root, unless allowedRoots is given', async () => {
    const outside = await runTask(copier, { input: join(repo, 'README.md'), output: 'out.txt' }, { folder });
    expect(outside.result.code).toBe(ErrorCodes.PATH_NOT_ALLOWED);
    expect(phaseTrail(outside).at(-1)).toBe('validate:failed');
    expect(() => assertCompleted(outside)).toThrow(/^expected the task to complete, but it failed in validate with SIS_PATH_NOT_ALLOWED: input /);
    const allowed = await runTask(copier, { input: join(repo, 'README.md'), output: 'readme.md' }, { folder, allowedRoots: [repo, folder.path] });
    assertCompleted(allowed);
  });

  it('finds what a failed promotion keeps (leftovers), and reports a cancel', async () => {
    const run = await runTask(copier, { input: 'in.txt', output: 'out.txt', clobber: true }, { folder });
    expect(run.result.code).toBe(ErrorCodes.RUN);
    expect(phaseTrail(run).slice(-3)).toEqual(['run:failed', 'cleanup:start', 'cleanup:end']);
    expect(await folder.readText('out.txt')).toBe('theirs');
    const kept = await folder.leftovers();
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((p) => p.startsWith('.sisyphus-'))).toBe(true);

    const cancelled = await runTask(copier, { input: 'in.txt', output: 'other.txt' }, { folder, signal: AbortSignal.abort() });
    expect(() => assertCompleted(cancelled)).toThrow('expected the task to complete, but it was cancelled');
    expect(await folder.exists('other.txt')).toBe(false);
  });

  it('serves records (option sets) of the module, before a dataStore given too', async () => {
    const dataStore = createMemoryDataStore({ copier: { slow: { speed: 1 }, fast: { speed: 0 } } });
    const run = await runTask(copier, { input: 'in.txt', output: 'a.txt', preset: 'fast' }, { folder, records: { fast: { speed: 9 } }, dataStore });
    expect(run.logs.map((l) => l.message)).toContain('preset {"speed":9}');
    const fromStore = await runTask(copier, { input: 'in.txt', output: 'b.txt', preset: 'slow' }, { folder, records: { fast: { speed: 9 } }, dataStore });
    expect(fromStore.logs.map((l) => l.message)).toContain('preset {"speed":1}');
    const missing = await runTask(copier, { input: 'in.txt', output: 'c.txt', preset: 'none' }, { folder, records: {} });
    expect(missing.result.code).toBe(ErrorCodes.DATA_NOT_FOUND);
  });
});

describe('sisyphus new module', () => {
  let cwd = '';
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'sis-new-'));
  });
  afterEach(() => rm(cwd, { recursive: true, force: true }));

  it('runs the installed create-sisyphus-module and passes the options on', async () => {
    await mkdir(join(cwd, 'node_modules'));
    await symlink(join(repo, 'tools/create-sisyphus-module'), join(cwd, 'node_modules/create-sisyphus-module'));
    expect(findScaffold([cwd])).toBe(join(repo, 'tools/create-sisyphus-module/bin/create-sisyphus-module.mjs')); // its real path
    const made = await execa(process.execPath, [SISYPHUS, 'new', 'module', '@acme/sisyphus-module-thumbs', '--module', 'thumbnails', '--dir', 'thumbs'], { cwd, reject: false });
    expect(made.exitCode, made.stderr).toBe(0);
    expect(made.stdout).toContain('Created @acme/sisyphus-module-thumbs (module "thumbnails") in thumbs');
    expect(await readdir(join(cwd, 'thumbs', 'test'))).toEqual(['thumbnails.test.ts', 'tsconfig.json']);
    // The scaffold's own refusal comes through with its exit code.
    const again = await execa(process.execPath, [SISYPHUS, 'new', 'module', 'x', '--dir', 'thumbs'], { cwd, reject: false });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/^create-sisyphus-module: .*thumbs already exists and is not empty/);
    // A NAME that looks like an option stays a NAME (the scaffold gets it after --), so it is refused, not obeyed.
    const flag = await execa(process.execPath, [SISYPHUS, 'new', 'module', '--', '--help'], { cwd, reject: false });
    expect(flag.exitCode).toBe(2);
    expect(flag.stdout).not.toMatch(/usage/i);
    expect(flag.stderr).toMatch(/^create-sisyphus-module: .*"--help"/);
  });

  it('says how to get the scaffold when it is not installed, and refuses unknown kinds', async () => {
    expect(findScaffold([cwd])).toBeUndefined();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await newCommand('module', 'sisyphus-module-x', {}, [cwd])).toBe(2);
      expect(stderr).toHaveBeenCalledWith(
        'sisyphus new module: create-sisyphus-module is not installed here; run: npm create sisyphus-module@latest sisyphus-module-x\n',
      );
    } finally {
      stderr.mockRestore();
    }
    const widget = await execa(process.execPath, [SISYPHUS, 'new', 'widget', 'x'], { cwd, reject: false });
    expect(widget.exitCode).toBe(2);
    expect(widget.stderr).toContain('sisyphus new: unknown kind "widget" (known: module)');
    expect(await readdir(cwd)).toEqual([]);
  });
});
