import { pino, type Logger } from 'pino';

/** A line the server logged, as pino wrote it. */
export interface LoggedLine {
  level: string;
  msg: string;
  component?: string;
  [field: string]: unknown;
}

/** A real pino logger (JSON lines, level names) whose lines are kept, parsed, in `lines`. */
export function captureLog(level = 'info'): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = pino(
    { level, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => void lines.push(JSON.parse(line) as LoggedLine) },
  );
  return { logger, lines };
}
