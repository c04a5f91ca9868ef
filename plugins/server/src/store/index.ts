/**
 * `@sisyphus/server/store`: the store contract and what store implementations
 * share, without the HTTP server (fastify and its plugins are not loaded), for
 * packages such as `@sisyphus/redis` whose workers use a store directly.
 */
export type {
  QueueStore, StoredJob, NewJob, JobState, JobOutcome, WorkerRecord, FinishResult, CancelResult, JobPage, PollResult, FinishAndPollResult,
} from './queue-store.js';
export { compareWorkers } from './worker-order.js';
