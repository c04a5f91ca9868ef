import type { Logger, LogLevel } from '../container/services.js';

/**
 * A {@link Logger} that writes one timestamped line per message, for a
 * long-running process whose output goes to a journal or a file:
 * `2026-11-28T02:55:14.879Z warn  message`. Debug lines only when `verbose`.
 */
export function createLineLogger(stream: NodeJS.WritableStream, verbose = false): Logger {
  const write = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (level === 'debug' && !verbose) return;
    const extra = verbose && fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    stream.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${extra}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
