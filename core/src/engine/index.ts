export { Engine, type EngineSettings, type RunOptions, type JobPlan, type PlannedTask } from './engine.js';
export { createEngine, type CreateEngineOptions } from './create-engine.js';
export type { EngineEvents, JobStartEvent, JobEndEvent, TaskPhaseEvent, ProgressEvent, LogEvent } from './events.js';
export type { JobResult, TaskRecord } from './job-result.js';
export { takeResume, type WaitingChildren, type JobResume, type ResumedChild } from './job-flow.js';
