/// <reference lib="dom" />
// (DOM types: the functions given to page.evaluate and waitForFunction run in the page.)
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
// @ts-expect-error plain JS helper script
import { makeSample } from '../../scripts/make-sample.mjs';
import { CliProcesses, freePort, outputTail, until, type CliProcess } from '../support/processes.js';

/** The `sisyphus` command as installed from a clone (it runs the built CLI). */
export const bin = fileURLToPath(new URL('../../core/bin/sisyphus.js', import.meta.url));

/** A token entry of the server config. */
export interface TokenEntry {
  token: string;
  role: 'admin' | 'submitter' | 'worker';
  name?: string;
}

/** A `sisyphus server` process of a {@link Farm} and how to reach it. */
export interface FarmServer {
  name: string;
  url: string;
  port: number;
  config: string;
  proc: CliProcess;
}

/** An answer of the API: its status and JSON body (undefined when empty). */
export interface ApiAnswer<T> {
  status: number;
  json: T;
}

/** One request to the API, with a bearer token when given. */
export async function api<T = any>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * A one-task ffmpeg job re-encoding the video of `source` with x264
 * ultrafast; with `realtime`, ffmpeg reads the source at its native rate
 * (`-re`), so the encode takes as long as the source whatever the load:
 * progress then moves steadily for that many seconds.
 */
export function encodeJob(title: string, source: string, output: string, realtime = false) {
  return {
    job_title: title,
    tasks: [
      {
        module: 'ffmpeg',
        data: {
          ...(realtime ? { input_options: { re: true } } : {}),
          sources: [source],
          source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
          output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset: 'ultrafast' } }],
          output_file: output,
          overwrite: true,
        },
      },
    ],
  };
}

/**
 * Real servers and workers started through the CLI in a temp folder, media
 * made with ffmpeg at test time, and the API calls the tests check the UI against.
 */
export class Farm {
  readonly cli: CliProcesses;
  readonly servers = new Map<string, FarmServer>();

  private constructor(readonly dir: string) {
    this.cli = new CliProcesses(bin, () => dir);
  }

  static async create(name: string): Promise<Farm> {
    const dir = await mkdtemp(join(tmpdir(), `sis-dashboard-${name}-`));
    await mkdir(join(dir, 'in'));
    await mkdir(join(dir, 'out'));
    return new Farm(dir);
  }

  /** `dir/in/NAME.mkv`: a sample video (lavfi testsrc2 + audio + subtitles) of `duration` seconds. */
  async sample(name: string, duration: number, size = '320x180'): Promise<string> {
    const file = join(this.dir, 'in', `${name}.mkv`);
    await makeSample(file, { duration, size, rate: 24 });
    return file;
  }

  /** Copy a file (e.g. to create a missing source before a retry). */
  copy(from: string, to: string): Promise<void> {
    return copyFile(from, to);
  }

  /** `dir/out/NAME.mkv`. */
  out(name: string): string {
    return join(this.dir, 'out', `${name}.mkv`);
  }

  /**
   * Start `sisyphus server --config` with `settings` (the config's `server`
   * section; `port` is a free one unless given); resolves once it answers.
   * The same name again restarts it with the same config (same port and store).
   */
  async startServer(name: string, settings: Record<string, unknown> = {}): Promise<FarmServer> {
    const known = this.servers.get(name);
    const port = known?.port ?? (settings.port as number | undefined) ?? (await freePort());
    const config = known?.config ?? join(this.dir, `${name}.yaml`);
    if (!known) {
      // JSON is YAML.
      const db = settings.store ? {} : { db: join(this.dir, `${name}.db`) };
      await writeFile(config, JSON.stringify({ server: { ...db, ...settings, port } }, null, 2));
    }
    const proc = this.cli.start(`server ${name}`, ['server', '--config', config], { SISYPHUS_API: '', API_URL: '', SISYPHUS_TOKEN: '' });
    const url = `http://127.0.0.1:${port}`;
    await until(`server ${name}`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`server ${name} exited (${proc.child.exitCode}): ${outputTail(proc, 30)}`);
      return (await fetch(`${url}/status/health`).then((r) => r.ok, () => false)) || undefined;
    }, 30_000);
    const server = { name, url, port, config, proc };
    this.servers.set(name, server);
    return server;
  }

  /** Stop a server (SIGTERM: a normal shutdown, unless another signal is given); resolves once it exited. */
  async stopServer(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const server = this.servers.get(name);
    if (!server) return;
    await stop(server.proc, signal);
  }

  /**
   * Start `sisyphus worker --config` with id `id` (host name `host-ID`),
   * heartbeating every 0.5 s, linked over HTTP to `server` (with `token`).
   */
  async startWorker(id: string, server: FarmServer, options: { token?: string } = {}): Promise<CliProcess> {
    const config = join(this.dir, `worker-${id}.yaml`);
    const worker = { heartbeatInterval: 0.5, pollInterval: 1, networkRetryInterval: 0.5, stateDir: join(this.dir, `state-${id}`) };
    await writeFile(config, JSON.stringify({ worker }, null, 2));
    return this.cli.start(`worker ${id}`, ['worker', '--config', config], {
      HOST_UUID: id,
      HOSTNAME_OVERRIDE: `host-${id}`,
      API_URL: server.url,
      SISYPHUS_API: '',
      SISYPHUS_TOKEN: options.token ?? '',
    });
  }

  /** SIGKILL everything still running and remove the temp folder. */
  async close(): Promise<void> {
    await this.cli.killAll();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Signal a process and wait until it has exited. */
export async function stop(p: CliProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  await exited;
}

/** Wait until a job reaches one of `states` (by the API); its view. */
export async function jobIn(base: string, id: string, states: string[], ms = 60_000, token?: string): Promise<any> {
  return until(`job ${id} to be ${states.join(' or ')}`, async () => {
    const { json } = await api(base, 'GET', `/jobs/${id}`, undefined, token);
    return states.includes(json?.state) ? json : undefined;
  }, ms);
}

/** Submit a job document through the API; its id. */
export async function submit(base: string, job: unknown, token?: string): Promise<string> {
  const res = await api<{ job_id: string }>(base, 'POST', '/queue', job, token);
  if (res.status !== 200) throw new Error(`POST /queue answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json.job_id;
}

// ---- the page, by the UI contract's data-testid names ----

/** `[data-testid=NAME]`, optionally with `data-job-id` / `data-worker-id` / another attribute. */
export function tid(page: Page | Locator, name: string, attr?: Record<string, string>): Locator {
  const extra = Object.entries(attr ?? {})
    .map(([k, v]) => `[${k}="${v}"]`)
    .join('');
  return page.locator(`[data-testid="${name}"]${extra}`);
}

/** Wait until the (first) element with test id `name` has text (trimmed) equal to or matching `text`. */
export async function waitText(page: Page, name: string, text: string | RegExp, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    ([n, source, flags, exact]) => {
      const t = document.querySelector(`[data-testid="${n}"]`)?.textContent?.trim();
      return t !== undefined && (exact !== null ? t === exact : new RegExp(source!, flags!).test(t));
    },
    typeof text === 'string' ? [name, null, null, text] : [name, text.source, text.flags, null],
    { timeout },
  );
}

/** Go to a hash route (`#/queue`) by clicking its nav link, or by setting the hash for routes without one. */
export async function go(page: Page, route: string): Promise<void> {
  const nav = /^#\/(overview|running|queue|workers|history|submit|data)$/.exec(route)?.[1];
  if (nav) await tid(page, `nav-${nav}`).click();
  else await page.evaluate((r) => (window.location.hash = r), route);
  await page.waitForFunction((r) => window.location.hash === r, route);
}

/**
 * A list's empty state: `[data-testid=empty]` (the contract names it for the running view) or, in
 * the other lists, the text a person reads there ("No jobs yet", "The queue is empty", ...).
 */
export function emptyState(page: Page): Locator {
  return page.locator('[data-testid="empty"]').or(page.getByText(/^(no\b.*|the queue is empty\.?)$/i)).first();
}
