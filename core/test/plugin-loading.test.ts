import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, ErrorCodes, definePlugin, defineModule, Type } from '@sisyphus/core';
import { buildRegistry, loadConfig, loadPlugins, createEngineFromConfig } from '@sisyphus/core/config';
import { tempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** A plugin file (plain ESM) providing the given module names. */
function pluginSource(name: string, modules: string[], extra = ''): string {
  return `import { Type, defineModule, definePlugin } from '@sisyphus/core';
${extra}
export default ${extra ? 'patch(' : ''}definePlugin({ name: ${JSON.stringify(name)}, version: '2.0.0', modules: [${modules
    .map((m) => `defineModule({ name: ${JSON.stringify(m)}, schema: Type.Object({}), setup: (ctx) => ({ run() { ctx.logger.info('${m} ran'); } }) })`)
    .join(', ')}] })${extra ? ')' : ''};\n`;
}

/** A folder (inside the repo, so @sisyphus/core resolves) holding plugin files and configs. */
async function fixtureDir(): Promise<string> {
  const d = await tempDir();
  // Let plain-JS plugins in the temp folder import @sisyphus/core.
  await mkdir(join(d, 'node_modules', '@sisyphus'), { recursive: true });
  await symlink(join(repo, 'core'), join(d, 'node_modules', '@sisyphus', 'core'));
  await writeFile(join(d, 'package.json'), '{"name":"fixture","private":true,"type":"module"}');
  await writeFile(join(d, 'a.mjs'), pluginSource('plugin-a', ['echo', 'alpha']));
  await writeFile(join(d, 'b.mjs'), pluginSource('plugin-b', ['echo']));
  await writeFile(join(d, 'not-plugin.mjs'), 'export default { hello: "world" };\n');
  await writeFile(join(d, 'old.mjs'), pluginSource('plugin-old', ['old'], 'const patch = (p) => ({ ...p, coreVersion: "9.1.0" });'));
  await writeFile(join(d, 'broken.mjs'), 'export default definitely not javascript;\n');
  return d;
}

async function loadError(dir: string, plugins: string[]): Promise<ConfigError> {
  try {
    await writeFile(join(dir, 'sisyphus.config.json'), JSON.stringify({ plugins }));
    await createEngineFromConfig(await loadConfig({ cwd: dir }));
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected a startup error');
}

describe('plugin loading: startup errors name the culprit', () => {
  it('plugin package not found', async () => {
    const d = await fixtureDir();
    const e = await loadError(d, ['sisyphus-module-nope']);
    expect(e.code).toBe(ErrorCodes.PLUGIN_NOT_FOUND);
    expect(e.message).toBe(`plugin "sisyphus-module-nope" not found from ${d}: is it installed? (npm install sisyphus-module-nope)`);
    const p = await loadError(d, ['./missing.mjs']);
    expect(p.code).toBe(ErrorCodes.PLUGIN_NOT_FOUND);
    expect(p.message).toContain(join(d, 'missing.mjs'));
  });

  it('not a plugin', async () => {
    const e = await loadError(await fixtureDir(), ['./not-plugin.mjs']);
    expect(e.code).toBe(ErrorCodes.NOT_A_PLUGIN);
    expect(e.message).toBe('./not-plugin.mjs is not a Sisyphus plugin: its default export must be definePlugin({...})');
  });

  it('a plugin that fails to load', async () => {
    const e = await loadError(await fixtureDir(), ['./broken.mjs']);
    expect(e.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(e.message).toMatch(/^plugin "\.\/broken\.mjs" failed to load from .*broken\.mjs: /);
  });

  it('duplicate module name, naming both plugins', async () => {
    const e = await loadError(await fixtureDir(), ['./a.mjs', './b.mjs']);
    expect(e.code).toBe(ErrorCodes.DUPLICATE_MODULE);
    expect(e.message).toBe('module "echo" is provided by two plugins: plugin-a (./a.mjs) and plugin-b (./b.mjs); enable only one');
  });

  it('plugin built for another core major version', async () => {
    const e = await loadError(await fixtureDir(), ['./old.mjs']);
    expect(e.code).toBe(ErrorCodes.PLUGIN_INCOMPATIBLE);
    expect(e.message).toMatch(/^plugin plugin-old \(\.\/old\.mjs\) was built for @sisyphus\/core 9\.1\.0, but this is 0\.\d+\.\d+: rebuild it against core 0\.\d+\.x$/);
  });

  it('an enabled module nobody provides, and a bad config field', async () => {
    const d = await fixtureDir();
    await writeFile(join(d, 'sisyphus.config.json'), JSON.stringify({ plugins: ['./a.mjs'], modules: ['alpha', 'beta'] }));
    await expect(createEngineFromConfig(await loadConfig({ cwd: d }))).rejects.toThrow(
      'enabled module "beta" is not provided by any plugin (available: alpha, echo)',
    );
    await writeFile(join(d, 'sisyphus.config.json'), JSON.stringify({ plugins: './a.mjs', allowedRoot: ['/'] }));
    await expect(loadConfig({ cwd: d })).rejects.toThrow(`${join(d, 'sisyphus.config.json')}: allowedRoot is not an allowed field; plugins must be an array`);
  });

  it('the modules allowlist keeps only the listed modules', async () => {
    const d = await fixtureDir();
    await writeFile(join(d, 'sisyphus.config.json'), JSON.stringify({ plugins: ['./a.mjs'], modules: ['alpha'] }));
    const engine = await createEngineFromConfig(await loadConfig({ cwd: d }));
    expect(engine.modules.names()).toEqual(['alpha']);
  });

  it('buildRegistry accepts the same plugin object twice without a duplicate error', () => {
    const m = defineModule({ name: 'm', schema: Type.Object({}), setup: () => ({ run() {} }) });
    const p = definePlugin({ name: 'p', version: '1.0.0', modules: [m] });
    expect(buildRegistry([{ plugin: p, source: 'x' }, { plugin: p, source: 'y' }]).names()).toEqual(['m']);
  });

  it('with no config at all the shipped modules are available (embedded default)', async () => {
    const loaded = await loadConfig({ cwd: await tempDir() });
    expect(loaded.filepath).toBeUndefined();
    const plugins = await loadPlugins(undefined, loaded.dir);
    expect(plugins.map((p) => p.plugin.name)).toContain('@sisyphus/module-cleanup');
  });

  it.each([
    ['sisyphus.config.yaml', 'plugins:\n  - ./a.mjs\n'],
    ['.sisyphusrc', '{"plugins": ["./a.mjs"]}'],
    ['sisyphus.config.mjs', 'export default { plugins: ["./a.mjs"] };'],
    ['sisyphus.config.ts', 'const plugins: string[] = ["./a.mjs"];\nexport default { plugins };'],
    ['package.json', '{"name":"fixture","private":true,"type":"module","sisyphus":{"plugins":["./a.mjs"]}}'],
  ])('finds %s by searching upward from a subfolder', async (name, body) => {
    const d = await fixtureDir();
    await writeFile(join(d, name), body);
    await mkdir(join(d, 'sub', 'deeper'), { recursive: true });
    const loaded = await loadConfig({ cwd: join(d, 'sub', 'deeper') });
    expect(loaded.filepath).toBe(join(d, name));
    const engine = await createEngineFromConfig(loaded);
    expect(engine.modules.names()).toEqual(['alpha', 'echo']);
  });
});

describe('a .ts config', () => {
  it("leaves nothing in the temp folder: jiti's file cache there is shared between users (secrets readable, code plantable)", async () => {
    const d = await fixtureDir();
    await writeFile(join(d, 'sisyphus.config.ts'), 'const token: string = "TOPSECRET-admin-token-123456";\nexport default { plugins: ["./a.mjs"], api: { token } };');
    const tmp = await tempDir();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const loaded = await loadConfig({ cwd: d });
      expect((loaded.config as { api?: { token?: string } }).api?.token).toBe('TOPSECRET-admin-token-123456');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(await readdir(tmp, { recursive: true })).toEqual([]);
  });

  it('with a syntax error: one line naming the file, line and column', async () => {
    const d = await fixtureDir();
    await writeFile(join(d, 'sisyphus.config.ts'), 'export default {\n  plugins: [\n');
    const error = await loadConfig({ cwd: d }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot load configuration: ${join(d, 'sisyphus.config.ts')}:3:0: .*Unexpected token`));
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('plugin discovery from a folder where packages are really installed', () => {
  let dir = '';
  let bin = '';

  beforeAll(async () => {
    // Not tempDir(): that one is removed after each test.
    dir = await mkdtemp(join(tmpdir(), 'sis-install-'));
    // Pack core and the example module as npm would publish them, then install both.
    const packs = join(dir, 'packs');
    await mkdir(packs);
    for (const ws of ['core', 'examples/checksum-module']) {
      await execa('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: join(repo, ws) });
    }
    const { stdout } = await execa('ls', [packs]);
    const [checksumTgz, coreTgz] = stdout.split('\n').sort((a, b) => (a.startsWith('sisyphus-core') ? 1 : b.startsWith('sisyphus-core') ? -1 : 0));
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'site', private: true, dependencies: { '@sisyphus/core': `file:packs/${coreTgz}`, 'sisyphus-module-checksum': `file:packs/${checksumTgz}` } }),
    );
    await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
    await mkdir(join(dir, 'local'));
    await writeFile(join(dir, 'local', 'index.mjs'), pluginSource('local-plugin', ['shout']));
    await writeFile(join(dir, 'sisyphus.config.yaml'), 'plugins:\n  - sisyphus-module-checksum\n  - ./local/index.mjs\nsettings:\n  checksum:\n    defaultAlgorithm: md5\n');
    bin = join(dir, 'node_modules', '.bin', 'sisyphus');
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the installed package and the one given by relative path', async () => {
    const r = await execa(bin, ['modules', '--json'], { cwd: dir });
    expect(JSON.parse(r.stdout)).toEqual([
      { name: 'checksum', plugin: 'sisyphus-module-checksum', version: '1.0.0', description: expect.any(String) },
      { name: 'shout', plugin: 'local-plugin', version: '2.0.0', description: '' },
    ]);
  });

  it('runs a job with both, using module settings from the config', async () => {
    await writeFile(join(dir, 'data.bin'), 'hello');
    await writeFile(join(dir, 'job.json'), JSON.stringify({ job_title: 'installed', tasks: [{ module: 'checksum', data: { files: ['data.bin'] } }, { module: 'shout', data: {} }] }));
    const r = await execa(bin, ['run', 'job.json'], { cwd: dir });
    expect(r.stdout).toContain(`5d41402abc4b2a76b9719d911017c592  ${join(dir, 'data.bin')}`);
    expect(r.stdout).toContain('[2/2 shout] shout ran');
  });

  it('without a config, the installed core alone has no shipped modules and says so', async () => {
    const bare = await tempDir();
    await writeFile(join(bare, 'package.json'), '{}');
    const r = await execa(bin, ['modules'], { cwd: bare });
    expect(r.stdout).toBe('no modules available (check the plugins list of your config)');
  });
});
