/**
 * `@sisyphus/server/store`: the store contract and what store implementations
 * share, without the HTTP server (fastify and its plugins are not loaded), for
 * packages such as `@sisyphus/redis` whose workers use a store directly.
 */
export type {
  QueueStore, StoredJob, NewJob, JobState, JobOutcome, WorkerRecord, FinishResult, CancelResult, JobPage, PollResult, FinishAndPollResult,
  JobFlow, ChildResult, WaitForChildren,
  DocumentPage, PurgeRule, JobFilter, JobCounts, PriorityResult, NewQueueEvent, QueueEvent, EventRead, QueueEventLog,
} from './queue-store.js';
export { EVENT_LOG_KEEP } from './queue-store.js';
export { compareWorkers } from './worker-order.js';
export { StoreError, STORE_ERROR_STATUS, isStoreError, jobExists, jobNotFound, type StoreErrorCode } from './store-error.js';
export { MAX_PAGE_SIZE, pageSize, encodeCursor, decodeCursor, type CursorFields } from './list-paging.js';
export { normaliseAttributes, type Attributes } from './attributes.js';
export { workerRecord, type StoredHeartbeat } from './worker-presence.js';
