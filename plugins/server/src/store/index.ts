/**
 * `@sisyphus/server/store`: the store contract and what store implementations
 * share, without the HTTP server (fastify and its plugins are not loaded), for
 * packages such as `@sisyphus/redis` whose workers use a store directly.
 */
export type {
  QueueStore, StoredJob, NewJob, JobState, JobOutcome, WorkerRecord, FinishResult, CancelResult, JobPage, PollResult, FinishAndPollResult,
  JobFlow, ChildResult, WaitForChildren, JobRequirements, LeaseOptions,
  DocumentPage, PurgeRule, JobFilter, JobCounts, PriorityResult, NewQueueEvent, QueueEvent, EventRead, QueueEventLog,
} from './queue-store.js';
export { EVENT_LOG_KEEP, canRun } from './queue-store.js';
export { compareWorkers } from './worker-order.js';
export { StoreError, STORE_ERROR_STATUS, isStoreError, jobExists, jobNotFound, type StoreErrorCode } from './store-error.js';
export { MAX_PAGE_SIZE, pageSize, encodeCursor, decodeCursor, type CursorFields } from './list-paging.js';
export { normaliseAttributes, type Attributes } from './attributes.js';
export { workerRecord, type StoredHeartbeat } from './worker-presence.js';
export { WEBHOOK_DELIVERIES_KEEP, type WebhookStore, type WebhookDelivery, type WebhookDeliveryStatus, type NewWebhookDelivery, type WebhookAttemptOutcome, type WebhookSummary, type OfflineWorker } from './webhook-store.js';
export { WATCH_BATCH, WATCH_FINAL_OUTCOMES, type WatchStore, type WatchFileRecord, type WatchOutputRecord, type WatchRuleRecord, type WatchScanStatus, type WatchFilePage, type WatchOutcome } from './watch-store.js';
export type { QueueMetricsStore, PriorityDepth } from './queue-metrics.js';
