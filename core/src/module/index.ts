export { ErrorCodes, type ErrorCode } from './error-codes.js';
export {
  SisyphusError,
  InitializationError,
  ValidationError,
  RunError,
  CleanupError,
  CancelledError,
  JobError,
  ConfigError,
  tagError,
  type Phase,
  type SisyphusErrorOptions,
} from './errors.js';
export { defineModule, isTaskModule } from './define-module.js';
export type {
  TaskModule,
  TaskHandler,
  TaskHandlerClass,
  RunOutcome,
  ClassModuleDefinition,
  SetupModuleDefinition,
} from './task-module.js';
