import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeOriginalServer } from './fake-original-server.js';
import { alive, onCleanup, tempDir, waitFor } from './helpers.js';

const bin = fileURLToPath(new URL('../../../core/dist/cli/bin.js', import.meta.url));
const sleeperPlugin = fileURLToPath(new URL('./fixtures/sleeper-plugin.mjs', import.meta.url));
const cleanupPlugin = fileURLToPath(new URL('../../../modules/cleanup', import.meta.url));

/** `sisyphus worker` as a real process against the fake original server; no transport is configured (default http). */
async function startWorker(): Promise<{ server: FakeOriginalServer; child: ChildProcess; dir: string; exit: Promise<number | null>; output: () => string }> {
  const server = await new FakeOriginalServer().listen();
  const dir = await tempDir('sis-cli-worker-');
  await writeFile(join(dir, 'sisyphus.config.json'), JSON.stringify({ plugins: [cleanupPlugin, sleeperPlugin], worker: { hostname: 'cli-host' } }));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['HOST_UUID', 'HOSTNAME_OVERRIDE', 'SISYPHUS_API', 'SISYPHUS_TOKEN']) delete env[name];
  Object.assign(env, { API_URL: server.url, XDG_CONFIG_HOME: dir, HEARTBEAT_INTERVAL: '0.1', QUEUE_POLL_INTERVAL: '0.05', NETWORK_RETRY_INTERVAL: '0.05' });
  const child = spawn(process.execPath, [bin, 'worker', '-c', join(dir, 'sisyphus.config.json')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onCleanup(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exit;
    await server.close();
  });
  return { server, child, dir, exit, output: () => out };
}

describe('sisyphus worker (CLI)', () => {
  it('runs jobs from the server with a persisted id; SIGTERM lets the running job finish and exits 0', async () => {
    const { server, child, dir, exit, output } = await startWorker();
    const id = server.submit({ job_title: 'cli job', tasks: [{ module: 'sleeper', data: { ms: 700 } }] });
    await waitFor('job running', () => server.heartbeats().some((r) => r.body.status === 'in_progress' && r.body.job_id === id));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const workerId = (await readFile(join(dir, 'sisyphus', 'worker-id'), 'utf8')).trim();
    expect(server.heartbeats(workerId)[0]!.body).toMatchObject({ status: 'startup', hostname: 'cli-host' });
    expect(server.completions()).toHaveLength(1);
    expect(server.completions()[0]!.body).toMatchObject({ failed: false, info: { completed: true, worker_id: workerId, worker: 'cli-host' } });
    // Not a terminal: every line is a JSON log line (pino's), with the component that logged it.
    const lines = output().trim().split('\n').map((line) => JSON.parse(line) as { level: string; time: string; component: string; msg: string });
    expect(lines.every((l) => !Number.isNaN(Date.parse(l.time)) && ['worker', 'transport'].includes(l.component))).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', component: 'worker', msg: expect.stringContaining('again to abort') }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', component: 'worker', jobId: id, task: 1, module: 'sleeper', msg: 'running' }));
    // No allowedRoots in this config: said once, at start-up, naming the setting.
    expect(output().match(/allowedRoots is not set/g)).toHaveLength(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        component: 'worker',
        msg: `allowedRoots is not set in ${join(dir, 'sisyphus.config.json')}: jobs may read and write any path this user can; set allowedRoots to the folders jobs may use`,
      }),
    );
  });

  it('a second signal aborts the running job, kills its process, reports it and exits 130', async () => {
    const { server, child, dir, exit, output } = await startWorker();
    const pidFile = join(dir, 'pid');
    server.submit({ job_title: 'long', tasks: [{ module: 'sleeper', data: { ms: 30000, pidFile } }] });
    let pid = 0;
    await waitFor('process started', async () => (pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'))) > 0);
    child.kill('SIGTERM');
    await waitFor('stopping logged', () => output().includes('stopping'));
    expect(alive(pid)).toBe(true);
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    expect(alive(pid)).toBe(false);
    expect(server.completions()).toHaveLength(1);
    expect(server.completions()[0]!.body).toMatchObject({ failed: true, info: { cancelled: true, requeue: true } });
  });
});
