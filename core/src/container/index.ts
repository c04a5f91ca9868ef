export { TOKENS, type Token } from './tokens.js';
export type { Logger, LogLevel, Progress, ProgressReporter, TaskActivity, TaskInfo, TaskContext, JobOutputs } from './services.js';
