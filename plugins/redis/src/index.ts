/**
 * @sisyphus/redis: Sisyphus on Redis. {@link BullmqStore} is the job server's
 * `QueueStore` (from `@sisyphus/server`) on BullMQ + ioredis, so that several
 * server instances can share one queue on one Redis.
 */
export { BullmqStore, MAX_PAGE_SIZE, type BullmqStoreOptions } from './bullmq-store.js';
export { MAX_PRIORITY, MIN_PRIORITY } from './priority-mapping.js';
