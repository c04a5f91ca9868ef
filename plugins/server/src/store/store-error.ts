import { ErrorCodes, SisyphusError, type ErrorCode } from '@sisyphus/core';

/** The codes a {@link QueueStore} (and the queue rules over it) raises. */
export type StoreErrorCode =
  | typeof ErrorCodes.JOB_EXISTS
  | typeof ErrorCodes.JOB_NOT_FOUND
  | typeof ErrorCodes.LEASE_LOST
  | typeof ErrorCodes.JOB_STATE
  | typeof ErrorCodes.BAD_CURSOR
  | typeof ErrorCodes.STORE_UNAVAILABLE
  | typeof ErrorCodes.VALIDATION;

/** The HTTP status of each store error code: the one place the server maps them. */
export const STORE_ERROR_STATUS: Readonly<Record<StoreErrorCode, number>> = {
  SIS_JOB_EXISTS: 409,
  SIS_JOB_NOT_FOUND: 404,
  SIS_LEASE_LOST: 409,
  SIS_JOB_STATE: 409,
  SIS_BAD_CURSOR: 400,
  SIS_STORE_UNAVAILABLE: 503,
  /** A report whose child jobs are not job documents (`waiting_children`). */
  SIS_VALIDATION: 400,
};

/**
 * A refusal of the queue store, with a stable code (see docs/errors.md):
 * every store raises the same code for the same case, which the
 * conformance suite checks, and the server answers it with the status of
 * {@link STORE_ERROR_STATUS}.
 */
export class StoreError extends SisyphusError {
  declare code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { ...options, code: code as ErrorCode });
  }
}

/** Is `error` a {@link StoreError} (with code `code`, when given)? Works across package copies. */
export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  const c = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof c === 'string' && c in STORE_ERROR_STATUS && (code === undefined || c === code);
}

/** `SIS_JOB_EXISTS` for `jobId`. */
export const jobExists = (jobId: string) => new StoreError(ErrorCodes.JOB_EXISTS, `job ${jobId} exists already`);
/** `SIS_JOB_NOT_FOUND` for `jobId`. */
export const jobNotFound = (jobId: string) => new StoreError(ErrorCodes.JOB_NOT_FOUND, `no job ${jobId}`);
