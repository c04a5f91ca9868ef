import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRegistry, type LoadedPlugin } from '@sisyphus/core/config';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, openSqliteStore, type SisyphusServer } from '@sisyphus/server';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'core/dist/cli/bin.js');

const dirs: string[] = [];
const servers: SisyphusServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

/** A folder where no config is found (an empty package.json stops the search): the shipped modules. */
async function bareDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sis-schema-'));
  dirs.push(dir);
  await writeFile(join(dir, 'package.json'), '{"private": true}\n');
  return dir;
}

function sisyphus(args: string[], cwd: string, env: Record<string, string> = {}) {
  return execa(process.execPath, [bin, ...args], { cwd, reject: false, env: { NO_COLOR: '1', ...env } });
}

// Ajv in its strictest mode (unknown keywords or formats, keyword/type mismatches and `required`
// naming undeclared properties are errors), as an editor or a CI check might run it.
function compile(schema: unknown): ValidateFunction {
  return new Ajv({ strict: true, strictRequired: true, allErrors: true }).compile(schema as object);
}

function errorsOf(validate: ValidateFunction, value: unknown): ErrorObject[] {
  return validate(value) ? [] : validate.errors ?? [];
}

async function schemaOf(kind: 'job' | 'config', args: string[] = []): Promise<{ text: string; schema: unknown }> {
  const r = await sisyphus(['schema', kind, ...args], await bareDir());
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return { text: `${r.stdout}\n`, schema: JSON.parse(r.stdout) };
}

const seedJob = async () => JSON.parse(await readFile(join(repo, 'examples/jobs/seed-example.json'), 'utf8'));

describe('sisyphus schema job', () => {
  it('equals the shipped core/schemas/job.schema.json (run scripts/write-schemas.mjs after a schema change)', async () => {
    const { text } = await schemaOf('job');
    expect(text).toBe(await readFile(join(repo, 'core/schemas/job.schema.json'), 'utf8'));
  });

  it('accepts the seed example (with its $schema line) and a YAML job with placeholders', async () => {
    const validate = compile((await schemaOf('job')).schema);
    expect(errorsOf(validate, await seedJob())).toEqual([]);
    const yaml = [
      '# yaml-language-server: $schema=./node_modules/@sisyphus/core/schemas/job.schema.json',
      'job_name: "Encode {{ show }}"',
      'priority: "{{ priority }}"',
      'tasks:',
      '  - module: ffmpeg',
      '    data:',
      '      sources: ["{{ source }}"]',
      '      source_maps: [{ source: 0, specifier: "{{ kind }}", stream: "{{ stream }}" }]',
      '      output_maps: [{ specifier: v, options: { codec: libx265, crf: 20 } }]',
      '      output_file: "{{ dir }}/out.mkv"',
      '      overwrite: true',
      '  - module: mkvmerge',
      '    data:',
      '      sources: [{ filename: "{{ dir }}/out.mkv" }]',
      '      tracks: [{ source: 0, track: 0, options: { language: eng } }]',
      '      output_file: final.mkv',
      '  - module: cleanup',
      '    data: { delete: ["{{ dir }}/out.mkv"] }',
    ].join('\n');
    expect(errorsOf(validate, parseYaml(yaml))).toEqual([]);
  });

  it('refuses a misspelled ffmpeg key, a wrong type and an unknown module, each at its path', async () => {
    const validate = compile((await schemaOf('job')).schema);
    const misspelled = await seedJob();
    misspelled.tasks[0].data.ouput_file = misspelled.tasks[0].data.output_file;
    expect(errorsOf(validate, misspelled)).toContainEqual(
      expect.objectContaining({ instancePath: '/tasks/0/data', keyword: 'additionalProperties', params: { additionalProperty: 'ouput_file' } }),
    );
    const wrongType = await seedJob();
    wrongType.tasks[1].data.tracks[0].track = 'first';
    expect(errorsOf(validate, wrongType)).toContainEqual(expect.objectContaining({ instancePath: '/tasks/1/data/tracks/0/track', keyword: 'type', params: { type: 'integer' } }));
    const badEnum = await seedJob();
    badEnum.tasks[0].data.source_maps[0].specifier = 'x';
    expect(errorsOf(validate, badEnum).map((e) => e.instancePath)).toContain('/tasks/0/data/source_maps/0/specifier');
    const unknown = await seedJob();
    unknown.tasks[2].module = 'cleanpu';
    expect(errorsOf(validate, unknown)).toContainEqual(
      expect.objectContaining({ instancePath: '/tasks/2/module', keyword: 'enum', params: { allowedValues: ['cleanup', 'ffmpeg', 'handbrake', 'mkvextract', 'mkvmerge'] } }),
    );
  });

  it('describes the modules the config provides (--config), and writes --out', async () => {
    const dir = await bareDir();
    await writeFile(join(dir, 'only-cleanup.yaml'), 'modules: [cleanup]\n');
    const out = join(dir, 'nested/job.schema.json');
    const r = await sisyphus(['schema', 'job', '--config', 'only-cleanup.yaml', '--out', out], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    const validate = compile(JSON.parse(await readFile(out, 'utf8')));
    expect(errorsOf(validate, { job_title: 't', tasks: [{ module: 'cleanup', data: { delete: ['a'] } }] })).toEqual([]);
    expect(errorsOf(validate, await seedJob()).map((e) => e.instancePath)).toContain('/tasks/0/module');
    const loose = await sisyphus(['schema', 'job', '--config', 'only-cleanup.yaml', '--allow-unknown-modules'], dir);
    expect(errorsOf(compile(JSON.parse(loose.stdout)), { job_title: 't', tasks: [{ module: 'ffmpeg', data: { anything: 1 } }] })).toEqual([]);
  });

  it('an unknown kind is a one-line usage error, exit 2', async () => {
    const r = await sisyphus(['schema', 'jobs'], await bareDir());
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown kind "jobs"; expected job or config/);
  });
});

describe('sisyphus schema config', () => {
  it('equals the shipped core/schemas/config.schema.json', async () => {
    const { text } = await schemaOf('config');
    expect(text).toBe(await readFile(join(repo, 'core/schemas/config.schema.json'), 'utf8'));
  });

  it("accepts the examples' configs and refuses a bad one at its path", async () => {
    const validate = compile((await schemaOf('config')).schema);
    for (const file of ['examples/sisyphus.config.yaml', 'examples/seed.config.yaml']) {
      expect(errorsOf(validate, parseYaml(await readFile(join(repo, file), 'utf8'))), file).toEqual([]);
    }
    const bad = { settings: { ffmpeg: { ffmpge: '/usr/bin/ffmpeg' } }, worker: { concurrency: 0 }, server: { tokens: [{ token: 'short', role: 'root' }] } };
    const paths = errorsOf(validate, bad).map((e) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/settings/ffmpeg', '/worker/concurrency', '/server/tokens/0/token', '/server/tokens/0/role']));
  });
});

describe('$schema in files Sisyphus reads', () => {
  it('the example configs (with their yaml-language-server line) load, and a job with $schema validates and runs', async () => {
    const dir = await bareDir();
    const checked = await sisyphus(['modules', '--config', join(repo, 'examples/seed.config.yaml')], dir);
    expect(checked.stderr).toBe('');
    expect(checked.exitCode).toBe(0);
    await writeFile(join(dir, 'a.txt'), 'x');
    await writeFile(join(dir, 'sisyphus.config.json'), JSON.stringify({ $schema: './config.schema.json', workdir: '.' }));
    await writeFile(join(dir, 'job.json'), JSON.stringify({ $schema: './job.schema.json', job_title: 't', tasks: [{ module: 'cleanup', data: { delete: ['a.txt'] } }] }));
    const run = await sisyphus(['run', 'job.json'], dir);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    await expect(readFile(join(dir, 'a.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('the server queues a job with $schema (and does not keep it)', async () => {
    const registry = buildRegistry([{ plugin: cleanupPlugin, source: '@sisyphus/module-cleanup' } as LoadedPlugin]);
    const server = await createServer(openSqliteStore(':memory:'), {}, { registry });
    servers.push(server);
    const post = await server.app.inject({ method: 'POST', url: '/queue', payload: { $schema: './job.schema.json', job_title: 't', tasks: [{ module: 'cleanup', data: { delete: ['a'] } }] } });
    expect(post.statusCode).toBeLessThan(300);
    const polled = (await server.app.inject('/queue/poll')).json();
    expect(polled.job_title).toBe('t');
    expect(polled).not.toHaveProperty('$schema');
  });
});

describe('sisyphus modules NAME', () => {
  it("prints ffmpeg's fields as a table fitted to the terminal width", async () => {
    const r = await sisyphus(['modules', 'ffmpeg'], await bareDir(), { COLUMNS: '100' });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^ffmpeg\s+@sisyphus\/module-ffmpeg /);
    expect(lines).toContainEqual(expect.stringMatching(/^FIELD\s+TYPE\s+REQUIRED\s+DEFAULT/));
    expect(lines).toContainEqual(expect.stringMatching(/^sources\s+string\[\]\s+yes\b/));
    expect(lines).toContainEqual(expect.stringMatching(/^source_maps\[\]\.source\s+integer >= 0\s+yes\b/));
    expect(lines).toContainEqual(expect.stringMatching(/^source_maps\[\]\.specifier\s+"v"\|"V"\|"a"\|"s"\|"d"\|"t"\s+no\b/));
    expect(lines).toContainEqual(expect.stringMatching(/^output_maps\[\]\.options\.<key>\s+string\|number\|boolean\|object\s*$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\s+Name of server-side ffmpeg data/));
    expect(r.stdout).toContain('Settings (settings.ffmpeg in the config):');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('--schema still prints the JSON Schema, which strict Ajv compiles', async () => {
    const r = await sisyphus(['modules', 'ffmpeg', '--schema'], await bareDir());
    expect(r.exitCode).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.title).toBe('ffmpeg task data');
    const validate = compile(schema);
    expect(errorsOf(validate, (await seedJob()).tasks[0].data)).toEqual([]);
    expect(errorsOf(validate, { sources: ['a'], source_maps: [{ source: 0 }], output_file: 'o', overwrite: 'yes' })).toContainEqual(
      expect.objectContaining({ instancePath: '/overwrite' }),
    );
  });
});
