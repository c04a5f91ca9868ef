// Every published package, packed as `npm pack` makes it and installed with npm
// into an empty project outside the repository, the way a module author or an
// operator gets it from a registry: the CLI runs, a real ffmpeg job runs from a
// config naming the installed module packages, a server and a worker run, a
// TypeScript consumer (the READMEs' own snippets included) compiles against the
// installed declarations, and a module made by the scaffold builds and passes
// its tests against the installed core. The tarballs' contents are checked too.
//
// npm's cache is reused (--prefer-offline); better-sqlite3 (the server's store)
// is a native module and may be compiled here, which is most of this file's time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type Options } from 'execa';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import semver from 'semver';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, until } from './support/processes.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const INSTALL_MS = 15 * 60_000;

interface PackedFile { path: string; size: number }
interface Packed { name: string; version: string; filename: string; files: PackedFile[] }
interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  exports?: Record<string, string | { types?: string; default?: string }>;
  files?: string[];
  main?: string;
  types?: string;
  engines?: { node?: string };
  repository?: { url?: string; directory?: string };
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The folders of the packages we publish: every workspace except the example and private ones (the dashboard's source, shipped inside the server). */
function publishedFolders(): string[] {
  const folders: string[] = [];
  for (const group of ['core', 'modules', 'plugins', 'tools']) {
    const base = join(repo, group);
    if (!existsSync(base)) continue;
    if (existsSync(join(base, 'package.json'))) folders.push(group);
    else for (const entry of readdirSync(base)) if (existsSync(join(base, entry, 'package.json'))) folders.push(`${group}/${entry}`);
  }
  return folders.filter((folder) => !(JSON.parse(readFileSync(join(repo, folder, 'package.json'), 'utf8')) as { private?: boolean }).private);
}

const manifest = (folder: string): Manifest => JSON.parse(readFileSync(join(repo, folder, 'package.json'), 'utf8')) as Manifest;

let root = '';
let tarballs = '';
let project = '';
let packed: Packed[] = [];
const folders = publishedFolders();
const tarballOf = (name: string) => join(tarballs, packed.find((p) => p.name === name)!.filename);

/** Run a command in the consumer project with a clean environment (no repository on any path). */
function inProject(file: string, args: string[], options: Options = {}) {
  return execa(file, args, { cwd: project, env: { NODE_OPTIONS: '', npm_config_prefer_offline: 'true' }, extendEnv: true, ...options });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sis-installed-'));
  tarballs = join(root, 'tarballs');
  project = join(root, 'project');
  await mkdir(tarballs);
  await mkdir(project);
  // `npm pack` runs each package's prepack (its build, then removal of stale output).
  const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', tarballs, ...folders.flatMap((f) => ['-w', f])], { cwd: repo });
  packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as Packed[];

  const dependencies: Record<string, string> = {};
  for (const p of packed) dependencies[p.name] = `file:${join(tarballs, p.filename)}`;
  await writeFile(join(project, 'package.json'), JSON.stringify({
    name: 'sisyphus-consumer',
    private: true,
    type: 'module',
    dependencies,
  }, null, 2));
  // A production install first: what an operator's worker gets (the checks below look at it).
  await inProject('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { timeout: INSTALL_MS });
}, INSTALL_MS + 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the tarballs', () => {
  it('packs every published package', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(folders.map((f) => manifest(f).name).sort());
  });

  it.each(folders)('%s: metadata a registry user relies on', (folder) => {
    const m = manifest(folder);
    expect(m.private, 'private').toBeFalsy();
    expect(m.engines?.node, 'engines.node').toBe('^20.11.0 || >=22.0.0');
    expect(m.repository?.url, 'repository.url').toMatch(/^git\+https:\/\//);
    expect(m.repository?.directory, 'repository.directory').toBe(folder);
    // A package with a build builds it when packed; the scaffold is plain JavaScript (no build).
    if (m.scripts?.build) expect(m.scripts.prepack, 'prepack builds').toBeTruthy();
    else expect(existsSync(join(repo, folder, 'tsconfig.json')), 'no build step means no TypeScript to compile').toBe(false);
    expect(readFileSync(join(repo, folder, 'LICENSE'), 'utf8')).toBe(readFileSync(join(repo, 'LICENSE'), 'utf8'));
    const readme = readFileSync(join(repo, folder, 'README.md'), 'utf8');
    expect(readme, 'README names the package').toContain(m.name);
    expect(readme, 'README shows how to install').toMatch(/npm (install|create)/);
    expect(readme, 'README links the docs').toMatch(/https:\/\/github\.com\/\S+\/docs\//);
  });

  it.each(folders)('%s: holds exactly what it needs', (folder) => {
    const m = manifest(folder);
    const p = packed.find((x) => x.name === m.name)!;
    const files = p.files.map((f) => f.path);
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    // The scaffold's templates are a package's sources and tests, to be written out.
    for (const f of files.filter((f) => !f.startsWith('templates/'))) {
      expect(f, 'no tests in a tarball').not.toMatch(/(^|\/)(test|tests|__tests__)\/|\.test\.[cm]?[jt]s$/);
      expect(f, 'no TypeScript sources or build info').not.toMatch(/(^|\/)src\/|\.tsbuildinfo$|(?<!\.d)\.ts$/);
      expect(f, 'no declaration maps pointing at sources that are not shipped').not.toMatch(/\.d\.ts\.map$/);
    }
    // Every entry point the manifest names is in the tarball.
    const targets = [m.main, m.types, ...Object.values(m.bin ?? {})];
    for (const value of Object.values(m.exports ?? {})) {
      if (typeof value === 'string') targets.push(value);
      else targets.push(value.types, value.default);
    }
    for (const target of targets.filter((t): t is string => typeof t === 'string')) {
      expect(files, `${m.name} names ${target}`).toContain(target.replace(/^\.\//, ''));
    }
  });

  it.each(folders)('%s: its code and declarations import only what the package declares', (folder) => {
    const m = manifest(folder);
    const declared = new Set([m.name, ...Object.keys({ ...m.dependencies, ...m.peerDependencies })]);
    const files = packed.find((x) => x.name === m.name)!.files.map((f) => f.path).filter((f) => /\.(m?js|d\.ts)$/.test(f) && !f.startsWith('templates/'));
    const undeclared = new Set<string>();
    for (const f of files) {
      // TypeScript's own scan of a file's imports (static, dynamic, require, and `import("x")` types).
      for (const { fileName: spec } of ts.preProcessFile(readFileSync(join(repo, folder, f), 'utf8'), true, true).importedFiles) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!declared.has(pkg)) undeclared.add(`${pkg} (${f})`);
      }
    }
    // A strict (pnpm-style) install resolves only declared packages: anything else breaks there.
    expect([...undeclared]).toEqual([]);
  });

  it.each(folders)('%s: every YAML example in its README parses', async (folder) => {
    const readme = readFileSync(join(repo, folder, 'README.md'), 'utf8');
    for (const [, block] of readme.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      expect(() => parseYaml(block!), block).not.toThrow();
    }
  });

  it.each(folders)('%s: no stale build output (every dist file has a source)', (folder) => {
    const m = manifest(folder);
    const files = packed.find((x) => x.name === m.name)!.files.map((f) => f.path).filter((f) => f.startsWith('dist/'));
    for (const f of files) {
      if (f.startsWith('dist/chunks/')) continue; // the core's bundle chunks: checked through the source maps below
      if (f.startsWith('dist/dashboard/')) continue; // the server's web UI, built from plugins/dashboard: served and checked below
      const source = join(repo, folder, f.replace(/^dist\//, 'src/').replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts'));
      expect(existsSync(source), `${m.name}: ${f} has no source (stale?)`).toBe(true);
    }
  });
});

describe('installed from the tarballs, outside the repository', () => {
  it('source maps carry their sources (none point at files that are not installed)', () => {
    for (const p of packed) {
      const dir = join(project, 'node_modules', p.name);
      for (const { path } of p.files.filter((f) => f.path.endsWith('.js.map'))) {
        const map = JSON.parse(readFileSync(join(dir, path), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
        expect(map.sourcesContent?.length, `${p.name}/${path}: sourcesContent`).toBe(map.sources.length);
        expect(map.sourcesContent!.every((s) => typeof s === 'string'), `${p.name}/${path}: every source inlined`).toBe(true);
      }
    }
  });

  it('pulls no TypeScript compiler, no types-only package and no native build into a production install', async () => {
    const { stdout } = await inProject('npm', ['ls', '--all', '--parseable']);
    const installed = stdout.split('\n').map((line) => relative(join(project, 'node_modules'), line)).filter(Boolean);
    expect(installed.filter((name) => name === 'typescript' || name.endsWith('/typescript'))).toEqual([]);
    expect(installed.filter((name) => /(^|\/)@types\//.test(name))).toEqual([]);
    // Packages that run an install script (a native build). better-sqlite3 is an optional peer of the
    // server, installed only by those who keep the queue in SQLite. msgpackr-extract is BullMQ's
    // (through msgpackr) optional accelerator: npm installs its prebuilt binary, it compiles nothing.
    const lock = JSON.parse(await readFile(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean; optional?: boolean }> };
    const scripted = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([path, p]) => `${path.replace(/^node_modules\//, '')}${p.optional ? ' (optional)' : ''}`);
    expect(scripted).toEqual(['msgpackr-extract (optional)']);
    expect(existsSync(join(project, 'node_modules', 'better-sqlite3'))).toBe(false);
  });

  it("every installed dependency runs on the Node versions our packages' engines name", async () => {
    const ours = manifest('core').engines!.node!;
    for (const f of folders) expect(manifest(f).engines?.node, f).toBe(ours);
    const lock = JSON.parse(await readFile(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const needs: string[] = [];
    for (const path of Object.keys(lock.packages)) {
      const file = join(project, path, 'package.json');
      if (!path || !existsSync(file)) continue; // optional packages for other platforms are not installed
      const { name, version, engines } = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string; engines?: { node?: string } };
      if (engines?.node && !semver.subset(ours, engines.node)) needs.push(`${name}@${version} ${engines.node}`);
    }
    // fastify's cookie (used only by fastify.inject) and @fastify/static's content-disposition (only
    // for /doc's assets) declare Node 22 since their latest majors; their code runs on Node 20, where
    // this suite runs the server: npm prints EBADENGINE warnings for them (docs/server.md says so).
    expect(needs.filter((n) => !/^(cookie|content-disposition)@/.test(n))).toEqual([]);
  });

  it('npx sisyphus --version and modules', async () => {
    const version = await inProject('npx', ['--no-install', 'sisyphus', '--version']);
    expect(version.stdout.trim()).toBe(manifest('core').version);
    const modules = await inProject('npx', ['--no-install', 'sisyphus', 'modules']);
    for (const name of ['ffmpeg', 'mkvmerge', 'cleanup']) expect(modules.stdout).toMatch(new RegExp(`^${name}\\s+@sisyphus/module-${name}`, 'm'));
    // The editor schemas ship as files and match what the installed CLI prints.
    for (const kind of ['job', 'config']) {
      const printed = await inProject('npx', ['--no-install', 'sisyphus', 'schema', kind]);
      const shipped = await readFile(join(project, 'node_modules', '@sisyphus', 'core', 'schemas', `${kind}.schema.json`), 'utf8');
      expect(JSON.parse(printed.stdout), `${kind}.schema.json`).toEqual(JSON.parse(shipped));
    }
  });

  it('runs a real ffmpeg job from a config that lists the installed module packages', async () => {
    const media = join(project, 'media');
    await mkdir(join(media, 'work'), { recursive: true });
    await execa('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', join(media, 'in.mkv')]);
    await writeFile(join(project, 'sisyphus.config.yaml'), [
      'plugins: ["@sisyphus/module-ffmpeg", "@sisyphus/module-cleanup"]',
      'allowedRoots: [media]',
      'workdir: media/work',
      '',
    ].join('\n'));
    await writeFile(join(project, 'job.yaml'), [
      'job_title: "{{ title }}"',
      'tasks:',
      '  - module: ffmpeg',
      '    data:',
      '      sources: ["{{ media }}/in.mkv"]',
      '      source_maps: [{ source: 0, specifier: v, stream: 0 }]',
      '      output_maps: [{ specifier: v, stream: 0, options: { codec: libx264, preset: ultrafast, crf: 30 } }]',
      '      output_file: "{{ media }}/out.mkv"',
      '  - module: cleanup',
      '    data: { copy: [{ source: "{{ media }}/out.mkv", destination: "{{ media }}/done/" }] }',
      '',
    ].join('\n'));
    const run = await inProject('npx', ['--no-install', 'sisyphus', 'run', 'job.yaml', '--var', 'title=installed', '--var', `media=${media}`], { reject: false });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const probe = await execa('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', join(media, 'done', 'out.mkv')]);
    expect(JSON.parse(probe.stdout).streams[0]).toMatchObject({ codec_name: 'h264', nb_read_frames: '10' });
  });

  it('sisyphus server without better-sqlite3 names the package to install', async () => {
    const server = await inProject('npx', ['--no-install', 'sisyphus', 'server', '--port', '0', '--db', join(root, 'none.db')], { reject: false, timeout: 30_000 });
    expect(server.exitCode).toBe(2);
    expect(server.stderr).toMatch(/better-sqlite3.*npm install better-sqlite3/);
  });

  it('with better-sqlite3 and TypeScript added, as a server operator and a TypeScript user would', async () => {
    await inProject('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'better-sqlite3@^12.11.1'], { timeout: INSTALL_MS });
    await inProject('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--save-dev', 'typescript@5.9.3', '@types/node@^20.19.0'], { timeout: INSTALL_MS });
  }, 2 * INSTALL_MS);

  it('a server and a worker from the installed packages run a submitted job', async () => {
    const port = await freePort();
    // Long-running ones straight from the linked bin (npx would not pass a SIGTERM on).
    const sisyphus = join(project, 'node_modules', '.bin', 'sisyphus');
    const server = inProject(sisyphus, ['server', '--port', String(port), '--db', join(root, 'server.db')], { reject: false, all: true });
    const worker = inProject(sisyphus, ['worker', '--config', 'sisyphus.config.yaml'], {
      reject: false, all: true, env: { API_URL: `http://127.0.0.1:${port}`, XDG_CONFIG_HOME: join(root, 'worker-state') },
    });
    try {
      await until('the server', async () => (await fetch(`http://127.0.0.1:${port}/queue`).catch(() => undefined))?.ok);
      // A worker resolves relative paths against its work folder: absolute ones here.
      const media = join(project, 'media');
      await writeFile(join(project, 'tidy.yaml'), `job_title: tidy\ntasks:\n  - module: cleanup\n    data: { copy: [{ source: ${media}/in.mkv, destination: ${media}/copied/ }] }\n`);
      const submit = await inProject('npx', ['--no-install', 'sisyphus', 'submit', 'tidy.yaml', '--wait', '--api', `http://127.0.0.1:${port}`], { reject: false, timeout: 120_000 });
      expect(submit.exitCode, `${submit.stdout}\n${submit.stderr}`).toBe(0);
      expect(existsSync(join(project, 'media', 'copied', 'in.mkv'))).toBe(true);
      // The dashboard ships inside the server package: the page and every file it names are served, with no build here.
      const page = await fetch(`http://127.0.0.1:${port}/ui/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThanOrEqual(1);
      for (const asset of assets) expect((await fetch(`http://127.0.0.1:${port}${asset}`)).status, asset).toBe(200);
    } finally {
      worker.kill('SIGTERM');
      server.kill('SIGTERM');
      const [w, s] = await Promise.all([worker, server]);
      expect(w.exitCode, w.all).toBe(0);
      expect(s.exitCode, s.all).toBe(0);
    }
  }, 180_000);

  it('a TypeScript consumer compiles against the installed declarations (the READMEs\' snippets included)', async () => {
    const src = join(project, 'ts');
    await mkdir(src, { recursive: true });
    // Each README's TypeScript blocks, as a user would paste them.
    let n = 0;
    const readmes = [{ name: 'the repository', path: join(repo, 'README.md') }, ...packed.map((p) => ({ name: p.name, path: join(project, 'node_modules', p.name, 'README.md') }))];
    for (const p of readmes) {
      const readme = await readFile(p.path, 'utf8');
      for (const [, code] of readme.matchAll(/```ts\n([\s\S]*?)```/g)) {
        await writeFile(join(src, `readme-${++n}.ts`), `// ${p.name} README\n${code}\nexport {};\n`);
      }
    }
    // The docs' snippets that are whole files (they start with their imports), e.g. a sisyphus.config.ts.
    for (const doc of readdirSync(join(repo, 'docs')).filter((f) => f.endsWith('.md'))) {
      const text = await readFile(join(repo, 'docs', doc), 'utf8');
      for (const [, code] of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
        const imports = ts.preProcessFile(code!, true, true).importedFiles.map((i) => i.fileName);
        const whole = /^\s*(\/\/[^\n]*\n\s*)*import /.test(code!) && imports.every((i) => /^(@sisyphus\/|node:|typebox)/.test(i));
        if (whole) await writeFile(join(src, `docs-${++n}.ts`), `// docs/${doc}\n${code}\nexport {};\n`);
      }
    }
    expect(n, 'README snippets found').toBeGreaterThan(2);
    await writeFile(join(src, 'consumer.ts'), CONSUMER);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        types: ['node'], experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: false,
      },
      include: ['ts'],
    }));
    const tsc = await inProject('npx', ['--no-install', 'tsc', '-p', '.'], { reject: false });
    expect(tsc.exitCode, tsc.stdout + tsc.stderr).toBe(0);
  }, 120_000);

  it('a module made by the scaffold builds and passes its own tests against the installed core', async () => {
    const scaffold = packed.find((p) => p.name === 'create-sisyphus-module');
    expect(scaffold, 'create-sisyphus-module is packed').toBeTruthy();
    const made = join(root, 'authors');
    await mkdir(made);
    const create = await execa(join(project, 'node_modules', '.bin', 'create-sisyphus-module'), ['sisyphus-module-shout'], { cwd: made, reject: false });
    expect(create.exitCode, create.stdout + create.stderr).toBe(0);
    const dir = join(made, 'sisyphus-module-shout');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    // In real life the core comes from the registry; here, from its tarball.
    pkg.devDependencies['@sisyphus/core'] = `file:${tarballOf('@sisyphus/core')}`;
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline'], { cwd: dir, timeout: INSTALL_MS });
    const test = await execa('npm', ['test'], { cwd: dir, reject: false });
    expect(test.exitCode, test.stdout + test.stderr).toBe(0);
    const build = await execa('npm', ['run', 'build'], { cwd: dir, reject: false });
    expect(build.exitCode, build.stdout + build.stderr).toBe(0);
    expect(existsSync(join(dir, 'dist', 'index.js')), 'built').toBe(true);
    // The same scaffold through the core's CLI.
    const viaCli = await inProject('npx', ['--no-install', 'sisyphus', 'new', 'module', 'sisyphus-module-other'], { reject: false });
    expect(viaCli.exitCode, viaCli.stdout + viaCli.stderr).toBe(0);
    expect(existsSync(join(project, 'sisyphus-module-other', 'package.json'))).toBe(true);
  }, INSTALL_MS);
});

/** A consumer using the SDK root and each deliberate subpath, as the docs show them. */
const CONSUMER = `
import { createEngine, defineModule, definePlugin, Type, ValidationError, ErrorCodes, TOKENS, type JobResult } from '@sisyphus/core';
import { createWorker } from '@sisyphus/core/worker';
import { loadConfig } from '@sisyphus/core/config';
import { runTask } from '@sisyphus/core/testing';
import type { Transport } from '@sisyphus/core/transport';
import ffmpeg, { type FfmpegData } from '@sisyphus/module-ffmpeg';
import cleanup from '@sisyphus/module-cleanup';
import mkvmerge from '@sisyphus/module-mkvmerge';
import { startServer } from '@sisyphus/server';
import { BullmqStore } from '@sisyphus/redis';
import { createHttpTransport } from '@sisyphus/transport-http';

const shout = defineModule({
  name: 'shout',
  schema: Type.Object({ text: Type.String() }),
  settingsSchema: Type.Object({ times: Type.Number({ default: 1 }) }),
  setup: (ctx) => ({
    validate() {
      if (ctx.data.text === '') throw new ValidationError('text: empty', { code: ErrorCodes.VALIDATION });
    },
    run: () => ctx.logger.info(ctx.data.text.toUpperCase().repeat(ctx.settings.times)),
  }),
});
export const plugin = definePlugin({ name: 'shout', version: '1.0.0', modules: [shout] });

const data: FfmpegData = {
  sources: ['in.mkv'],
  source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
  output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264' } }],
  output_file: 'out.mkv',
};

export async function main(transport: Transport): Promise<JobResult> {
  const engine = createEngine({ plugins: [ffmpeg, cleanup, mkvmerge, plugin], allowedRoots: ['/srv'] });
  engine.on('progress', (e) => console.log(e.percent));
  const worker = createWorker({ engine, transport, workerId: 'w1' });
  void worker;
  void (await loadConfig());
  void runTask;
  void startServer;
  void BullmqStore;
  void createHttpTransport;
  void TOKENS.Logger;
  return engine.run({ job_title: 't', tasks: [{ module: 'ffmpeg', data }] });
}
`;
