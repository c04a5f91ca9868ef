import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// An installation that lacks some of our packages: the built core (and, in
// the second one, the built server) copied into a node_modules of their own,
// every third-party dependency linked from the repository's, none of the
// other @sisyphus packages. Each missing package must be named, with the
// command that installs it.
const root = fileURLToPath(new URL('..', import.meta.url));
let dir = '';

/** A folder with node_modules holding core (and `extra` of our packages) and every third-party package. */
async function install(name: string, extra: Record<string, string> = {}): Promise<string> {
  const at = join(dir, name);
  const modules = join(at, 'node_modules');
  await mkdir(join(modules, '@sisyphus'), { recursive: true });
  for (const entry of await readdir(join(root, 'node_modules'))) {
    if (entry === '@sisyphus' || entry.startsWith('.')) continue;
    await symlink(join(root, 'node_modules', entry), join(modules, entry));
  }
  for (const [pkg, folder] of Object.entries({ core: 'core', ...extra })) {
    const target = join(modules, '@sisyphus', pkg);
    await mkdir(target, { recursive: true });
    await cp(join(root, folder, 'package.json'), join(target, 'package.json'));
    await cp(join(root, folder, 'dist'), join(target, 'dist'), { recursive: true });
  }
  return at;
}

const sisyphus = (at: string, args: string[]) =>
  execa(process.execPath, [join(at, 'node_modules', '@sisyphus', 'core', 'dist', 'cli', 'bin.js'), ...args], {
    cwd: at,
    reject: false,
    timeout: 30_000,
    env: { XDG_CONFIG_HOME: join(at, 'xdg'), API_URL: 'http://127.0.0.1:9', SISYPHUS_API: '', HOST_UUID: '' },
  });

let coreOnly = '';
let withServer = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-missing-'));
  coreOnly = await install('core-only');
  withServer = await install('with-server', { server: 'plugins/server' });
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a missing package is named with its install command', () => {
  it('a worker whose config names transport redis, without @sisyphus/redis', async () => {
    await writeFile(join(coreOnly, 'redis-worker.yaml'), 'transport:\n  name: redis\n  options:\n    connection: redis://127.0.0.1:6379/0\n');
    const r = await sisyphus(coreOnly, ['worker', '--config', 'redis-worker.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('sisyphus: SIS_PLUGIN_NOT_FOUND transport "redis" needs the @sisyphus/redis package, which is not installed: npm install @sisyphus/redis');
  });

  it('a worker with the default transport, without @sisyphus/transport-http', async () => {
    const r = await sisyphus(coreOnly, ['worker']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('sisyphus: SIS_PLUGIN_NOT_FOUND transport "http" needs the @sisyphus/transport-http package, which is not installed: npm install @sisyphus/transport-http');
  });

  it('a module package named in plugins that is not installed (a subpath names its package)', async () => {
    await writeFile(join(coreOnly, 'plugins.yaml'), 'plugins:\n  - "@sisyphus/module-handbrake/plugin"\n');
    const r = await sisyphus(coreOnly, ['modules', '--config', 'plugins.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe(`sisyphus: SIS_PLUGIN_NOT_FOUND plugin "@sisyphus/module-handbrake/plugin" not found from ${coreOnly}: is it installed? (npm install @sisyphus/module-handbrake)`);
  });

  it('sisyphus server without @sisyphus/server', async () => {
    const r = await sisyphus(coreOnly, ['server', '--port', '0', '--db', ':memory:']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('sisyphus: SIS_PLUGIN_NOT_FOUND sisyphus server needs the @sisyphus/server package, which is not installed: npm install @sisyphus/server');
  });

  it('sisyphus server --store redis://... without @sisyphus/redis', async () => {
    const r = await sisyphus(withServer, ['server', '--port', '0', '--store', 'redis://127.0.0.1:6379/0']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      'sisyphus: SIS_PLUGIN_NOT_FOUND a Redis store (--store redis://127.0.0.1:6379/0) needs the @sisyphus/redis package, which is not installed: npm install @sisyphus/redis',
    );
  });
});
