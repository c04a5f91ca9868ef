import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectWorkerCapabilities } from '@sisyphus/core/worker';
import { jobRequirements } from '@sisyphus/core';
import ffmpegPlugin from '@sisyphus/module-ffmpeg';
import handbrakePlugin from '@sisyphus/module-handbrake';
import mkvmergePlugin from '@sisyphus/module-mkvmerge';
import mkvextractPlugin from '@sisyphus/module-mkvextract';
import cleanupPlugin from '@sisyphus/module-cleanup';
import { createServer, openSqliteStore } from '@sisyphus/server';
import { until } from './support/processes.js';

// What a worker can do, found with the real binaries of this machine, and sent
// by a real `sisyphus worker` process in its heartbeats to a real server.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const modules = [ffmpegPlugin, handbrakePlugin, mkvmergePlugin, mkvextractPlugin, cleanupPlugin].flatMap((p) => p.modules);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('worker capabilities (real binaries)', () => {
  it('each shipped module reports its binaries with their versions', async () => {
    const caps = await detectWorkerCapabilities({ modules, gpus: [] });
    expect(caps.modules).toEqual(['cleanup', 'ffmpeg', 'handbrake', 'mkvextract', 'mkvmerge']);
    expect(caps.binaries).toEqual({
      HandBrakeCLI: expect.stringMatching(/^\d+\.\d+\.\d+/),
      ffmpeg: expect.stringMatching(/^\d+\.\d+/),
      ffprobe: expect.stringMatching(/^\d+\.\d+/),
      mkvextract: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      mkvmerge: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    expect(caps.encoders).toContain('libx264');
  });

  it('what the shipped modules require is what they detect: a job of each can run on this machine', async () => {
    const registry = { get: (name: string) => {
      const module = modules.find((m) => m.name === name);
      return module ? { module } : undefined;
    } };
    const caps = await detectWorkerCapabilities({ modules, gpus: [] });
    const have = new Set([...caps.modules.map((m) => `module:${m}`), ...Object.keys(caps.binaries).map((b) => `binary:${b}`), ...caps.encoders.map((e) => `encoder:${e}`)]);
    const job = {
      job_title: 'all',
      tasks: [
        { module: 'ffmpeg', data: { sources: ['/a.mkv'], source_maps: [{ source: 0 }], output_maps: [{ specifier: 'v', options: { 'c:v': 'libx264' } }, { specifier: 'a', options: { c: 'aac' } }], output_file: '/b.mkv' } },
        { module: 'handbrake', data: { source: '/a.mkv', output_file: '/c.mkv', video_options: { encoder: 'x264' } } },
        { module: 'mkvmerge', data: {} },
        { module: 'mkvextract', data: {} },
        { module: 'cleanup', data: {} },
      ],
    };
    const needs = (await jobRequirements(job, registry, async () => undefined))!;
    expect(needs.all.filter((n) => !have.has(n))).toEqual([]);
    // NVENC needs an NVIDIA device this machine does not have.
    const gpuJob = { job_title: 'gpu', tasks: [{ module: 'handbrake', data: { source: '/a.mkv', output_file: '/c.mkv', video_options: { encoder: 'nvenc_h265' } } }] };
    expect((await jobRequirements(gpuJob, registry, async () => undefined))!.all).toContain('gpu:nvidia');
    expect(caps.gpus).toEqual([]);
  });

  it('`sisyphus worker` sends them in its heartbeats, tags from worker.tags and --tag, from the startup heartbeat on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sis-caps-'));
    const server = await createServer(openSqliteStore(':memory:'), {});
    const api = await server.app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    await writeFile(join(dir, 'sisyphus.config.json'), JSON.stringify({ worker: { tags: ['Fast-Disk', 'gpu-less'] } }));
    const env: NodeJS.ProcessEnv = { ...process.env, API_URL: api, HOST_UUID: 'caps-worker', XDG_CONFIG_HOME: dir, HEARTBEAT_INTERVAL: '0.2', QUEUE_POLL_INTERVAL: '0.1' };
    for (const name of ['HOSTNAME_OVERRIDE', 'SISYPHUS_API', 'SISYPHUS_TOKEN']) delete env[name];
    const child: ChildProcess = spawn(process.execPath, [bin, 'worker', '-c', join(dir, 'sisyphus.config.json'), '--tag', 'night', '--tag', 'NIGHT'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });

    const seen = await until('the worker\'s heartbeat', async () => {
      // An unknown worker is answered too (its attributes): wait for a heartbeat's status.
      const res = await fetch(`${api}/workers/caps-worker`);
      const body = res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
      return body?.status ? body : undefined;
    });
    // Its first heartbeat (the startup one) already carries them.
    const capabilities = seen.capabilities as Record<string, unknown>;
    expect(capabilities).toMatchObject({
      modules: expect.arrayContaining(['ffmpeg', 'cleanup']),
      binaries: expect.objectContaining({ ffmpeg: expect.stringMatching(/^\d/), ffprobe: expect.stringMatching(/^\d/) }),
      encoders: expect.arrayContaining(['libx264', 'aac']),
      tags: ['fast-disk', 'gpu-less', 'night'],
    });
    const line = output.split('\n').find((l) => l.includes('capabilities: '));
    expect(line).toMatch(/binaries: .*ffmpeg \d/);
    expect(line).toMatch(/tags: fast-disk, gpu-less, night/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a bad --tag stops `sisyphus worker` with a one-line usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sis-caps-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'sisyphus.config.json'), JSON.stringify({ worker: { tags: ['gpu'] } }));
    const child = spawn(process.execPath, [bin, 'worker', '-c', join(dir, 'sisyphus.config.json'), '--tag', 'two words'], {
      cwd: dir,
      env: { ...process.env, API_URL: 'http://127.0.0.1:9', XDG_CONFIG_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`--tag must be a tag: a letter or digit, then letters, digits, '.', '_' or '-' (got "two words")`);
  });
});
