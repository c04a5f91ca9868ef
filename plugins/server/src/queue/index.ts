/**
 * `@sisyphus/server/queue`: the rules of the queue over any store, used by
 * the server's routes and by transports that reach a store directly (the
 * Redis transport), without loading the HTTP server.
 */
export { jobDocument } from './job-document.js';
export { leasedDocument } from './job-flow.js';
export { reportJob, type JobReport, type ReportOptions, type ReportOutcome } from './job-report.js';
export { recordHeartbeat, type HeartbeatOptions } from './worker-heartbeat.js';
export { LeaseSweeper, type LeaseSweeperOptions } from './lease-sweeper.js';
export { HistoryRetention, FINAL_STATES, type FinalState, type RetentionRule, type RetentionSettings, type HistoryRetentionOptions } from './history-retention.js';
export { EventedQueueStore, withQueueEvents, type QueueEventsOptions } from './evented-store.js';
export { QUEUE_EVENT_TYPES, jobSummary, type QueueEventType, type JobSummary } from './queue-events.js';
export { retryJob, retryAll, type Retried, type RetryAllOutcome } from './job-retry.js';
export { checkSchedule, scheduleState, WEEKDAYS, type WorkerSchedule, type ScheduleWindow, type ScheduleState, type Weekday } from './worker-schedule.js';
export { appliedSchedule, scheduleBlock, workerScheduleBlock, workerTags, type AppliedSchedule, type ScheduleBlock } from './applied-schedule.js';
export { checkScheduleAttributes, seedSchedules, type ScheduleSettings } from './schedule-attributes.js';
