export { createWorker, SisyphusWorker, type WorkerOptions, type StopOptions } from './create-worker.js';
export type {
  WorkerEvents,
  WorkerHeartbeatEvent,
  WorkerPollSkipEvent,
  WorkerJobStartEvent,
  WorkerJobEndEvent,
  WorkerJobReportedEvent,
  WorkerJobAbortEvent,
  WorkerNetworkEvent,
  WorkerLogEvent,
} from './worker-events.js';
export { loadOrCreateWorkerId, defaultStateDir, WORKER_ID_FILE } from './worker-id.js';
export { createFileOutbox, type ResultOutbox, type KeptResult } from './result-outbox.js';
export { slotWorkerIds } from './slot-worker-id.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { resolveWorkerSettings, WORKER_ENV, type WorkerSettings, type WorkerFlags } from './worker-settings.js';
export { findTransport, createTransport, DEFAULT_TRANSPORT_PLUGINS, type FoundTransport } from './load-transport.js';
export { killAllGroups, liveGroups } from '../process/process-groups.js';
