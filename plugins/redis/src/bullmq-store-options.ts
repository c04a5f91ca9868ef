import type { RedisOptions } from 'ioredis';

/** Options of {@link BullmqStore.open}. */
export interface BullmqStoreOptions {
  /** A `redis://HOST:PORT/DB` URL or ioredis options. */
  connection: string | RedisOptions;
  /** Key prefix of this installation: every key is `${prefix}:...`. */
  prefix: string;
  /**
   * How long (wall-clock ms) a BullMQ lock outlives the lease it belongs to
   * (default 30 000). The lease (`lease_expires`, decided by the `now` the
   * server passes) is what counts; the lock is the safety net BullMQ's
   * stalled check uses when no server sweeps leases any more.
   */
  lockGraceMs?: number;
  /**
   * The lease most calls ask for (default 30 000; the server passes its
   * `leaseSeconds`). BullMQ takes each job's lock for this plus
   * `lockGraceMs` as it hands the job out, so a lease no longer than this
   * costs no separate lock extension.
   */
  leaseMs?: number;
  /**
   * Told once when the connection to Redis is lost, and when it is back;
   * and at open when the installed BullMQ lacks what the one-round-trip
   * report takes (reports then cost more round trips).
   */
  log?: (level: 'warn' | 'info', message: string) => void;
  /** Start BullMQ's stalled-job check on this instance (default true). */
  stalledCheck?: boolean;
  /**
   * Fail calls at once while Redis is away, and never send a call again
   * after a reconnect (default false: ioredis queues them and resends the
   * unanswered ones). For callers that time out and retry on their own,
   * such as the direct transport: a resent report or poll would otherwise
   * run after its caller gave up (a job leased to a worker that never hears
   * of it).
   */
  failFast?: boolean;
}
