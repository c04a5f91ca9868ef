export { describeQueueStore, type QueueStoreSuiteOptions } from './store-conformance.js';
export { queuedJobs } from './queued-jobs.js';
