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
  type Phase,
  type SisyphusErrorOptions,
} from './errors.js';
export { defineModule, isTaskModule } from './define-module.js';
export type {
  TaskModule,
  SetupTaskModule,
  ClassTaskModule,
  TaskHandler,
  TaskHandlerClass,
  RunOutcome,
  ClassModuleDefinition,
  SetupModuleDefinition,
  SettingsOf,
  ModuleData,
  ModuleContext,
} from './task-module.js';
export {
  WaitingChildrenError,
  MAX_CHILDREN,
  type TaskChildren,
  type ChildJob,
  type ChildOutcome,
  type ResumedStep,
  type WaitOptions,
} from './task-children.js';
