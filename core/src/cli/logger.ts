import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { Logger, LogLevel } from '../container/services.js';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { printable } from './printable.js';

/** How log lines look: one JSON object per line, or pino-pretty's coloured lines. */
export type LogFormat = 'json' | 'pretty';

/** The levels `LOG_LEVEL` accepts, lowest first (`silent` logs nothing). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** Settings of {@link createCliLogger}. */
export interface CliLoggerOptions {
  /** `--verbose`: debug lines too (beats `LOG_LEVEL`). */
  verbose?: boolean;
  /** `--log-format` (beats `LOG_FORMAT`); default: `pretty` when the stream is a terminal, else `json`. */
  format?: string;
  /** Where lines go. Default stderr (written synchronously: a crash loses no line). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Fields pino-pretty does not print as such: the message line shows them (see `prettyMessage`) or they are noise on a terminal. */
const PRETTY_HIDDEN = 'pid,hostname,component,jobId,task,module';

/**
 * `[worker] job 7 task 1 ffmpeg: 40%`: a pretty line's message with the
 * fields JSON keeps apart. The whole line is {@link printable}: messages
 * quote job titles, module names and program output, and a newline or an
 * escape sequence in them must not forge a line or recolour the terminal
 * (JSON lines escape them already).
 */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const component = typeof log.component === 'string' ? `[${log.component}] ` : '';
  let who = '';
  if (log.jobId !== undefined) {
    who = `job ${String(log.jobId)}`;
    if (log.task !== undefined) who += ` task ${String(log.task)}`;
    if (log.module !== undefined) who += ` ${String(log.module)}`;
    who += ': ';
  }
  return printable(`${component}${who}${String(log[messageKey] ?? '')}`);
}

/** A value of a log line with every string {@link printable}; a `stack` keeps its line breaks (pino-pretty indents each line under the entry). */
function printableValue(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key === 'stack' ? value.split('\n').map((line) => printable(line)).join('\n') : printable(value);
  if (Array.isArray(value)) return value.map((v) => printableValue(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableValue(v, k)]));
  return value;
}

/**
 * A JSON log line with every string field {@link printable}, for the pretty
 * output only: pino-pretty prints an error's stack and some characters of
 * other fields (C1 controls, bidi overrides) raw. JSON lines stay as they
 * are (JSON escapes control characters itself).
 */
function printableLogLine(line: string): string {
  try {
    return `${JSON.stringify(printableValue(JSON.parse(line)))}\n`;
  } catch {
    return printable(line.replace(/\n$/, '')) + '\n';
  }
}

function choose<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${what} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`, { code: ErrorCodes.USAGE });
  }
  return value as T;
}

/**
 * The one root logger of a long-running command (`sisyphus worker`,
 * `sisyphus server`); components log through children
 * (`logger.child({ component: 'worker' })`). Level: `--verbose` is `debug`,
 * else `LOG_LEVEL`, else `info`. Format: `--log-format`, else `LOG_FORMAT`,
 * else pretty on a terminal and JSON lines otherwise (a journal, a file, a
 * pipe): `{"level":"info","time":"2026-11-28T02:55:14.879Z","pid":7,
 * "hostname":"enc1","component":"worker","msg":"..."}`. Lines are written
 * synchronously, so nothing is lost when the process dies; pino-pretty is
 * loaded only for a terminal.
 */
export async function createCliLogger(options: CliLoggerOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<PinoLogger> {
  const level = options.verbose ? 'debug' : (choose(env.LOG_LEVEL, LOG_LEVELS, 'LOG_LEVEL') ?? 'info');
  const stream = options.stream ?? process.stderr;
  const format =
    choose(options.format, LOG_FORMATS, '--log-format') ?? choose(env.LOG_FORMAT, LOG_FORMATS, 'LOG_FORMAT') ?? (stream.isTTY ? 'pretty' : 'json');
  let destination: DestinationStream;
  if (format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    destination = pretty({
      destination: stream === process.stderr ? 2 : stream,
      sync: true,
      colorize: !!stream.isTTY && pretty.isColorSupported,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: PRETTY_HIDDEN,
      singleLine: true,
      messageFormat: prettyMessage,
    });
  } else {
    destination = stream === process.stderr ? pino.destination({ dest: 2, sync: true }) : (stream as DestinationStream);
  }
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: a line reads the same in a journal and in jq.
      formatters: { level: (label) => ({ level: label }) },
      ...(format === 'pretty' ? { hooks: { streamWrite: printableLogLine } } : {}),
    },
    destination,
  );
}

/**
 * The engine's and the transports' {@link Logger} over a pino logger:
 * `info(message, fields)` becomes pino's `info(fields, message)`.
 */
export function asLogger(log: PinoLogger): Logger {
  const method = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (fields && Object.keys(fields).length) log[level](fields, message);
    else log[level](message);
  };
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}
