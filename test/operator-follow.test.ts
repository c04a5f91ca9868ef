import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type StartedServer } from '@sisyphus/server';
// @ts-expect-error plain JS helper script
import { makeSample } from '../scripts/make-sample.mjs';
import { CliProcesses, apiCall, encodeJob, until, type CliProcess } from './support/processes.js';

// Operators following real work: a real server on port 0, real `sisyphus worker`
// processes with default settings (one shared state folder), real ffmpeg encodes.
const bin = fileURLToPath(new URL('../core/dist/cli/bin.js', import.meta.url));
let server: StartedServer;
let dir = '';
const cli = new CliProcesses(bin, () => dir);

type Worker = { worker_id: string; hostname?: string; status?: string };
const workers = async () => (await apiCall<{ workers: Worker[] }>(server.url, 'GET', '/workers')).json.workers;
const byHost = async (host: string) => (await workers()).find((w) => w.hostname === host);

/** A worker with default settings: no config, no id, the shared state folder under $XDG_CONFIG_HOME. */
const startWorker = (host: string): CliProcess =>
  cli.start(`worker ${host}`, ['worker'], { API_URL: server.url, SISYPHUS_API: '', XDG_CONFIG_HOME: join(dir, 'xdg'), HOSTNAME_OVERRIDE: host, HOST_UUID: '' });

async function stop(p: CliProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  await exited;
}

const run = (args: string[]) => execa(process.execPath, [bin, ...args, '--api', server.url], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });

let source = '';
/** An encode that takes several seconds on this machine (veryslow x264 of 20 s of 640x360). */
async function encodeFile(name: string): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(encodeJob(name, source, join(dir, 'out', `${name}.mkv`), 'veryslow')));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sis-follow-'));
  await mkdir(join(dir, 'out'));
  source = join(dir, 'source.mkv');
  await makeSample(source, { duration: 20, size: '640x360', rate: 30 });
  server = await startServer({ port: 0, db: ':memory:' });
}, 60_000);

afterAll(async () => {
  await Promise.all(cli.list.map((p) => stop(p, 'SIGKILL')));
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operators follow real workers', () => {
  let one: CliProcess;
  let two: CliProcess;

  it('two workers with default settings on one machine get two ids; a restarted one gets its id back', async () => {
    one = startWorker('host-one');
    two = startWorker('host-two');
    const [a, b] = await until('two workers', async () => {
      const [x, y] = await Promise.all([byHost('host-one'), byHost('host-two')]);
      return x && y ? [x, y] : undefined;
    });
    expect(a!.worker_id).not.toBe(b!.worker_id);

    await stop(one);
    one = startWorker('host-one-again');
    expect((await until('the restarted worker', () => byHost('host-one-again'))).worker_id).toBe(a!.worker_id);

    // Killed: its lock stays behind, and is taken over by the next start.
    await stop(two, 'SIGKILL');
    two = startWorker('host-two-again');
    expect((await until('the worker started after a kill', () => byHost('host-two-again'))).worker_id).toBe(b!.worker_id);
  }, 60_000);

  it('submit --wait shows progress as it happens and names the worker by host name', async () => {
    const job = await encodeFile('followed');
    const submit = execa(process.execPath, [bin, 'submit', job, '--wait', '--api', server.url], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
    // Meanwhile, what GET /jobs/{id} says of the running job.
    const seen: Array<{ at: string; progress?: number; host?: string; t: number }> = [];
    let id: string | undefined;
    submit.stdout!.once('data', (d) => (id = String(d).trim()));
    const watching = (async () => {
      while (submit.exitCode === null) {
        if (id) {
          const view = (await apiCall(server.url, 'GET', `/jobs/${id}`)).json;
          if (view.state === 'running' && view.live) seen.push({ at: view.live.at, progress: view.live.progress, host: view.worker_hostname, t: Date.now() });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const r = await submit;
    await watching;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^followed: running on host-(one|two)-again/m);
    expect(r.stderr).toMatch(/^followed: done in .* on host-(one|two)-again$/m);
    const percents = [...r.stderr.matchAll(/^followed: ffmpeg (\d+)% \(.*fps \d+/gm)].map((m) => Number(m[1]));
    expect(percents.length, r.stderr).toBeGreaterThanOrEqual(3);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));

    // The worker heartbeats every 5 s by default; progress must still arrive about every second.
    const updates = seen.filter((s, i) => i === 0 || s.at !== seen[i - 1]!.at);
    const span = updates.at(-1)!.t - updates[0]!.t;
    expect(span, 'the encode ran long enough to tell (more than one heartbeat interval)').toBeGreaterThan(5000);
    const gaps = updates.slice(1).map((u, i) => Date.parse(u.at) - Date.parse(updates[i]!.at));
    // Typically ~1 s apart; a loaded 2-core machine may delay one now and then, never to a whole interval.
    const median = [...gaps].sort((x, y) => x - y)[Math.floor(gaps.length / 2)]!;
    expect(median, `heartbeat gaps ${gaps.join(', ')} ms`).toBeLessThan(2000);
    expect(Math.max(...gaps), `heartbeat gaps ${gaps.join(', ')} ms`).toBeLessThan(4500);
    expect(new Set(updates.map((u) => u.progress)).size).toBeGreaterThan(4);
    expect(updates[0]!.host).toMatch(/^host-(one|two)-again$/);
  }, 120_000);

  it('Ctrl-C on submit --wait leaves the job running and prints the command that cancels it', async () => {
    const job = await encodeFile('interrupted');
    const follower = cli.start('follower', ['submit', job, '--wait', '--api', server.url], { SISYPHUS_API: '', API_URL: '' });
    await until('the job to run', () => /running on host-/.test(follower.err.join('')), 60_000);
    const id = follower.out.join('').split('\n')[0]!.trim();
    const exited = new Promise<number | null>((r) => follower.child.once('exit', (code) => r(code)));
    follower.child.kill('SIGINT');
    expect(await exited).toBe(130);
    const err = follower.err.join('');
    expect(err).toMatch(new RegExp(`stopped following job ${id}; it keeps running on host-(one|two)-again\\. To cancel it: sisyphus jobs cancel ${id} --api ${server.url.replace(/[.]/g, '\\.')}\\n`));
    expect((await apiCall(server.url, 'GET', `/jobs/${id}`)).json.state).toBe('running');

    // The printed command, as printed, cancels it.
    const hint = /To cancel it: sisyphus (.*)$/m.exec(err)![1]!.split(' ');
    const cancel = await execa(process.execPath, [bin, ...hint], { cwd: dir, reject: false });
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe('cancel requested (its worker stops it)');
    await until('the job to be cancelled', async () => (await apiCall(server.url, 'GET', `/jobs/${id}`)).json.state === 'cancelled', 30_000);
  }, 120_000);

  it('jobs ls shows submitted/started/finished times, the worker host and a failure\'s one-line reason', async () => {
    await mkdir(join(dir, 'full'), { recursive: true });
    await writeFile(join(dir, 'full', 'keep.txt'), 'x');
    await writeFile(join(dir, 'failing.json'), JSON.stringify({ job_title: 'failing', tasks: [{ module: 'cleanup', data: { delete: [join(dir, 'full')] } }] }));
    const failed = await run(['submit', 'failing.json', '--wait']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/^sisyphus: job failed on host-(one|two)-again: cleanup: .*is a folder that is not empty/m);

    const ls = await run(['jobs', 'ls']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    const [header, ...rows] = ls.stdout.split('\n');
    expect(header).toMatch(/^ID +STATE +SUBMITTED +STARTED +FINISHED +WORKER +TITLE +REASON$/);
    const time = '\\d\\d:\\d\\d:\\d\\d';
    const row = (title: string) => rows.find((l) => new RegExp(`  ${title}(  |$)`).test(l));
    expect(row('failing')).toMatch(new RegExp(`^[0-9a-f-]{36}  failed +${time} +${time} +${time} +host-(one|two)-again +failing +cleanup: delete\\[0\\]: .* is a folder that is not empty`));
    expect(row('followed')).toMatch(new RegExp(`^[0-9a-f-]{36}  completed +${time} +${time} +${time} +host-(one|two)-again +followed$`));
    expect(row('interrupted')).toMatch(/ cancelled /);

    // --json keeps the raw documents (with the worker's host name).
    const raw = JSON.parse((await run(['jobs', 'ls', '--json'])).stdout) as { jobs: Array<Record<string, unknown>> };
    expect(raw.jobs.find((j) => j.job_title === 'failing')).toMatchObject({ state: 'failed', worker_hostname: expect.stringMatching(/^host-/), started_at: expect.any(String), finished_at: expect.any(String) });
  }, 60_000);

  it('jobs retry queues a failed job again (linked both ways) and it completes; retry --all takes the rest once', async () => {
    const failed = (await apiCall<{ jobs: Array<{ job_id: string; job_title: string }> }>(server.url, 'GET', '/jobs?state=failed&title=failing')).json.jobs;
    expect(failed).toHaveLength(1);
    const old = failed[0]!.job_id;
    await unlink(join(dir, 'full', 'keep.txt'));
    const retry = await run(['jobs', 'retry', old]);
    expect(retry.exitCode, retry.stderr).toBe(0);
    const fresh = /^retried as (\S+)$/.exec(retry.stdout)![1]!;
    await until('the retry to complete', async () => (await apiCall(server.url, 'GET', `/jobs/${fresh}`)).json.state === 'completed', 60_000);
    expect((await apiCall(server.url, 'GET', `/jobs/${fresh}`)).json.retry_of).toBe(old);
    expect((await apiCall(server.url, 'GET', `/jobs/${old}`)).json.retried_as).toBe(fresh);
    const again = await run(['jobs', 'retry', old]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`retried already as ${fresh}`);
    // Nothing failed is left unretried: --all finds nothing new.
    const all = await run(['jobs', 'retry', '--all', '--title', 'failing']);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toBe('0 failed jobs retried; 1 retried already (skipped)');
  }, 90_000);

  it('submit --wait follows through the event stream, not by asking again and again; an original server without /events is polled', async () => {
    // A recording proxy in front of the server; `refuse` answers 404 for /events, as an original server does.
    const asked: string[] = [];
    let refuse = false;
    let unavailable = 0;
    const target = new URL(server.url);
    const proxy: Server = createHttpServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      if (refuse && req.url!.startsWith('/events')) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      if (unavailable > 0 && req.url!.startsWith('/events')) {
        unavailable--;
        return void res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' }).end('{"message":"Redis is reconnecting"}');
      }
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const via = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const follow = async (name: string) => {
        const r = await execa(process.execPath, [bin, 'submit', await encodeFile(name), '--wait', '--api', via], { cwd: dir, reject: false, env: { SISYPHUS_API: '', API_URL: '' } });
        expect(r.exitCode, r.stderr).toBe(0);
        const id = r.stdout.trim();
        return { id, lookups: asked.filter((a) => a === `GET /jobs/${id}`).length, percents: [...r.stderr.matchAll(new RegExp(`^${name}: ffmpeg (\\d+)%`, 'gm'))].length };
      };
      const streamed = await follow('streamed');
      expect(asked).toContain('GET /events');
      // Looked up on connect and on its state changes only; progress came with the heartbeats on the stream.
      expect(streamed.lookups).toBeLessThanOrEqual(4);
      expect(streamed.percents).toBeGreaterThanOrEqual(3);
      // A server that cannot serve the stream for a moment (its store reconnecting: 503) is waited for, not given up on.
      unavailable = 2;
      const waited = await follow('waited');
      expect(unavailable).toBe(0);
      expect(waited.lookups).toBeLessThanOrEqual(12);
      refuse = true;
      const polled = await follow('polled');
      expect(polled.lookups).toBeGreaterThan(8);
      expect(polled.percents).toBeGreaterThanOrEqual(3);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  }, 180_000);
});
