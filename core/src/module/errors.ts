import { ErrorCodes, type ErrorCode } from './error-codes.js';

/** The four lifecycle phases a task goes through, in order. */
export type Phase = 'init' | 'validate' | 'run' | 'cleanup';

/** Options shared by every Sisyphus error. */
export interface SisyphusErrorOptions {
  /** Override the class's default code (must be one of {@link ErrorCodes}). */
  code?: ErrorCode;
  /** The module the error belongs to. Filled in by the engine when missing. */
  module?: string;
  /** Zero-based index of the task in its job. Filled in by the engine when missing. */
  taskIndex?: number;
  /** The underlying error. */
  cause?: unknown;
  /** Extra machine-readable facts (e.g. the JSON path of a bad field). */
  details?: Record<string, unknown>;
}

/**
 * Base class of every error Sisyphus raises on purpose. Carries a stable
 * `code`, and where known the module, task index and lifecycle phase.
 */
export class SisyphusError extends Error {
  /** Stable, documented error code (see `docs/errors.md`). */
  code: ErrorCode;
  /** Module the error belongs to, when it belongs to one. */
  module?: string;
  /** Zero-based task index, when the error belongs to a task. */
  taskIndex?: number;
  /** Lifecycle phase, when the error happened inside one. */
  phase?: Phase;
  /** Extra machine-readable facts. */
  details?: Record<string, unknown>;

  constructor(message: string, options: SisyphusErrorOptions = {}, defaultCode: ErrorCode = ErrorCodes.RUN) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? defaultCode;
    if (options.module !== undefined) this.module = options.module;
    if (options.taskIndex !== undefined) this.taskIndex = options.taskIndex;
    if (options.details !== undefined) this.details = options.details;
  }

  /** One line: `CODE module (task N, phase): message`, leaving out what is unknown. */
  describe(): string {
    const where: string[] = [];
    if (this.taskIndex !== undefined) where.push(`task ${this.taskIndex + 1}`);
    if (this.phase !== undefined) where.push(this.phase);
    const who = this.module ? `${this.module}${where.length ? ` (${where.join(', ')})` : ''}: ` : '';
    return `${this.code} ${who}${this.message}`;
  }
}

/** A module could not be initialised (missing binary, bad settings...). */
export class InitializationError extends SisyphusError {
  override phase: Phase = 'init';
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.INIT);
  }
}

/** Task data failed the module's schema or the module's own checks. */
export class ValidationError extends SisyphusError {
  override phase: Phase = 'validate';
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.VALIDATION);
  }
}

/** The module's work failed. */
export class RunError extends SisyphusError {
  override phase: Phase = 'run';
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.RUN);
  }
}

/** The module's own tidy-up failed. */
export class CleanupError extends SisyphusError {
  override phase: Phase = 'cleanup';
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.CLEANUP);
  }
}

/** The job was cancelled (code `SIS_CANCELLED`) or a task timed out (`SIS_TIMEOUT`). */
export class CancelledError extends SisyphusError {
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.CANCELLED);
  }
}

/** The job document, its template variables or its file are unusable. */
export class JobError extends SisyphusError {
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.JOB_INVALID);
  }
}

/** Configuration or plugin loading failed at startup. */
export class ConfigError extends SisyphusError {
  constructor(message: string, options: SisyphusErrorOptions = {}) {
    super(message, options, ErrorCodes.CONFIG_INVALID);
  }
}

const phaseClasses = {
  init: InitializationError,
  validate: ValidationError,
  run: RunError,
  cleanup: CleanupError,
} as const;

/**
 * Tag whatever a module threw with its module, task index and phase. A
 * {@link SisyphusError} keeps its class and code; anything else is wrapped in
 * the phase's error class with the original as `cause`. The phase is
 * always the one the error happened in.
 */
export function tagError(error: unknown, phase: Phase, module: string, taskIndex: number): SisyphusError {
  let tagged: SisyphusError;
  if (error instanceof SisyphusError) {
    tagged = error;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    tagged = new phaseClasses[phase](message, { cause: error });
  }
  tagged.module ??= module;
  tagged.taskIndex ??= taskIndex;
  tagged.phase = phase;
  return tagged;
}
