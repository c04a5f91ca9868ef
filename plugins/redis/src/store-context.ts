import type { Redis } from 'ioredis';
import type { BullmqInternals } from './bullmq-internals.js';
import type { StoreKeys } from './store-keys.js';

/** What the parts of a {@link BullmqStore} share. */
export interface StoreContext {
  /** Our own commands (and our scripts, see lua-scripts.ts); BullMQ's queue shares it. */
  readonly redis: Redis;
  readonly keys: StoreKeys;
  /** BullMQ's queue and manually processing worker on this prefix. */
  readonly bull: BullmqInternals;
  /** How long (wall-clock ms) a BullMQ lock outlives the lease it belongs to. */
  readonly lockGraceMs: number;
}
