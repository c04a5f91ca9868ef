import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer as netServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { startServer, type StartedServer } from '@sisyphus/server';

// The operator commands against a real server on port 0 (auth on: a token per role).
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
const ADMIN = 'admin-token-0123456789';
const SUBMITTER = 'submitter-token-0123456789';
let server: StartedServer;
let dir = '';

const cli = (args: string[], token = ADMIN) =>
  execa(process.execPath, [bin, ...args, '--api', server.url, '--token', token], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-ops-'));
  server = await startServer({
    port: 0,
    db: ':memory:',
    tokens: [
      { token: ADMIN, role: 'admin' },
      { token: SUBMITTER, role: 'submitter' },
    ],
  });
  await writeFile(join(dir, 'job.yaml'), 'job_title: "{{ title }}"\ntasks:\n  - module: cleanup\n    data:\n      delete: ["{{ file }}"]\n');
  await writeFile(join(dir, 'x265.json'), JSON.stringify({ options: { codec: 'libx265', crf: 19 } }));
}, 30_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operator commands', () => {
  it('submit renders the job locally and prints the id; queue ls shows it; jobs show/cancel', async () => {
    const submitted = await cli(['submit', 'job.yaml', '--var', 'title=Tom & Jerry', '--var', 'file=/tmp/none', '--priority', '3'], SUBMITTER);
    expect(submitted.exitCode, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const ls = await cli(['queue', 'ls'], SUBMITTER);
    expect(ls.stdout).toContain(`${id}  queued     Tom & Jerry`);
    const show = JSON.parse((await cli(['jobs', 'show', id], SUBMITTER)).stdout);
    expect(show).toMatchObject({ job_id: id, state: 'queued', priority: 3 });
    expect((await cli(['jobs', 'cancel', id], SUBMITTER)).stdout).toBe('cancelled (removed from the queue)');
    expect((await cli(['jobs', 'ls', '--state', 'cancelled'], SUBMITTER)).stdout).toContain(id);
  });

  it('bad input: unfilled placeholders and server-side rejections exit 2 with one line', async () => {
    const unfilled = await cli(['submit', 'job.yaml', '--var', 'title=t'], SUBMITTER);
    expect(unfilled.exitCode).toBe(2);
    expect(unfilled.stderr.trim()).toBe('sisyphus: SIS_TEMPLATE unfilled placeholder {{ file }} at tasks[0].data.delete[0]');
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ job_title: 't', tasks: [{ module: 'cleanup', data: { delete: [] } }] }));
    const rejected = await cli(['submit', 'bad.json'], SUBMITTER);
    expect(rejected.exitCode).toBe(2);
    expect(rejected.stderr.trim()).toBe('sisyphus: SIS_USAGE POST /queue: 400 invalid job: tasks[0].data.delete must have at least 1 item');
    const forbidden = await cli(['queue', 'clear'], SUBMITTER);
    expect(forbidden.exitCode).toBe(2);
    expect(forbidden.stderr).toContain('403');
    const closedPort = await new Promise<number>((resolve) => {
      const s = netServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const unreachable = await execa(process.execPath, [bin, 'queue', 'ls', '--api', `http://127.0.0.1:${closedPort}`], { reject: false });
    expect(unreachable.exitCode).toBe(3);
    expect(unreachable.stderr.trim()).toBe(`sisyphus: SIS_SERVER_UNREACHABLE cannot reach the server at http://127.0.0.1:${closedPort}: ECONNREFUSED`);
  });

  it('a server that cannot be reached exits 3 from every command that talks to it (not 1, a failed job)', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = netServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const api = `http://127.0.0.1:${closedPort}`;
    const commands = [
      ['submit', 'job.yaml', '--var', 'title=t', '--var', 'file=/tmp/none'],
      ['submit', 'job.yaml', '--var', 'title=t', '--var', 'file=/tmp/none', '--wait'],
      ['jobs', 'ls'],
      ['jobs', 'show', 'some-id'],
      ['jobs', 'cancel', 'some-id'],
      ['queue', 'ls'],
      ['queue', 'pause'],
      ['workers', 'ls'],
      ['data', 'ls', 'ffmpeg'],
    ];
    const results = await Promise.all(commands.map((args) => execa(process.execPath, [bin, ...args, '--api', api], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } })));
    results.forEach((r, i) => {
      expect(r.exitCode, `${commands[i]!.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr.trim()).toBe(`sisyphus: SIS_SERVER_UNREACHABLE cannot reach the server at ${api}: ECONNREFUSED`);
    });

    // A proxy whose server is down answers 502: the same exit code.
    const gateway = createHttpServer((_req, res) => res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway'));
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    try {
      const proxied = `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
      const r = await execa(process.execPath, [bin, 'jobs', 'ls', '--api', proxied], { reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
      expect(r.exitCode).toBe(3);
      expect(r.stderr.trim()).toBe(`sisyphus: SIS_SERVER_UNREACHABLE the server at ${proxied} cannot serve now: GET /jobs: 502 Bad Gateway`);
    } finally {
      gateway.close();
    }
  });

  it('queue pause/resume, workers disable/enable, data set/get/ls/rm', async () => {
    expect(JSON.parse((await cli(['queue', 'pause'])).stdout)).toEqual({ disabled: true });
    expect((await cli(['queue', 'ls'])).stdout).toContain('(paused)');
    expect(JSON.parse((await cli(['queue', 'resume'])).stdout)).toEqual({ disabled: false });
    expect(JSON.parse((await cli(['workers', 'disable', 'enc-1'])).stdout)).toEqual({ disabled: true });
    expect((await cli(['workers', 'ls'])).stdout).toMatch(/^enc-1 .* disabled/m);
    expect(JSON.parse((await cli(['workers', 'enable', 'enc-1'])).stdout)).toEqual({ disabled: false });
    expect(JSON.parse((await cli(['data', 'set', 'ffmpeg', 'x265', 'x265.json'])).stdout)).toEqual({ options: { codec: 'libx265', crf: 19 }, name: 'x265' });
    expect(JSON.parse((await cli(['data', 'get', 'ffmpeg', 'x265'], SUBMITTER)).stdout).options.crf).toBe(19);
    expect(JSON.parse((await cli(['data', 'ls', 'ffmpeg'])).stdout)).toEqual({ module: 'ffmpeg', names: ['x265'] });
    expect((await cli(['data', 'rm', 'ffmpeg', 'x265'])).stdout).toBe('deleted ffmpeg/x265');
    const gone = await cli(['data', 'get', 'ffmpeg', 'x265']);
    expect(gone.exitCode).toBe(2);
    expect(gone.stderr).toContain('404');
    expect((await cli(['queue', 'frobnicate'])).exitCode).toBe(2);
  });

  it('the server refuses a non-loopback address without tokens', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0, db: ':memory:' })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without tokens/);
  });
});
