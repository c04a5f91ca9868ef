import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// A plugin developed in its own folder, with its own copy of @sisyphus/core
// (the built core copied into its node_modules, as `npm install` in the
// plugin's dev folder, or `npm link`, leaves it), listed by path in the config
// of a worker that runs this repository's core through the real CLI. A
// decorated class (@injectable) is known only to the tsyringe of the copy that
// decorated it: such a plugin must be refused at start-up, naming the plugin,
// both cores and the fix, instead of failing every job with "TypeInfo not known".
const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'core', 'bin', 'sisyphus.js');
let dir = '';

/** The plugin's source, compiled by the real TypeScript compiler with decorators, as a plugin author's build does. */
const SOURCE = (name: string, modules: string) => `
import { defineModule, definePlugin, inject, injectable, Type, TOKENS, type Logger } from '@sisyphus/core';

interface Text { text: string }

@injectable()
class ShoutTask {
  constructor(@inject(TOKENS.TaskData) private readonly data: Text, @inject(TOKENS.Logger) private readonly logger: Logger) {}
  run() { this.logger.info('SHOUT ' + this.data.text.toUpperCase()); }
}

class WhisperTask {
  static inject = [TOKENS.TaskData, TOKENS.Logger];
  constructor(private readonly data: Text, private readonly logger: Logger) {}
  run() { this.logger.info('whisper ' + this.data.text.toLowerCase()); }
}

const schema = Type.Object({ text: Type.String() });
const all = {
  shout: defineModule({ name: 'shout', schema, task: ShoutTask }),
  whisper: defineModule({ name: 'whisper', schema, task: WhisperTask }),
  echo: defineModule({ name: 'echo', schema, setup: (ctx) => ({ run: () => ctx.logger.info('echo ' + ctx.data.text) }) }),
};
export default definePlugin({ name: ${JSON.stringify(name)}, version: '1.0.0', modules: [${modules}] });
`;

/**
 * A plugin folder with its own @sisyphus/core (package.json, dist, bin copied)
 * and the core's dependencies linked from the repository's node_modules;
 * tsyringe is a real second copy unless `sharedTsyringe`.
 */
async function pluginFolder(name: string, modules: string, options: { sharedTsyringe?: boolean } = {}): Promise<string> {
  const at = join(dir, name);
  const nm = join(at, 'node_modules');
  await mkdir(join(nm, '@sisyphus', 'core'), { recursive: true });
  for (const entry of await readdir(join(repo, 'node_modules'))) {
    if (entry === '@sisyphus' || entry.startsWith('.')) continue;
    if (entry === 'tsyringe' && !options.sharedTsyringe) await cp(join(repo, 'node_modules', entry), join(nm, entry), { recursive: true, dereference: true });
    else await symlink(join(repo, 'node_modules', entry), join(nm, entry));
  }
  const core = join(nm, '@sisyphus', 'core');
  await cp(join(repo, 'core', 'package.json'), join(core, 'package.json'));
  for (const sub of ['dist', 'bin']) await cp(join(repo, 'core', sub), join(core, sub), { recursive: true });
  await writeFile(join(at, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' }));
  const js = ts.transpileModule(SOURCE(name, modules), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, experimentalDecorators: true, emitDecoratorMetadata: true },
  });
  await writeFile(join(at, 'index.js'), js.outputText);
  return at;
}

/** `sisyphus run` of a one-task job in a worker project whose config lists `plugin` by path. */
async function runWith(plugin: string, module: string) {
  const project = await mkdtemp(join(dir, 'worker-'));
  await writeFile(join(project, 'sisyphus.config.json'), JSON.stringify({ plugins: [plugin] }));
  await writeFile(join(project, 'job.json'), JSON.stringify({ job_title: 'copy', tasks: [{ module, data: { text: 'Hi There' } }] }));
  return execa(process.execPath, [cli, 'run', 'job.json', '--config', 'sisyphus.config.json'], {
    cwd: project,
    reject: false,
    timeout: 30_000,
    env: { XDG_CONFIG_HOME: join(project, 'xdg'), NO_COLOR: '1' },
  });
}

let decorated = '';
let portable = '';
let shared = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-core-copy-'));
  [decorated, portable, shared] = await Promise.all([
    pluginFolder('decorated-plugin', 'all.shout, all.whisper'),
    pluginFolder('portable-plugin', 'all.whisper, all.echo'),
    pluginFolder('shared-di-plugin', 'all.shout', { sharedTsyringe: true }),
  ]);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a plugin defined with another copy of @sisyphus/core', () => {
  it('with a decorated class module is refused at start-up, naming the plugin, both cores and the fix', async () => {
    const r = await runWith(decorated, 'shout');
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    const line = r.stderr.trim().split('\n').at(-1)!;
    expect(line).toBe(
      `sisyphus: SIS_PLUGIN_INCOMPATIBLE plugin decorated-plugin (${decorated}) was defined with another copy of @sisyphus/core ` +
        `(${join(decorated, 'node_modules', '@sisyphus', 'core')}) than the one running (${join(repo, 'core')}); ` +
        'its class module "shout" uses decorators (@injectable/@inject), which only the copy that made them can construct. ' +
        "Fix: install the plugin into the worker's project (npm install <the plugin's folder or package>) so it resolves the same @sisyphus/core, or run npm dedupe; " +
        "or list the constructor's tokens in `static inject = [TOKENS...]` instead of decorators",
    );
    expect(r.stdout).not.toContain('SHOUT');
  });

  it('with only `static inject` classes and setup modules loads, and its tasks run', async () => {
    for (const [module, said] of [['whisper', 'whisper hi there'], ['echo', 'echo Hi There']]) {
      const r = await runWith(portable, module!);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toContain(said);
    }
  });

  it('whose copy shares the running core\'s DI (one tsyringe) loads its decorated class, which runs', async () => {
    const r = await runWith(shared, 'shout');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('SHOUT HI THERE');
  });
});
