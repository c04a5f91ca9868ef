import { ErrorCodes } from '../module/error-codes.js';
import { SisyphusError } from '../module/errors.js';
import type { JobResult } from '../engine/job-result.js';

/** Exit codes of the `sisyphus` command. */
export const ExitCodes = {
  /** The job completed (or the command did what it was asked). */
  OK: 0,
  /** The job failed. */
  FAILED: 1,
  /** Bad input or usage: nothing ran. */
  BAD_INPUT: 2,
  /**
   * The job server cannot be reached (connection refused, no such host,
   * timed out, or a 502/503/504 answer). After a refused connection or an
   * unknown host nothing was sent; after a timeout or a gateway's answer the
   * request may have arrived (the message says so and names the job id).
   */
  UNREACHABLE: 3,
  /** Cancelled (Ctrl-C). */
  CANCELLED: 130,
} as const;

/** Codes that mean "the job as given cannot run" rather than "it ran and failed". */
const BAD_INPUT_CODES = new Set<string>([
  ErrorCodes.VALIDATION,
  ErrorCodes.MODULE_NOT_FOUND,
  ErrorCodes.PATH_NOT_ALLOWED,
  ErrorCodes.JOB_INVALID,
  ErrorCodes.TEMPLATE,
  ErrorCodes.JOB_FILE,
  ErrorCodes.DATA_NOT_FOUND,
  ErrorCodes.USAGE,
]);

/** Is an error with this code bad input (exit 2)? */
export function isBadInput(code: string | undefined): boolean {
  return code !== undefined && (BAD_INPUT_CODES.has(code) || code.startsWith('SIS_PLUGIN') || code === ErrorCodes.CONFIG_INVALID ||
    code === ErrorCodes.NOT_A_PLUGIN || code === ErrorCodes.DUPLICATE_MODULE || code === ErrorCodes.SETTINGS_INVALID);
}

/** The exit code for an error that ended a command: 3 server unreachable, 2 bad input, else 1. */
export function exitCodeForError(error: unknown): number {
  if (!(error instanceof SisyphusError)) return ExitCodes.FAILED;
  if (error.code === ErrorCodes.SERVER_UNREACHABLE) return ExitCodes.UNREACHABLE;
  return isBadInput(error.code) ? ExitCodes.BAD_INPUT : ExitCodes.FAILED;
}

/** The exit code for a finished job. */
export function exitCodeFor(result: JobResult): number {
  if (result.completed) return ExitCodes.OK;
  if (result.cancelled) return ExitCodes.CANCELLED;
  if (result.phase === 'validate' || result.phase === undefined) return isBadInput(result.code) ? ExitCodes.BAD_INPUT : ExitCodes.FAILED;
  return ExitCodes.FAILED;
}
