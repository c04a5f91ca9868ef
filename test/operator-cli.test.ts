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

/** One request to the server as `token` (admin: every route, the worker's too); the status and the parsed answer. */
async function api(method: string, path: string, body?: unknown, token = ADMIN): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Poll `check` every 50 ms until it is truthy (or fail after `ms`). */
async function until(what: string, check: () => unknown, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A plain HTTP server on 127.0.0.1 port 0 with `handler`; its URL and a close function. */
async function stubServer(handler: Parameters<typeof createHttpServer>[0] & object): Promise<{ url: string; close: () => Promise<void> }> {
  const s = createHttpServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }),
  };
}

/** Characters that steer a terminal or reorder a line; none may reach the operator from job or worker data (LF ends the CLI's own lines). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

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
    expect((await cli(['jobs', 'cancel', id], SUBMITTER)).stdout).toBe('cancelled (it was not running: a queued job leaves the queue, a job waiting for its children cancels them)');
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

  it('job and worker text reaches the terminal escaped: jobs ls, jobs show, workers ls and submit --wait show no forged lines', async () => {
    const title = 'EVIL\u001b[31mRED\u001b]0;owned-title\u0007';
    await writeFile(join(dir, 'evil.json'), JSON.stringify({ job_title: title, tasks: [{ module: 'cleanup', data: { delete: ['/tmp/none'] } }] }));
    // The submitter follows the job; a worker-token holder leases it and reports hostile text.
    const follower = execa(process.execPath, [bin, 'submit', 'evil.json', '--wait', '--priority', '1000', '--api', server.url, '--token', SUBMITTER], {
      cwd: dir,
      reject: false,
      env: { SISYPHUS_API: '', API_URL: '' },
    });
    let out = '';
    let err = '';
    follower.stdout!.on('data', (d) => (out += String(d)));
    follower.stderr!.on('data', (d) => (err += String(d)));
    await until('the job id', () => out.includes('\n'));
    const id = out.trim();
    const polled = await api('GET', '/queue/poll?worker_id=W1');
    expect(polled.status).toBe(200);
    expect(polled.json.job_id).toBe(id);
    const beat = await api('POST', '/workers/W1', {
      status: 'in_progress',
      hostname: 'h\u001b[2K\rEVILHOST',
      version: '1',
      job_id: id,
      job_title: title,
      task: 't\u001b]0;x\u0007\nSECOND LINE',
      progress: 250,
      info: { eta: -40, fps: 25 },
    });
    expect(beat.status).toBeLessThan(300);
    await until('the follower to see the worker', () => err.includes('EVILHOST'));

    const ls = await cli(['jobs', 'ls']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stdout).not.toMatch(RAW_CONTROL);
    const row = ls.stdout.split('\n').find((l) => l.startsWith(id))!;
    expect(row).toMatch(/ running 100% /);
    expect(row).toContain('h\\x1b[2K\\x0dEVILHOST');
    expect(row).toContain('EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07');
    const workers = await cli(['workers', 'ls']);
    expect(workers.stdout).not.toMatch(RAW_CONTROL);
    expect(workers.stdout).toMatch(/^W1 +h\\x1b\[2K\\x0dEVILHOST .* 100%$/m);
    const shown = await cli(['jobs', 'show', id]);
    expect(shown.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(shown.stdout).job_title).toBe(title);

    const done = await api('PATCH', `/jobs/${id}/completed`, {
      failed: true,
      info: { worker: 'w\u009b2J', worker_id: 'W1', module: 'm\u001b[31m', message: 'boom\r\u001b[2K[ok] forged\nmore', runtime: 1 },
    });
    expect(done.status).toBeLessThan(300);
    const r = await follower;
    expect(r.exitCode, err).toBe(1);
    expect(err).not.toMatch(RAW_CONTROL);
    expect(err).toContain('EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07: running on h\\x1b[2K\\x0dEVILHOST: t\\x1b]0;x\\x07\\x0aSECOND LINE');
    expect(err).not.toContain('eta');
    expect(err).toContain('sisyphus: job failed on w\\x9b2J: m\\x1b[31m: boom\\x0d\\x1b[2K[ok] forged\n');
    // Every line is one the CLI wrote: it starts with the (escaped) title or "sisyphus:".
    for (const line of err.trim().split('\n')) expect(line).toMatch(/^(EVIL\\x1b|sisyphus: )/);
  }, 30_000);

  it('--api with a user name or password: exit 2, one line naming --api, the URL masked, the password never printed', async () => {
    const withPassword = await execa(process.execPath, [bin, 'jobs', 'ls', '--api', 'http://u:PASSWORD@127.0.0.1:5719'], { reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
    expect(withPassword.exitCode).toBe(2);
    expect(withPassword.stderr.trim().split('\n')).toHaveLength(1);
    expect(withPassword.stderr).toContain('--api');
    expect(withPassword.stderr).toContain('http://****@127.0.0.1:5719');
    expect(`${withPassword.stdout}${withPassword.stderr}`).not.toMatch(/PASSWORD|u:/);
    const submitted = await execa(process.execPath, [bin, 'submit', 'job.yaml', '--var', 'title=t', '--var', 'file=/tmp/x', '--wait', '--api', 'https://admin:PASSWORD@example.invalid/'], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
    expect(submitted.exitCode).toBe(2);
    expect(submitted.stderr).not.toContain('PASSWORD');
    const fromEnv = await execa(process.execPath, [bin, 'queue', 'ls'], { reject: false, env: { SISYPHUS_API: 'http://:PASSWORD@127.0.0.1:1', API_URL: '' } });
    expect(fromEnv.exitCode).toBe(2);
    expect(fromEnv.stderr.trim()).toBe('sisyphus: SIS_USAGE $SISYPHUS_API must not hold a user name or password (got http://****@127.0.0.1:1); give the token with --token or $SISYPHUS_TOKEN');
    const notHttp = await execa(process.execPath, [bin, 'queue', 'ls', '--api', 'localhost:5000'], { reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
    expect(notHttp.exitCode).toBe(2);
    expect(notHttp.stderr).toContain('must be an http:// or https:// URL (got localhost:5000)');
    const noScheme = await execa(process.execPath, [bin, 'queue', 'ls', '--api', 'u:PASSWORD@127.0.0.1:1'], { reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
    expect(noScheme.exitCode).toBe(2);
    expect(noScheme.stderr.trim()).toBe("sisyphus: SIS_USAGE --api (or the config's api.url) must be an http:// or https:// URL (got ****@127.0.0.1:1)");
  });

  it('a job file\'s own job_id is the job\'s id; submitting it again is refused (409), not queued twice', async () => {
    await writeFile(join(dir, 'with-id.json'), JSON.stringify({ job_id: 'nightly-2026-01-01', job_title: 'with id', tasks: [{ module: 'cleanup', data: { delete: ['/tmp/none'] } }] }));
    const first = await cli(['submit', 'with-id.json'], SUBMITTER);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('nightly-2026-01-01');
    const again = await cli(['submit', 'with-id.json'], SUBMITTER);
    expect(again.exitCode).toBe(2);
    expect(again.stderr.trim()).toBe('sisyphus: SIS_USAGE POST /queue: 409 job nightly-2026-01-01 exists already');
    expect((await cli(['jobs', 'cancel', 'nightly-2026-01-01'], SUBMITTER)).exitCode).toBe(0);
  });

  it('submit through a gateway that forwards the job and then answers 504: exit 3, and the message names the job that may have been queued', async () => {
    // The gateway hands POST /queue to the real server, then loses the answer.
    const gateway = await stubServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await fetch(`${server.url}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json', authorization: String(req.headers.authorization) }, body: Buffer.concat(chunks) });
      res.writeHead(504, { 'content-type': 'text/html' }).end('<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n</html>\r\n');
    });
    try {
      const r = await execa(process.execPath, [bin, 'submit', 'job.yaml', '--var', 'title=through a gateway', '--var', 'file=/tmp/none', '--api', gateway.url, '--token', SUBMITTER], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toBe('');
      const m = /^sisyphus: SIS_SERVER_UNREACHABLE the server at (\S+) cannot serve now: POST \/queue: 504 <html> <head><title>504 Gateway Time-out<\/title><\/head> <\/html>; the request may have reached the server, so the job may have been queued as ([0-9a-f-]{36}): check with sisyphus jobs show \2 --api (\S+) before submitting it again$/.exec(r.stderr.trim());
      expect(m, r.stderr).not.toBeNull();
      expect(m![1]).toBe(gateway.url);
      expect(m![3]).toBe(gateway.url);
      // It was queued, under the id the message names.
      const shown = await cli(['jobs', 'show', m![2]!], SUBMITTER);
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ job_id: m![2], job_title: 'through a gateway', state: 'queued' });
      expect((await cli(['jobs', 'cancel', m![2]!], SUBMITTER)).exitCode).toBe(0);
    } finally {
      await gateway.close();
    }

    // A connection that breaks after the request was sent: the same warning. A refused one (nothing sent) has none (see above).
    const breaking = await stubServer(async (req, res) => {
      for await (const _ of req);
      res.socket?.destroy();
    });
    try {
      const r = await execa(process.execPath, [bin, 'submit', 'job.yaml', '--var', 'title=t', '--var', 'file=/tmp/none', '--api', breaking.url], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
      expect(r.exitCode).toBe(3);
      expect(r.stderr.trim()).toMatch(new RegExp(`^sisyphus: SIS_SERVER_UNREACHABLE cannot reach the server at ${breaking.url.replace(/[.]/g, '\\.')}: \\S+; the request may have reached the server, so the job may have been queued as [0-9a-f-]{36}: check with sisyphus jobs show [0-9a-f-]{36} --api \\S+ before submitting it again$`));
    } finally {
      await breaking.close();
    }
  });

  it('submit --wait on a job that is removed from the server meanwhile: exit 1 and says so', async () => {
    const follower = execa(process.execPath, [bin, 'submit', 'job.yaml', '--var', 'title=removed', '--var', 'file=/tmp/none', '--wait', '--api', server.url, '--token', SUBMITTER], {
      cwd: dir,
      reject: false,
      env: { SISYPHUS_API: '', API_URL: '' },
    });
    let out = '';
    let err = '';
    follower.stdout!.on('data', (d) => (out += String(d)));
    follower.stderr!.on('data', (d) => (err += String(d)));
    await until('the follower to see the job queued', () => err.includes('queued, waiting for a worker'));
    const id = out.trim();
    expect((await api('DELETE', `/jobs/${id}`)).status).toBeLessThan(300);
    const r = await follower;
    expect(r.exitCode, err).toBe(1);
    expect(err.trim().split('\n').at(-1)).toBe(`sisyphus: job ${id} was removed from the server while being followed; it did not complete; it was last seen queued`);
  });

  it('the server refuses a non-loopback address without tokens', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0, db: ':memory:' })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without tokens/);
  });
});
