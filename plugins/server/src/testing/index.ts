export { describeQueueStore, type QueueStoreSuiteOptions } from './store-conformance.js';
