// The scaffold: what it writes, which names it refuses, and that a package it
// made builds, passes its own tests and runs a job against this repository's
// core (its node_modules linked in: no network). The packed-tarball install of a
// generated package is test/installed-packages.test.ts.
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ScaffoldError, VERSIONS, createModulePackage, moduleNameFor } from '../lib/index.mjs';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(repo, 'tools/create-sisyphus-module/bin/create-sisyphus-module.mjs');
const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;

let parent = '';
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'sis-scaffold-'));
});
afterEach(() => rm(parent, { recursive: true, force: true }));

/** Every file under `dir` (relative, sorted), node_modules and dist left out. */
async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .filter((p) => !p.startsWith('node_modules/') && !p.startsWith('dist/'))
    .sort();
}

/** Does installed `version` satisfy a `^x.y.z` or `~x.y.z` range? (The two forms the scaffold writes.) */
function satisfies(version: string, range: string): boolean {
  const [want, have] = [range.slice(1), version].map((v) => v.split('.').map(Number)) as [number[], number[]];
  const atLeast = have[0]! > want[0]! || (have[0] === want[0] && (have[1]! > want[1]! || (have[1] === want[1] && have[2]! >= want[2]!)));
  return atLeast && have[0] === want[0] && (range.startsWith('^') || have[1] === want[1]);
}

describe('createModulePackage', () => {
  it('writes a standalone package: manifest, tsconfig, module, schema, test, README, config and sample job', async () => {
    const made = await createModulePackage(parent, 'sisyphus-module-thumbs');
    expect(made).toMatchObject({ dir: join(parent, 'sisyphus-module-thumbs'), packageName: 'sisyphus-module-thumbs', moduleName: 'thumbs' });
    const expected = [
      '.gitignore', 'README.md', 'jobs/sample.yaml', 'package.json', 'sisyphus.config.yaml', 'src/index.ts', 'src/module.ts', 'src/schema.ts',
      'test/thumbs.test.ts', 'test/tsconfig.json', 'tool/gzip-file.mjs', 'tsconfig.json', 'vitest.config.ts',
    ];
    expect(made.files).toEqual(expected);
    expect(await filesOf(made.dir)).toEqual(expected);

    const pkg = await readJson<Record<string, any>>(join(made.dir, 'package.json'));
    expect(pkg).toMatchObject({
      name: 'sisyphus-module-thumbs',
      type: 'module',
      types: './dist/index.d.ts',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      files: ['dist', 'tool'],
      keywords: ['sisyphus-plugin'],
      scripts: { build: 'tsc', test: 'tsc -p test && vitest run', prepack: 'npm run build' },
      peerDependencies: { '@sisyphus/core': '^0.1.0' },
      devDependencies: { '@sisyphus/core': '^0.1.0', typescript: '^5.9.3', vitest: '~4.1.0', '@types/node': '^20.11.0' },
      engines: { node: '^20.11.0 || >=22.0.0' },
    });

    // Nothing points into this repository, and every placeholder was filled.
    for (const file of expected) {
      const text = await readFile(join(made.dir, file), 'utf8');
      expect(text, file).not.toMatch(/__[A-Z_]+__/);
      expect(text, file).not.toContain('../../');
      expect(text, file).not.toContain(repo);
    }
    const tsconfig = await readJson<{ compilerOptions: Record<string, unknown>; extends?: string }>(join(made.dir, 'tsconfig.json'));
    expect(tsconfig.extends).toBeUndefined();
    expect(tsconfig.compilerOptions).toMatchObject({ module: 'NodeNext', strict: true, outDir: 'dist', declaration: true });
    expect(await readFile(join(made.dir, 'sisyphus.config.yaml'), 'utf8')).toMatch(/plugins:\n {2}- "sisyphus-module-thumbs"\n/);
    expect(await readFile(join(made.dir, 'jobs/sample.yaml'), 'utf8')).toContain('- module: "thumbs"\n');
    expect(await readFile(join(made.dir, 'test/thumbs.test.ts'), 'utf8')).toContain("from '@sisyphus/core/testing'");
    expect(await readFile(join(made.dir, 'src/module.ts'), 'utf8')).toContain('export const thumbsModule = defineModule({');
  });

  it('depends on the core version of this repository and on the tools it builds with', async () => {
    const core = await readJson<{ version: string; dependencies: Record<string, string> }>(join(repo, 'core/package.json'));
    expect(VERSIONS.core).toBe(core.version);
    // TypeBox at the core's own range (the generated package's declarations name its types).
    expect(VERSIONS.typebox).toBe(core.dependencies.typebox);
    for (const [name, range] of [['typescript', VERSIONS.typescript], ['vitest', VERSIONS.vitest], ['@types/node', VERSIONS.typesNode]] as const) {
      const { version } = await readJson<{ version: string }>(join(repo, 'node_modules', name, 'package.json'));
      expect(satisfies(version, range), `${name} ${version} satisfies ${range}`).toBe(true);
    }
    expect(satisfies('5.9.2', '^5.9.3')).toBe(false);
    expect(satisfies('4.2.0', '~4.1.0')).toBe(false);
  });

  it('derives folder and module names, takes overrides, and fills devDependencies given', async () => {
    expect(moduleNameFor('@acme/sisyphus-module-thumbs')).toBe('thumbs');
    expect(moduleNameFor('sisyphus-hls')).toBe('hls');
    expect(moduleNameFor('module-x')).toBe('x');
    expect(moduleNameFor('thumbnailer')).toBe('thumbnailer');
    const scoped = await createModulePackage(parent, '@acme/sisyphus-module-thumb-maker.v2');
    expect(scoped.dir).toBe(join(parent, 'sisyphus-module-thumb-maker.v2'));
    expect(await readFile(join(scoped.dir, 'src/index.ts'), 'utf8')).toContain("definePlugin({ name: '@acme/sisyphus-module-thumb-maker.v2', version, modules: [thumbMakerV2Module] })");
    expect(await readFile(join(scoped.dir, 'src/schema.ts'), 'utf8')).toContain('export const ThumbMakerV2DataSchema');

    const custom = await createModulePackage(parent, 'whatever', { moduleName: '3d', dir: 'nested/here', devDependencies: { '@sisyphus/core': 'file:/x.tgz' } });
    expect(custom.dir).toBe(join(parent, 'nested/here'));
    expect(custom.files).toContain('test/3d.test.ts');
    expect(await readFile(join(custom.dir, 'src/module.ts'), 'utf8')).toContain("export const m3dModule = defineModule({\n  name: '3d',");
    expect((await readJson<{ devDependencies: Record<string, string> }>(join(custom.dir, 'package.json'))).devDependencies['@sisyphus/core']).toBe('file:/x.tgz');

    // Names YAML would read as numbers, booleans or null stay strings in the config and the sample job.
    for (const name of ['0x10', '123', 'true', 'null']) {
      const made = await createModulePackage(parent, name);
      const config = parseYaml(await readFile(join(made.dir, 'sisyphus.config.yaml'), 'utf8')) as { plugins: unknown[]; settings: Record<string, unknown> };
      expect(config.plugins, name).toEqual([name]);
      expect(Object.keys(config.settings), name).toEqual([made.moduleName]);
      const job = parseYaml(await readFile(join(made.dir, 'jobs/sample.yaml'), 'utf8')) as { tasks: Array<{ module: unknown }> };
      expect(job.tasks[0]!.module, name).toBe(made.moduleName);
    }
  });

  it('refuses bad package names, bad module names and a folder in the way, with one-line errors', async () => {
    for (const [name, reason] of [
      ['', 'NAME is missing'],
      ['Thumbs', 'name can no longer contain capital letters'],
      ['my module', 'name can only contain URL-friendly characters'],
      ['.hidden', 'name cannot start with a period'],
      ['http', 'http is a core module name'],
      ['node_modules', 'node_modules is not a valid package name'],
      ['@../x', 'a scope and a name start with a letter, digit'],
      ['@x/node_modules', 'node_modules is a reserved name'],
    ]) {
      const error = await createModulePackage(parent, name!).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(ScaffoldError);
      expect((error as Error).message).toContain(reason);
      expect((error as Error).message).not.toContain('\n');
    }
    await expect(createModulePackage(parent, 'sisyphus-module-x', { moduleName: '-x' })).rejects.toThrow('module name "-x" is not valid');
    await expect(createModulePackage(parent, 'sisyphus-module-cleanup')).rejects.toThrow('module name "cleanup" is taken by a shipped module');
    await mkdir(join(parent, 'busy'));
    await writeFile(join(parent, 'busy', 'keep.txt'), 'mine');
    await expect(createModulePackage(parent, 'busy')).rejects.toThrow(`${join(parent, 'busy')} already exists and is not empty`);
    expect(await readdir(join(parent, 'busy'))).toEqual(['keep.txt']);
    await writeFile(join(parent, 'afile'), '');
    await expect(createModulePackage(parent, 'afile')).rejects.toThrow('it is a file');
    // An empty folder is fine.
    await mkdir(join(parent, 'empty'));
    await expect(createModulePackage(parent, 'empty')).resolves.toMatchObject({ moduleName: 'empty' });
    expect(await readdir(parent)).toEqual(['afile', 'busy', 'empty']);
  });
});

describe('create-sisyphus-module (the command)', () => {
  it('creates the package in the current folder and says what to do next', async () => {
    const run = await execa(process.execPath, [BIN, '@acme/sisyphus-module-thumbs'], { cwd: parent });
    expect(run.stdout).toContain('Created @acme/sisyphus-module-thumbs (module "thumbs") in sisyphus-module-thumbs');
    expect(run.stdout).toContain('npm test');
    expect(await readdir(join(parent, 'sisyphus-module-thumbs', 'src'))).toEqual(['index.ts', 'module.ts', 'schema.ts']);
  });

  it('exits 2 with one line on stderr for bad input', async () => {
    for (const args of [['Bad'], [], ['a', 'b'], ['--nope', 'x'], ['x', '--module', 'a b']]) {
      const run = await execa(process.execPath, [BIN, ...args], { cwd: parent, reject: false });
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^create-sisyphus-module: [^\n]+$/);
    }
    expect(await readdir(parent)).toEqual([]);
    expect((await execa(process.execPath, [BIN, '--help'])).stdout).toContain('Usage: create-sisyphus-module NAME');
  });
});

describe('a generated package', () => {
  it('type-checks, passes its own tests, builds, and runs its sample job with the sisyphus CLI', async () => {
    const made = await createModulePackage(parent, 'sisyphus-module-shout');
    // This repository's node_modules stand in for `npm install` (@sisyphus/core is the workspace's build).
    await mkdir(join(made.dir, 'node_modules'));
    for (const entry of await readdir(join(repo, 'node_modules'))) {
      await symlink(join(repo, 'node_modules', entry), join(made.dir, 'node_modules', entry));
    }
    const inPackage = (file: string, args: string[]) => execa(process.execPath, [join(made.dir, 'node_modules', file), ...args], { cwd: made.dir, reject: false, env: { NO_COLOR: '1', FORCE_COLOR: '0' } });

    const typecheck = await inPackage('typescript/bin/tsc', ['-p', 'test']);
    expect(typecheck.exitCode, typecheck.stdout + typecheck.stderr).toBe(0);
    const test = await inPackage('vitest/vitest.mjs', ['run']);
    expect(test.exitCode, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/Tests +6 passed/);
    const build = await inPackage('typescript/bin/tsc', []);
    expect(build.exitCode, build.stdout + build.stderr).toBe(0);
    expect((await readdir(join(made.dir, 'dist'))).filter((f) => !f.endsWith('.map')).sort()).toEqual([
      'index.d.ts', 'index.js', 'module.d.ts', 'module.js', 'schema.d.ts', 'schema.js',
    ]);

    // The config next to it loads the package by its name; the job compresses the file the README names.
    const modules = await inPackage('@sisyphus/core/bin/sisyphus.js', ['modules']);
    expect(modules.stdout).toMatch(/^shout +sisyphus-module-shout 0\.1\.0/m);
    const job = await inPackage('@sisyphus/core/bin/sisyphus.js', ['run', 'jobs/sample.yaml', '--var', 'input=jobs/sample.yaml']);
    expect(job.exitCode, job.stdout + job.stderr).toBe(0);
    const sample = await readFile(join(made.dir, 'jobs/sample.yaml'), 'utf8');
    expect(gunzipSync(await readFile(join(made.dir, 'jobs/sample.yaml.gz'))).toString()).toBe(sample);
    expect(await readFile(join(made.dir, 'README.md'), 'utf8')).toContain('--var input=jobs/sample.yaml');
    const outside = await inPackage('@sisyphus/core/bin/sisyphus.js', ['run', 'jobs/sample.yaml', '--var', `input=${join(repo, 'README.md')}`]);
    expect(outside.exitCode).toBe(2);
    expect(outside.stderr).toContain('SIS_PATH_NOT_ALLOWED');
  }, 180_000);
});
