import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';
import { CliProcesses, apiCall, freePort, logLines, outputTail, until } from './support/processes.js';
import { deleteKeys } from './support/redis-keys.js';

// The README's scale-out example as written: `examples/redis-worker.yaml` (the
// file the README shows) with a server on Redis, running the seed's job on a
// real sample. The only change to the file: a fresh key prefix, so the test
// shares no queue with anybody on this Redis. Its relative paths (dataDir,
// workdir, allowedRoots) resolve in a copy of the layout they expect.
const REDIS = 'redis://127.0.0.1:6379/0';
const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'core/dist/cli/bin.js');
const example = join(repo, 'examples/redis-worker.yaml');
const prefix = `sis-test-${randomUUID()}`;
let dir = '';
let api = '';
let text = '';

const cli = new CliProcesses(bin, () => dir);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-redis-example-'));
  text = await readFile(example, 'utf8');
  // The example's layout: the config in examples/ beside data/, the sample folder at the top.
  expect(text.match(/^ {4}prefix: sisyphus$/gm), 'the prefix line of examples/redis-worker.yaml').toHaveLength(1);
  await mkdir(join(dir, 'examples'));
  await writeFile(join(dir, 'examples', 'redis-worker.yaml'), text.replace(/^ {4}prefix: sisyphus$/m, `    prefix: ${prefix}`));
  await cp(join(repo, 'examples', 'data'), join(dir, 'examples', 'data'), { recursive: true });
  for (const sub of ['work', 'done']) await mkdir(join(dir, '.sisyphus-sample', sub), { recursive: true });
  await makeSample(join(dir, '.sisyphus-sample', 'in', 'source.mkv'), { duration: 1, size: '160x120' });

  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  const env = { XDG_DATA_HOME: join(dir, 'data-home'), XDG_CONFIG_HOME: join(dir, 'config-home') };
  cli.start('server', ['server', '--store', REDIS, '--store-prefix', prefix, '--port', String(port)], env);
  await until('the server', async () => (await fetch(`${api}/status/health`).then((r) => r.ok, () => false)) || undefined);
  cli.start('worker', ['worker', '--config', join(dir, 'examples', 'redis-worker.yaml')], env);
  await until('the worker on Redis', async () => (await apiCall<{ workers: unknown[] }>(api, 'GET', '/workers')).json.workers.length === 1 || undefined, 30_000);
}, 120_000);

afterAll(async () => {
  await cli.killAll();
  await deleteKeys(REDIS, prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('examples/redis-worker.yaml (the README\'s scale-out worker)', () => {
  it('the README shows the file as it is', async () => {
    const readme = await readFile(join(repo, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`yaml\n${text}\`\`\``);
  });

  it('takes the seed job from the server on Redis and runs it: option sets from dataDir, files in workdir, inside allowedRoots', async () => {
    const sample = join(dir, '.sisyphus-sample');
    const submitted = await execa(
      process.execPath,
      [
        bin, 'submit', '--api', api, join(repo, 'examples/jobs/seed-example.json'),
        '--var', 'job_title=It was a dark and stormy night',
        '--var', `source_file=${join(sample, 'in', 'source.mkv')}`,
        '--var', 'video_title=Dark & Stormy',
        '--var', 'output_file=dark-and-stormy.mkv',
        '--var', `done_dir=${join(sample, 'done')}`,
        '--wait',
      ],
      { reject: false, timeout: 120_000 },
    );
    const tails = cli.list.map((p) => `--- ${p.name}\n${outputTail(p, 40)}`).join('\n');
    expect(submitted.exitCode, `${submitted.stderr}\n${tails}`).toBe(0);

    const final = join(sample, 'done', 'dark-and-stormy.mkv');
    expect(existsSync(final)).toBe(true);
    expect(await readdir(join(sample, 'work'))).toEqual([]);
    const probe = JSON.parse((await execa('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', final])).stdout);
    expect(probe.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`)).toEqual([
      'video:hevc', 'audio:opus', 'audio:opus', 'subtitle:subrip',
    ]);

    // It ran on the direct Redis link, with the file's settings (allowedRoots set: no warning about it).
    const worker = logLines(cli.list.find((p) => p.name === 'worker')!);
    expect(worker).toContainEqual(expect.objectContaining({ component: 'transport', message: `redis transport: connected (prefix ${prefix})` }));
    expect(worker.filter((l) => l.message.includes('allowedRoots is not set'))).toEqual([]);
    const id = submitted.stdout.trim().split('\n')[0]!;
    const job = (await apiCall<{ state: string; worker_id: string }>(api, 'GET', `/jobs/${id}`)).json;
    expect(job.state).toBe('completed');
    expect(worker.filter((l) => l.fields.jobId === id && l.message === 'running').map((l) => l.fields.module)).toEqual(['ffmpeg', 'mkvmerge', 'cleanup']);
  }, 180_000);
});
