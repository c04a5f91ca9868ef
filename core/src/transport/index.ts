export {
  isTransportFactory,
  type Transport,
  type LeasedJob,
  type WorkerStatus,
  type HeartbeatReply,
  type NextOptions,
  type HeartbeatOptions,
  type TransportCapabilities,
  type CompleteReply,
  type CompleteOptions,
  type TransportContext,
  type TransportFactory,
} from './transport.js';
export { TransportError, isRetryable, type TransportErrorOptions } from './transport-error.js';
export { completionBody, type CompletionBody } from './completion-body.js';
export { transportDataStore } from '../data/transport-data-store.js';
export { redactUrl } from './redact-url.js';
export { capabilityList, readWorkerCapabilities, type WorkerCapabilities } from '../worker/worker-capabilities.js';
export { QUEUE_ID_MAX_LENGTH, QUEUE_ID_PATTERN, QUEUE_ID_RULE, queueIdProblem } from '../job/queue-id.js';
