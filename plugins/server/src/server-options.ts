/** A bearer token and what it may do. */
export interface TokenGrant {
  token: string;
  role: Role;
  /** Shown in logs instead of the token. */
  name?: string;
}

/**
 * Roles: `worker` polls, heartbeats, completes and reads data; `submitter`
 * submits, reads and cancels; `admin` may do everything (clear, attributes,
 * data writes, worker removal).
 */
export type Role = 'worker' | 'submitter' | 'admin';

/** Settings of {@link createServer}. */
export interface ServerOptions {
  /** Seconds a worker counts as present after its last heartbeat (original `CLIENT_EXPIRY`). Default 30. */
  clientExpirySeconds?: number;
  /** Seconds a polled job stays leased without a heartbeat. Default 30. */
  leaseSeconds?: number;
  /** Times a job may be leased before an expired lease fails it. Default 3. */
  maxAttempts?: number;
  /** Largest request body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** Longest long-poll wait in seconds. Default 60. */
  maxPollWaitSeconds?: number;
  /** Bearer tokens; none = no authentication (original clients work unchanged). */
  tokens?: TokenGrant[];
  /** Accept tasks naming modules the server has no plugin for. Default false. */
  acceptUnknownModules?: boolean;
  /** How often expired leases are looked for, in ms. Default 1000. */
  sweepIntervalMs?: number;
  /** Description of the store for `/status/config` (secrets are masked there). */
  backend?: Record<string, unknown>;
  /** Fastify's logger option. Default false. */
  logger?: boolean | Record<string, unknown>;
  /** Where the server's own events go (expired leases, requeues): one line each. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** {@link ServerOptions} with every default filled in. */
export type ResolvedServerOptions = Required<Omit<ServerOptions, 'backend' | 'logger' | 'log'>> & Pick<ServerOptions, 'backend' | 'logger' | 'log'>;

/** Fill in the defaults. */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  return {
    clientExpirySeconds: options.clientExpirySeconds ?? 30,
    leaseSeconds: options.leaseSeconds ?? 30,
    maxAttempts: options.maxAttempts ?? 3,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    maxPollWaitSeconds: options.maxPollWaitSeconds ?? 60,
    tokens: options.tokens ?? [],
    acceptUnknownModules: options.acceptUnknownModules ?? false,
    sweepIntervalMs: options.sweepIntervalMs ?? 1000,
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
}
