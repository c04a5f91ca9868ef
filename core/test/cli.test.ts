import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, tempDir, waitFor } from './helpers.js';

const bin = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
const treeConfig = fileURLToPath(new URL('../../test/fixtures/tree.config.yaml', import.meta.url));

function sisyphus(args: string[], cwd?: string) {
  return execa(process.execPath, [bin, ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });
}

async function cleanupJob(dir: string): Promise<string> {
  const job = join(dir, 'job.yaml');
  await writeFile(
    job,
    [
      'job_title: "{{ title }}"',
      'tasks:',
      '  - module: cleanup',
      '    data:',
      '      copy: [{ source: "{{ file }}", destination: "out/" }]',
      '  - module: cleanup',
      '    data:',
      '      delete: ["{{ file }}"]',
    ].join('\n'),
  );
  return job;
}

describe('sisyphus CLI', () => {
  it('run: exit 0, plain log lines when not on a TTY, the job really ran', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'in.txt'), 'x');
    const job = await cleanupJob(d);
    const r = await sisyphus(['run', job, '--var', 'title=Tom & "Jerry" }}', '--var', 'file=in.txt'], d);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('job "Tom & "Jerry" }}" started (2 tasks: cleanup, cleanup)');
    expect(r.stdout).toContain('[1/2 cleanup] 100%');
    expect(r.stdout).toMatch(/job done in/);
    expect(existsSync(join(d, 'out', 'in.txt'))).toBe(true);
    expect(existsSync(join(d, 'in.txt'))).toBe(false);
  });

  it('run --json prints every event as one JSON line, ending with the result', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'in.txt'), 'x');
    const vars = join(d, 'vars.json');
    await writeFile(vars, JSON.stringify({ title: 'J', file: 'in.txt' }));
    const r = await sisyphus(['run', await cleanupJob(d), '--vars', vars, '--json'], d);
    expect(r.exitCode).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'job:start', job_title: 'J', modules: ['cleanup', 'cleanup'] });
    expect(events.filter((e) => e.event === 'task:phase')).toHaveLength(8 + 8);
    expect(events.at(-1)).toMatchObject({ event: 'result', result: { completed: true, job_title: 'J' } });
  });

  it('a failing job exits 1 with one line naming module, task and reason', async () => {
    const d = await tempDir();
    await mkdir(join(d, 'full'));
    await writeFile(join(d, 'full', 'keep.txt'), 'x');
    const r = await sisyphus(['run', await cleanupJob(d), '--var', 'title=t', '--var', 'file=full'], d);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`sisyphus: job failed: SIS_RUN cleanup (task 2, run): delete[0]: ${join(d, 'full')} is a folder that is not empty; only empty folders are deleted`);
  });

  it('an unquoted placeholder that starts a YAML value is refused with the line and the fix', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'job.yaml'), 'job_title: t\ntasks:\n  - module: cleanup\n    data:\n      delete: [x]\n      copy:\n        - source: {{ file }}\n          destination: out/\n');
    const r = await sisyphus(['run', 'job.yaml', '--var', 'file=a'], d);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`sisyphus: SIS_JOB_FILE ${join(d, 'job.yaml')}:7: put quotes around a placeholder that starts a value (- source: "{{ file }}"); unquoted, YAML reads {{ ... }} as a mapping`);
  });

  it('a JSON config that begins with a byte-order mark loads; a broken one says why on one line', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'in.txt'), 'x');
    await writeFile(join(d, 'job.json'), JSON.stringify({ job_title: 'c', tasks: [{ module: 'cleanup', data: { copy: [{ source: 'in.txt', destination: 'out.txt' }] } }] }));
    await writeFile(join(d, 'bom.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ allowedRoots: [d] }))]));
    expect((await sisyphus(['run', 'job.json', '--config', 'bom.json'], d)).exitCode).toBe(0);
    await writeFile(join(d, 'bad.json'), '{"allowedRoots": ["/tmp",],}');
    const bad = await sisyphus(['run', 'job.json', '--config', 'bad.json'], d);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`sisyphus: SIS_CONFIG_INVALID cannot load configuration: JSON Error in ${join(d, 'bad.json')}: Unexpected token`));
  });

  it('a JSON job file that begins with a UTF-8 byte-order mark is read normally', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'in.txt'), 'x');
    const job = { job_title: 'bom', tasks: [{ module: 'cleanup', data: { copy: [{ source: 'in.txt', destination: 'out.txt' }] } }] };
    await writeFile(join(d, 'bom.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(job))]));
    const r = await sisyphus(['run', 'bom.json'], d);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(join(d, 'out.txt'), 'utf8')).toBe('x');
  });

  it('a missing source is bad input found before anything runs: exit 2, naming the field', async () => {
    const d = await tempDir();
    const r = await sisyphus(['run', await cleanupJob(d), '--var', 'title=t', '--var', 'file=missing.txt'], d);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`sisyphus: job failed: SIS_VALIDATION cleanup (task 1, validate): copy[0].source: ${join(d, 'missing.txt')} does not exist (and no earlier task of the job writes it)`);
  });

  it.each([
    [['run', 'nope.yaml'], 'sisyphus: SIS_JOB_FILE'],
    [['run', 'bad.yaml'], 'not valid YAML'],
    [['run', 'job.yaml', '--var', 'title=t'], 'sisyphus: SIS_TEMPLATE unfilled placeholder {{ file }} at tasks[0].data.copy[0].source; unfilled placeholder {{ file }} at tasks[1].data.delete[0]'],
    [['run', 'job.yaml', '--var', 'title'], '--var "title": expected key=value'],
    [['run', 'schema.json'], 'sisyphus: job failed: SIS_VALIDATION cleanup (task 1, validate): copy[0].destination is required'],
    [['run', 'unknown.json'], 'module "ffmpegg" is not available (available: cleanup'],
    [['validate', 'unknown.json'], 'sisyphus: SIS_MODULE_NOT_FOUND ffmpegg (task 1, validate): module "ffmpegg" is not available'],
    [['run'], "error: missing required argument 'job'"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['modules', 'nope'], 'module "nope" is not available'],
    [['run', 'job.yaml', '--config', 'missing.yaml'], 'config file'],
  ])('bad input %j exits 2 with one clear line', async (args, expected) => {
    const d = await tempDir();
    await cleanupJob(d);
    await writeFile(join(d, 'bad.yaml'), 'job_title: [unclosed\n');
    await writeFile(join(d, 'schema.json'), JSON.stringify({ job_title: 't', tasks: [{ module: 'cleanup', data: { copy: [{ source: 'a' }] } }] }));
    await writeFile(join(d, 'unknown.json'), JSON.stringify({ job_title: 't', tasks: [{ module: 'ffmpegg', data: {} }] }));
    const r = await sisyphus(args, d);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--verbose adds the stack trace', async () => {
    const r = await sisyphus(['run', 'nope.yaml', '--verbose'], await tempDir());
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('validate prints the plan and runs nothing', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'in.txt'), 'x');
    const r = await sisyphus(['validate', await cleanupJob(d), '--var', 'title=t', '--var', 'file=in.txt'], d);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        'job "t" is valid: 2 tasks',
        '  1. cleanup (@sisyphus/module-cleanup 0.1.0)',
        `       copy ${join(d, 'in.txt')} -> ${join(d, 'out', 'in.txt')}`,
        '  2. cleanup (@sisyphus/module-cleanup 0.1.0)',
        `       delete ${join(d, 'in.txt')}`,
      ].join('\n'),
    );
    expect(existsSync(join(d, 'in.txt'))).toBe(true);
  });

  it('modules lists modules with plugin and version; NAME --schema prints JSON Schema', async () => {
    const list = await sisyphus(['modules', '--config', treeConfig]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/^cleanup\s+@sisyphus\/module-cleanup 0\.1\.0\s+Delete/m);
    expect(list.stdout).toMatch(/^tree\s+tree-plugin 0\.0\.1\s+Runs a process tree/m);
    const schema = await sisyphus(['modules', 'cleanup', '--schema']);
    expect(schema.exitCode).toBe(0);
    const parsed = JSON.parse(schema.stdout);
    expect(parsed.type).toBe('object');
    expect(Object.keys(parsed.properties)).toEqual(['delete', 'copy', 'move', 'delete_folders']);
  });

  it('Ctrl-C cancels cleanly: children killed, cleanup run, exit 130', async () => {
    const d = await tempDir();
    const pidsFile = join(d, 'pids');
    const marker = join(d, 'marker');
    await writeFile(join(d, 'job.json'), JSON.stringify({ job_title: 'long', tasks: [{ module: 'tree', data: { pids_file: pidsFile, marker } }, { module: 'cleanup', data: { delete: [pidsFile] } }] }));
    const child = execa(process.execPath, [bin, 'run', 'job.json', '--config', treeConfig], { cwd: d, reject: false });
    expect(await waitFor(() => existsSync(pidsFile), 10_000)).toBe(true);
    const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as number[];
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toContain('SIGINT: cancelling the job');
    expect(r.stderr).toContain('job cancelled after');
    expect(pids.some(alive)).toBe(false);
    expect(JSON.parse(await readFile(marker, 'utf8'))).toEqual({ failed: true, cancelled: true, code: 'SIS_CANCELLED' });
    // The second task never ran.
    expect(existsSync(pidsFile)).toBe(true);
  });
});

describe('npx sisyphus in the clone', () => {
  it('runs the built CLI through the bin npm linked at install (a source file, linked before the first build)', async () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const version = await execa('npx', ['--no-install', 'sisyphus', '--version'], { cwd: repo });
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(join(repo, 'core/package.json'), 'utf8')).version);
    const modules = await execa('npx', ['--no-install', 'sisyphus', 'modules'], { cwd: join(repo, 'docs') });
    expect(modules.stdout).toMatch(/^ffmpeg\s+@sisyphus\/module-ffmpeg/m);
  });
});
