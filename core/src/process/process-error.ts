import { ErrorCodes } from '../module/error-codes.js';

/** Facts about a finished (or failed-to-start) child process. */
export interface ProcessOutcome {
  /** The argv that was run, program first. */
  command: readonly string[];
  /** Exit code, when the process exited by itself. */
  exitCode?: number;
  /** Signal that ended the process, when one did. */
  signal?: string;
  /** True when the process was stopped because its AbortSignal fired. */
  isCanceled: boolean;
  /** True when the process was stopped because its timeout ran out. */
  timedOut: boolean;
  /** The last lines of stderr (at most `stderrTailLines`). */
  stderrTail: string[];
  /** Wall time in milliseconds. */
  durationMs: number;
}

/**
 * A child process failed: non-zero exit, death by signal, cancellation,
 * timeout, or it could not be started. `cause` holds execa's error/result.
 */
export class ProcessError extends Error implements ProcessOutcome {
  /** Always `SIS_PROCESS_FAILED`. */
  readonly code = ErrorCodes.PROCESS_FAILED;
  readonly command: readonly string[];
  readonly exitCode?: number;
  readonly signal?: string;
  readonly isCanceled: boolean;
  readonly timedOut: boolean;
  readonly stderrTail: string[];
  readonly durationMs: number;
  /** True when the program could not be started at all (e.g. ENOENT). */
  readonly notStarted: boolean;

  constructor(message: string, outcome: ProcessOutcome & { notStarted?: boolean }, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ProcessError';
    this.command = outcome.command;
    if (outcome.exitCode !== undefined) this.exitCode = outcome.exitCode;
    if (outcome.signal !== undefined) this.signal = outcome.signal;
    this.isCanceled = outcome.isCanceled;
    this.timedOut = outcome.timedOut;
    this.stderrTail = outcome.stderrTail;
    this.durationMs = outcome.durationMs;
    this.notStarted = outcome.notStarted ?? false;
  }
}
