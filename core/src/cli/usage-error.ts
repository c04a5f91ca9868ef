import { JobError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

/** A command-line usage error (exit 2, one line). */
export function usage(message: string): JobError {
  return new JobError(message, { code: ErrorCodes.USAGE });
}
