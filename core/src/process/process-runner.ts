import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { ProcessError, type ProcessOutcome } from './process-error.js';
import { killAllGroups, signalGroup, trackGroup, untrackGroup } from './process-groups.js';
import { findExecutable } from './find-executable.js';

/** Options for {@link ProcessRunner.run}. */
export interface RunProcessOptions {
  /** Working directory of the child. */
  cwd?: string;
  /** Extra environment variables (merged over the parent's). */
  env?: Record<string, string>;
  /** Called for every stdout line (split on \n, \r\n and \r). */
  onStdoutLine?: (line: string) => void;
  /** Called for every stderr line. */
  onStderrLine?: (line: string) => void;
  /** How many trailing stderr lines to keep for errors. Default 20. */
  stderrTailLines?: number;
  /** Stops the child (and its whole process group). Defaults to the task's signal. */
  signal?: AbortSignal;
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping. Default 1500 ms (all gone within 2 s). */
  killGraceMs?: number;
  /** Exit codes that count as success. Default `[0]`. */
  okExitCodes?: readonly number[];
}

/** What a successful run reports. */
export interface ProcessResult extends ProcessOutcome {
  exitCode: number;
}

/**
 * Runs programs as argv arrays (never through a shell), each in its own
 * process group, streaming output lines to parsers and stopping the whole
 * group on cancel. Injected into modules under `TOKENS.ProcessRunner`.
 */
export interface ProcessRunner {
  /**
   * Run `file` with `args`. Resolves when the exit code is in `okExitCodes`;
   * otherwise rejects with a {@link ProcessError} (exit code, signal,
   * cancelled/timed-out flags, stderr tail, execa's error as `cause`).
   */
  run(file: string, args: readonly string[], options?: RunProcessOptions): Promise<ProcessResult>;
}

let deathWrapper: Promise<string[]> | undefined;
/**
 * `setpriv --pdeathsig SIGKILL --` (util-linux) when available: the kernel
 * kills the child when this process dies, even by SIGKILL, so an encode can
 * never outlive its worker. setpriv execs the program in place (same pid,
 * same process group), so nothing else changes.
 */
function parentDeathWrapper(): Promise<string[]> {
  deathWrapper ??= process.platform === 'linux'
    ? findExecutable('setpriv').then((found) => (found.path ? [found.path, '--pdeathsig', 'SIGKILL', '--'] : []))
    : Promise.resolve([]);
  return deathWrapper;
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Children lead their own groups, so nothing kills them when we exit: do it here.
  process.once('exit', () => killAllGroups('SIGKILL'));
}

/** Keep the last `max` items pushed. */
function tailKeeper(max: number): { push(line: string): void; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    push(line: string) {
      lines.push(line);
      if (lines.length > max) lines.shift();
    },
  };
}

function lineReader(stream: Readable | null | undefined, onLine: (line: string) => void): Promise<unknown> {
  if (!stream) return Promise.resolve();
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', onLine);
  return once(rl, 'close').catch(() => undefined);
}

/**
 * The execa-backed {@link ProcessRunner}. `defaultSignal` (a signal, or a
 * function giving the signal of the current phase) applies when a call
 * passes none.
 */
export function createProcessRunner(defaultSignal?: AbortSignal | (() => AbortSignal | undefined)): ProcessRunner {
  return {
    async run(file, args, options = {}) {
      if (!Array.isArray(args)) throw new TypeError('process arguments must be an array');
      const signal = options.signal ?? (typeof defaultSignal === 'function' ? defaultSignal() : defaultSignal);
      const graceMs = options.killGraceMs ?? 1500;
      const okCodes = options.okExitCodes ?? [0];
      const command = [file, ...args];
      const stderrTail = tailKeeper(options.stderrTailLines ?? 20);
      const name = basename(file);

      if (signal?.aborted) {
        throw new ProcessError(`${name} was not started: cancelled`, {
          command, isCanceled: true, timedOut: false, stderrTail: [], durationMs: 0, notStarted: true,
        });
      }

      installExitHook();
      // Imported on first use: most CLI invocations never start a process.
      const [{ execa }, wrapper, program] = await Promise.all([import('execa'), parentDeathWrapper(), findExecutable(file)]);
      if (!program.path) {
        throw new ProcessError(`${name} could not be started (${file}): program not found`, {
          command, isCanceled: false, timedOut: false, stderrTail: [], durationMs: 0, notStarted: true,
        });
      }
      const started = Date.now();
      const argv = [...wrapper, program.path, ...args];
      const child = execa(argv[0]!, argv.slice(1), {
        cwd: options.cwd,
        env: options.env,
        extendEnv: true,
        detached: true,
        stdin: 'ignore',
        buffer: false,
        reject: false,
        shell: false,
      });
      const pid = child.pid;
      if (pid !== undefined) trackGroup(pid);

      let isCanceled = false;
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (pid === undefined) return;
        signalGroup(pid, 'SIGTERM');
        killTimer ??= setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      };
      const onAbort = () => {
        isCanceled = true;
        stop();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const timeout = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs)
        : undefined;

      const readers = [
        lineReader(child.stdout, (line) => options.onStdoutLine?.(line)),
        lineReader(child.stderr, (line) => {
          stderrTail.push(line);
          options.onStderrLine?.(line);
        }),
      ];
      const result = await child;
      await Promise.all(readers);
      signal?.removeEventListener('abort', onAbort);
      if (timeout) clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      if (pid !== undefined) {
        // A stopped leader may leave grandchildren behind in its group: sweep them.
        if (isCanceled || timedOut) signalGroup(pid, 'SIGKILL');
        untrackGroup(pid);
      }

      const outcome: ProcessOutcome = {
        command,
        isCanceled,
        timedOut,
        stderrTail: stderrTail.lines,
        durationMs: Date.now() - started,
      };
      if (typeof result.exitCode === 'number') outcome.exitCode = result.exitCode;
      if (result.signal) outcome.signal = result.signal;

      if (pid === undefined || (result.failed && result.exitCode === undefined && !result.signal && !isCanceled && !timedOut)) {
        const reason = (result as { code?: string }).code === 'ENOENT' ? 'program not found' : (result as { shortMessage?: string }).shortMessage ?? 'could not start';
        throw new ProcessError(`${name} could not be started (${file}): ${reason}`, { ...outcome, notStarted: true }, result);
      }
      if (isCanceled) throw new ProcessError(`${name} was cancelled`, outcome, result);
      if (timedOut) throw new ProcessError(`${name} timed out after ${options.timeoutMs} ms`, outcome, result);
      if (outcome.exitCode === undefined || !okCodes.includes(outcome.exitCode)) {
        const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
        const last = [...stderrTail.lines].reverse().find((l) => l.trim() !== '');
        throw new ProcessError(`${name} ${how}${last ? `: ${last.trim()}` : ''}`, outcome, result);
      }
      return { ...outcome, exitCode: outcome.exitCode };
    },
  };
}
