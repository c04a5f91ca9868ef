import { ConfigError, ErrorCodes, type Logger, type ModuleLookup } from '@sisyphus/core';
import type { RedisOptions } from 'ioredis';
import { redactUrl } from '@sisyphus/core/transport';

/** Options of `createRedisTransport` (the worker config's `transport.options` for `transport: redis`). */
export type RedisTransportOptions = {
  /** A `redis://HOST:PORT/DB` URL or ioredis options: the Redis the servers use. */
  connection: string | RedisOptions;
  /** Key prefix of the installation: the same as the servers' (`storePrefix`, `--store-prefix`), so it is the same queue. */
  prefix: string;
  /** Lease of a taken job, renewed by each heartbeat (default 30; the server's `leaseSeconds`). */
  leaseSeconds?: number;
  /** How long a heartbeat keeps the worker listed (default 30; the server's `clientExpirySeconds`). */
  clientExpirySeconds?: number;
  /**
   * While a long-polling `next()` waits: milliseconds between looks at the
   * queue (default 1000). Submits and requeues wake it at once (Redis
   * pub/sub); the looks are for a missed message.
   */
  pollIntervalMs?: number;
  /**
   * Also look after the queue, as every server does (default true): requeue
   * jobs whose lease ran out (their worker died) and run BullMQ's stalled
   * check, so workers on Redis need no server to keep jobs from getting
   * stuck. Several processes doing it at once is safe.
   */
  maintenance?: boolean;
  /** With `maintenance`: a job whose lease ran out this many times fails (default 3; the server's `maxAttempts`). */
  maxAttempts?: number;
  /** With `maintenance`: milliseconds between looks for ended leases (default 5000). */
  sweepIntervalMs?: number;
  /** A Redis call (or opening the store) that takes longer fails as retryable (default 10 000). */
  callTimeoutMs?: number;
  /** Connection notes. */
  logger?: Logger;
  /** The worker's modules, for the requirements of child jobs its tasks hand over (`TransportContext.modules`; set by the worker, not the config). */
  modules?: ModuleLookup;
};

/** {@link RedisTransportOptions} with every default filled in. */
export type ResolvedRedisTransportOptions = Required<Omit<RedisTransportOptions, 'logger' | 'modules'>> & Pick<RedisTransportOptions, 'logger' | 'modules'>;

const KNOWN = ['connection', 'prefix', 'leaseSeconds', 'clientExpirySeconds', 'pollIntervalMs', 'maintenance', 'maxAttempts', 'sweepIntervalMs', 'callTimeoutMs', 'logger', 'modules'];

/**
 * Check the options and fill in defaults. A wrong, missing or unknown field
 * is a `ConfigError` (`SIS_CONFIG_INVALID`) naming it as
 * `transport.options.FIELD`, so a typo in a worker config stops the worker
 * at start-up instead of being ignored.
 */
export function resolveRedisTransportOptions(options: RedisTransportOptions): ResolvedRedisTransportOptions {
  const bad = (field: string, why: string) => new ConfigError(`transport.options.${field}: ${why}`, { code: ErrorCodes.CONFIG_INVALID });
  if (typeof options !== 'object' || options === null) throw bad('connection', 'is required (a redis:// URL or ioredis options)');
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw bad(key, `is not an option of the redis transport (known: ${KNOWN.filter((k) => k !== 'logger' && k !== 'modules').join(', ')})`);
  }
  const { connection, prefix } = options;
  if (typeof connection === 'string') {
    if (!/^rediss?:\/\/[^/]/i.test(connection)) throw bad('connection', `must be a redis:// or rediss:// URL (got ${JSON.stringify(redactUrl(connection))})`);
  } else if (typeof connection !== 'object' || connection === null || Array.isArray(connection)) {
    throw bad('connection', 'is required (a redis:// URL or ioredis options)');
  }
  if (typeof prefix !== 'string' || prefix === '' || /\s/.test(prefix)) throw bad('prefix', 'must be a non-empty key prefix without spaces (the servers\' storePrefix)');
  const positive = (field: keyof RedisTransportOptions, fallback: number, integer = false): number => {
    const value = options[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw bad(field, `must be a positive ${integer ? 'whole ' : ''}number (got ${JSON.stringify(value)})`);
    }
    return value;
  };
  const maintenance = options.maintenance ?? true;
  if (typeof maintenance !== 'boolean') throw bad('maintenance', 'must be true or false');
  return {
    connection,
    prefix,
    leaseSeconds: positive('leaseSeconds', 30),
    clientExpirySeconds: positive('clientExpirySeconds', 30),
    pollIntervalMs: positive('pollIntervalMs', 1000),
    maintenance,
    maxAttempts: positive('maxAttempts', 3, true),
    sweepIntervalMs: positive('sweepIntervalMs', 5000),
    callTimeoutMs: positive('callTimeoutMs', 10_000),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.modules ? { modules: options.modules } : {}),
  };
}
