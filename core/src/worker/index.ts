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
export {
  claimWorkerId,
  loadOrCreateWorkerId,
  defaultStateDir,
  WORKER_ID_FILE,
  MAX_WORKER_INSTANCES,
  LOCK_REFRESH_MS,
  LOCK_STALE_MS,
  type ClaimedWorkerId,
  type ClaimWorkerIdOptions,
} from './worker-id.js';
export { PROGRESS_HEARTBEAT_MS } from './worker-slot.js';
export { createFileOutbox, type ResultOutbox, type KeptResult } from './result-outbox.js';
export { slotWorkerIds } from './slot-worker-id.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { resolveWorkerSettings, WORKER_ENV, type WorkerSettings, type WorkerFlags } from './worker-settings.js';
export { findTransport, createTransport, DEFAULT_TRANSPORT_PLUGINS, TRANSPORT_PACKAGES, type FoundTransport } from './load-transport.js';
export { killAllGroups, liveGroups } from '../process/process-groups.js';
export { capabilityList, readWorkerCapabilities, TAG_PATTERN, type WorkerCapabilities } from './worker-capabilities.js';
export { detectWorkerCapabilities, DETECT_TIMEOUT_MS, type DetectCapabilitiesOptions } from './detect-capabilities.js';
export { detectGpus, gpuVendors, GPU_VENDORS, type DetectGpusOptions } from './detect-gpus.js';
