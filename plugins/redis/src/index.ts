/**
 * @sisyphus/redis: Sisyphus on Redis. {@link BullmqStore} is the job server's
 * `QueueStore` (from `@sisyphus/server`) on BullMQ + ioredis, so that several
 * server instances can share one queue on one Redis; {@link RedisTransport}
 * (`transport: redis` in the worker config) lets workers that reach Redis
 * take jobs straight from that queue, without the HTTP server.
 */
import { createRequire } from 'node:module';
import { definePlugin } from '@sisyphus/core';
import { type TransportFactory } from '@sisyphus/core/transport';
import { createRedisTransport, type RedisTransportOptions } from './redis-transport.js';

export { BullmqStore, type BullmqStoreOptions } from './bullmq-store.js';
export { MAX_PRIORITY, MIN_PRIORITY } from './priority-mapping.js';
export { RedisTransport, createRedisTransport, type RedisTransportOptions, type RedisLease } from './redis-transport.js';
export { resolveRedisTransportOptions, type ResolvedRedisTransportOptions } from './redis-transport-options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `redis` transport as the worker config names it (`transport: { name: 'redis', options: { connection, prefix } }`). */
export const redisTransportFactory: TransportFactory<RedisTransportOptions> = {
  name: 'redis',
  description: 'Straight from the BullMQ queue on Redis (the servers\' store), without the HTTP server',
  create: (options, context) =>
    createRedisTransport({ ...(context?.logger ? { logger: context.logger } : {}), ...(context?.modules ? { modules: context.modules } : {}), ...options }),
};

/** The plugin: default export, for worker configs that use `transport: redis`. */
export default definePlugin({ name: '@sisyphus/redis', version, transports: [redisTransportFactory] });
