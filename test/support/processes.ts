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

/** Pids of running (not zombie) processes whose command line mentions both `program` and `needle`. */
export function processesMentioning(program: string, needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes(program) && cmd.includes(needle) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
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

/** One log line of a `sisyphus worker`/`server` process (pino's JSON line). */
export interface LogLine {
  /** Its time (ms since the epoch). */
  at: number;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** `worker`, `transport`, `server`, `store`. */
  component?: string;
  message: string;
  /** The whole line as parsed (jobId, task, module, reqId...). */
  fields: Record<string, unknown>;
}

/**
 * A CLI process's log lines, parsed: every complete stderr line that starts
 * with `{` must be a JSON log line with a level name, an ISO time and a
 * message (anything else there fails the test). Lines that are not JSON
 * (a fatal `sisyphus: ...` line, a Node warning) are not log lines and are left out.
 */
export function logLines(p: CliProcess): LogLine[] {
  const text = p.err.join('');
  // The last piece is a line still being written unless the text ends with a newline.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${p.name} wrote a log line that is not JSON: ${line}`);
      }
      const at = typeof parsed.time === 'string' ? Date.parse(parsed.time) : Number.NaN;
      if (Number.isNaN(at) || typeof parsed.level !== 'string' || typeof parsed.msg !== 'string') {
        throw new Error(`${p.name} wrote a log line without an ISO time, a level name or a message: ${line}`);
      }
      return {
        at,
        level: parsed.level as LogLine['level'],
        ...(typeof parsed.component === 'string' ? { component: parsed.component } : {}),
        message: parsed.msg,
        fields: parsed,
      };
    });
}

/** How many times task `task` (1-based) of job `id`, a `module` task, started running, by these log lines (`running`, with its job and task). */
export function taskRuns(lines: LogLine[], id: string, task: number, module: string): number {
  return lines.filter((l) => l.fields.jobId === id && l.fields.task === task && l.fields.module === module && l.message === 'running').length;
}

/** `level [component] job ID task N module: message`: a log line as a person reads it. */
export function formatLogLine(l: LogLine): string {
  const f = l.fields;
  const who = f.jobId !== undefined ? `job ${String(f.jobId)}${f.task !== undefined ? ` task ${String(f.task)} ${String(f.module)}` : ''}: ` : '';
  return `${new Date(l.at).toISOString()} ${l.level} ${l.component ? `[${l.component}] ` : ''}${who}${l.message}`;
}

/**
 * The last `n` lines a process printed, for a failed test's message: log
 * lines made readable (progress percentages left out), anything else as printed.
 */
export function outputTail(p: CliProcess, n: number): string {
  const lines = p.out
    .join('')
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [line];
      try {
        const l = logLines({ ...p, err: [`${line}\n`] })[0]!;
        return /^\d+%$/.test(l.message) ? [] : [formatLogLine(l)];
      } catch {
        return [line];
      }
    });
  return lines.slice(-n).join('\n');
}

/** `sisyphus` processes started by a test, with their output kept for assertions. */
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

  /** SIGKILL every process still running, newest first, and wait until each has exited. */
  async killAll(): Promise<void> {
    for (const p of [...this.list].reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      const exited = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGKILL');
      await exited;
    }
  }

  /**
   * How many times any worker started job `id` (its log line: `job ID "title" started`,
   * `[slot] job ...` with several slots; not the other lines naming `job ID "title"`,
   * e.g. `the server cancelled job ID "title"`).
   */
  startsOf(id: string): number {
    const line = new RegExp(`^(?:\\[\\S+\\] )?job ${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ".*" started$`);
    return this.list
      .filter((p) => p.name.startsWith('worker'))
      .flatMap(logLines)
      .filter((l) => l.component === 'worker' && line.test(l.message)).length;
  }
}
