export { TOKENS, type Token } from './tokens.js';
export type { Logger, LogLevel, Progress, ProgressReporter, TaskInfo, TaskContext, JobOutputs } from './services.js';
