export { createProcessRunner, type ProcessRunner, type RunProcessOptions, type ProcessResult } from './process-runner.js';
export { ProcessError, type ProcessOutcome } from './process-error.js';
export { findExecutable, requireExecutable, type ExecutableLookup } from './find-executable.js';
export { formatCommand } from './format-command.js';
