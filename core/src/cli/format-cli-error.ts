import { SisyphusError } from '../module/errors.js';

/** One clear line for an error; with `verbose`, the stack and causes too. */
export function formatCliError(error: unknown, verbose: boolean): string {
  const line = error instanceof SisyphusError ? error.describe() : error instanceof Error ? error.message : String(error);
  if (!verbose) return `sisyphus: ${line.split('\n')[0]}`;
  const parts = [`sisyphus: ${line}`];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(current.stack ?? String(current));
    current = current.cause;
    if (current !== undefined) parts.push('caused by:');
  }
  return parts.join('\n');
}
