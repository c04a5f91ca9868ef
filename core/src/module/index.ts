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
export { CAPABILITY_KINDS, type CapabilityKind, type GpuDevice, type ModuleDetection, type DetectContext, type RequiresContext } from './module-hooks.js';
export { detectBinaryVersion, type BinaryVersionOptions } from './binary-version.js';
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
