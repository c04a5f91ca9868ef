import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Poll `check` every 100 ms until it gives a truthy value; throws naming `what` after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Is `pid` running (a zombie is not)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of running ffmpeg processes whose parent is `pid`. */
export function ffmpegChildren(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const fields = readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return fields[0] !== 'Z' && Number(fields[1]) === pid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('ffmpeg');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A one-task ffmpeg job re-encoding the first video stream of `source` with x264. */
export function encodeJob(title: string, source: string, out: string, preset = 'ultrafast') {
  return {
    job_title: title,
    tasks: [
      {
        module: 'ffmpeg',
        data: {
          sources: [source],
          source_maps: [{ source: 0, specifier: 'v', stream: 0 }],
          output_maps: [{ specifier: 'v', stream: 0, options: { codec: 'libx264', preset } }],
          output_file: out,
          overwrite: true,
        },
      },
    ],
  };
}

/** One request to a server's API; the JSON answer (undefined for an empty body) with its status. */
export async function apiCall<T = any>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

/** A started `sisyphus` process and everything it printed. */
export interface CliProcess {
  name: string;
  child: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  out: string[];
  /** stderr alone. */
  err: string[];
}

/** `sisyphus` processes started by a test, with their output kept for assertions. */
/** A CLI process's log lines (`ISO-TIME level message`) with their time. */
export function logLines(p: CliProcess): Array<{ at: number; message: string }> {
  return p.err
    .join('')
    .split('\n')
    .map((line) => /^(\d{4}-\d\d-\d\dT\S+Z) \w+\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ at: Date.parse(m[1]!), message: m[2]! }));
}

export class CliProcesses {
  readonly list: CliProcess[] = [];

  constructor(
    private readonly bin: string,
    private readonly cwd: () => string,
  ) {}

  /** Start `sisyphus ARGS` with extra environment variables. */
  start(name: string, args: string[], env: Record<string, string> = {}): CliProcess {
    const child = spawn(process.execPath, [this.bin, ...args], { cwd: this.cwd(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = { name, child, out: [] as string[], err: [] as string[] };
    child.stdout!.on('data', (d) => entry.out.push(String(d)));
    child.stderr!.on('data', (d) => {
      entry.out.push(String(d));
      entry.err.push(String(d));
    });
    this.list.push(entry);
    return entry;
  }

  /**
   * How many times any worker started job `id` (its log line: `job ID "title" started`;
   * not the other lines naming `job ID "title"`, e.g. `the server cancelled job ID "title"`).
   */
  startsOf(id: string): number {
    const line = new RegExp(`(?:^|\\s)job ${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ".*" started$`);
    return this.list
      .filter((p) => p.name.startsWith('worker'))
      .flatMap((p) => p.out.join('').split('\n'))
      .filter((l) => line.test(l)).length;
  }
}
