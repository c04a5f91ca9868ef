import type { FastifyBaseLogger } from 'fastify';
import { ConfigError } from '@sisyphus/core';
import { FINAL_STATES, type RetentionSettings } from './queue/history-retention.js';
import { checkScheduleSettings, type ScheduleSettings } from './queue/schedule-attributes.js';
import { checkedWebhooks, type ResolvedWebhook, type WebhookConfig } from './webhooks/webhook-config.js';
import type { WatchRuleConfig } from '@sisyphus/core/config';
import { checkedWatchRules, type WatchRule } from './watch/watch-rule.js';

/** A bearer token and what it may do. */
export interface TokenGrant {
  token: string;
  role: Role;
  /** Shown in logs instead of the token. */
  name?: string;
}

/**
 * Roles: `worker` polls, heartbeats, completes and reads data; `submitter`
 * submits, reads and cancels; `metrics` reads `GET /metrics` only (a
 * Prometheus scraper's token); `admin` may do everything (clear, attributes,
 * data writes, worker removal).
 */
export type Role = 'worker' | 'submitter' | 'metrics' | 'admin';

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
  /**
   * Bearer tokens; none = no authentication (original clients work unchanged).
   * Each token is at least 16 characters, without surrounding whitespace, and
   * used once; anything else is refused with a {@link ConfigError}.
   */
  tokens?: TokenGrant[];
  /**
   * Browser pages allowed to call the API from another origin, e.g. the original
   * dashboard's `http://localhost:3000`: exact origins (scheme, host, port; no
   * path, no wildcard). Default none: no CORS headers, and requests that carry
   * any other `Origin` (or `Sec-Fetch-Site: cross-site`/`same-site`) get 403.
   */
  cors?: { origins?: string[] };
  /**
   * Host names (or IPs) accepted in the `Host` header besides localhost,
   * 127.x.x.x, ::1 and the bind address, when bound to a loopback address;
   * other hosts get 421 (DNS rebinding). Ports are ignored.
   */
  allowedHosts?: string[];
  /**
   * The address the server listens on (set by `startServer`). The `Host` check
   * applies unless it is a non-loopback address; unset counts as loopback.
   */
  bindHost?: string;
  /** Accept tasks naming modules the server has no plugin for. Default false. */
  acceptUnknownModules?: boolean;
  /** How often expired leases are looked for, in ms. Default 1000. */
  sweepIntervalMs?: number;
  /**
   * How long finished jobs stay in the history, per final state
   * (`completed`, `failed`, `cancelled`): `maxAgeDays` and/or `maxCount`
   * (the newest kept). A state without a rule is kept forever (the
   * default). Applied in the background at start and every minute.
   */
  retention?: RetentionSettings;
  /**
   * Active hours written into the store at start (see `seedSchedules`):
   * `tags: {TAG: schedule}` for every worker with the tag, `workers: {ID:
   * schedule}` for single workers; a schedule without `timezone` gets the
   * server's. Checked at start: a bad field is a {@link ConfigError} naming it.
   */
  schedules?: ScheduleSettings;
  /**
   * Webhooks: signed JSON POSTs of chosen queue events (see `webhooks/`):
   * `[{name, url, events, filter?, secret | secret_env, timeout_seconds?, max_attempts?}]`.
   * Checked at start: a bad field is a {@link ConfigError} naming it (`webhooks[1].url`), never a secret.
   */
  webhooks?: WebhookConfig[];
  /**
   * Watch folders: files that appear or change in the folders become jobs
   * rendered from a template (see `watch/`): `[{name, folders, template,
   * include?, exclude?, stable_seconds?, ...}]`. Checked at start: a bad
   * field is a {@link ConfigError} naming it (`watch[0].folders[1]`).
   */
  watch?: WatchRuleConfig[];
  /** Description of the store for `/status/config` (secrets are masked there). */
  backend?: Record<string, unknown>;
  /**
   * Where the server logs: a pino logger (e.g. the application's root logger).
   * The server logs through children: `{component: 'server'}` for its own
   * events (expired leases, requeues, retention) and fastify's (errors;
   * each request at `debug`, with `reqId`), `{component: 'store'}` for the
   * store's (a Redis connection lost and back). Default: none, nothing is logged.
   */
  logger?: FastifyBaseLogger;
}

/** {@link ServerOptions} with every default filled in. */
export type ResolvedServerOptions = Required<Omit<ServerOptions, 'backend' | 'logger' | 'cors' | 'bindHost' | 'webhooks' | 'watch'>> &
  Pick<ServerOptions, 'backend' | 'logger' | 'bindHost'> & { cors: { origins: string[] }; webhooks: ResolvedWebhook[]; watch: WatchRule[] };

/** Shortest bearer token accepted. */
export const MIN_TOKEN_LENGTH = 16;
const ROLES: readonly Role[] = ['worker', 'submitter', 'metrics', 'admin'];

/** `tokens[2] ("ci")`: how a grant is named in messages (never by its token). */
function grantLabel(grant: unknown, index: number): string {
  const name = (grant as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name ? `tokens[${index}] (${JSON.stringify(name)})` : `tokens[${index}]`;
}

/** Refuse tokens that could never match, match too easily, or are ambiguous. */
function checkedTokens(tokens: unknown): TokenGrant[] {
  if (tokens === undefined) return [];
  if (!Array.isArray(tokens)) throw new ConfigError('tokens must be a list of {token, role, name?}');
  const seen = new Map<string, number>();
  tokens.forEach((grant: unknown, i) => {
    const token = (grant as { token?: unknown } | null)?.token;
    const role = (grant as { role?: unknown } | null)?.role;
    if (typeof token !== 'string') throw new ConfigError(`tokens[${i}].token must be a string`);
    if (!token.trim()) throw new ConfigError(`tokens[${i}].token is blank`);
    if (token.trim() !== token) throw new ConfigError(`tokens[${i}].token starts or ends with whitespace; it could never match`);
    // HTTP clients send header bytes differently beyond ASCII (curl UTF-8, fetch latin1): such a token matches some clients only.
    if (!/^[\x21-\x7e]+$/.test(token)) throw new ConfigError(`tokens[${i}].token has characters other than printable ASCII (letters, digits, punctuation); not every client can send them`);
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(`tokens[${i}].token is ${token.length} characters; tokens must be at least ${MIN_TOKEN_LENGTH}`);
    }
    if (!ROLES.includes(role as Role)) throw new ConfigError(`tokens[${i}].role must be one of ${ROLES.join(', ')} (got ${JSON.stringify(role)})`);
    const first = seen.get(token);
    if (first !== undefined) {
      throw new ConfigError(`${grantLabel(tokens[first], first)} and ${grantLabel(grant, i)} have the same token; each token must be unique`);
    }
    seen.set(token, i);
  });
  return tokens as TokenGrant[];
}

/** Exact `scheme://host[:port]` origins; a path, a wildcard or anything URL would rewrite is refused. */
function checkedOrigins(cors: ServerOptions['cors']): string[] {
  const origins: unknown = cors?.origins ?? [];
  if (!Array.isArray(origins)) throw new ConfigError('cors.origins must be a list of origins such as http://localhost:3000');
  return origins.map((origin: unknown, i) => {
    let parsed: URL | undefined;
    try {
      parsed = typeof origin === 'string' ? new URL(origin) : undefined;
    } catch {
      parsed = undefined;
    }
    if (typeof origin !== 'string' || origin.includes('*') || !parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      const hint = parsed && /^https?:$/.test(parsed.protocol) && !String(origin).includes('*') ? ` (did you mean ${parsed.origin}?)` : '';
      throw new ConfigError(
        `cors.origins[${i}] must be an exact origin like http://localhost:3000: scheme, host and port only, no path, no wildcard (got ${JSON.stringify(origin)})${hint}`,
      );
    }
    return origin;
  });
}

/** Host names or IPs, without scheme, port or path. */
function checkedHosts(hosts: unknown): string[] {
  if (hosts === undefined) return [];
  if (!Array.isArray(hosts)) throw new ConfigError('allowedHosts must be a list of host names');
  return hosts.map((host: unknown, i) => {
    // A name or IPv4 (no colon, so no port), or an IPv6 address with or without brackets.
    const valid = typeof host === 'string' && (/^[0-9a-z_-][0-9a-z._-]*$/i.test(host) || /^(\[[0-9a-f:.]*:[0-9a-f:.]*\]|[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*)$/i.test(host));
    if (!valid) {
      throw new ConfigError(`allowedHosts[${i}] must be a host name or IP address, without scheme, port or path (got ${JSON.stringify(host)})`);
    }
    return host;
  });
}

/** Longest `maxAgeDays` (a thousand years): the cut-off must be a time the stores can compare. */
const MAX_RETENTION_DAYS = 365_000;

/** The retention rules, checked: known states, positive numbers. */
function checkedRetention(retention: ServerOptions['retention']): RetentionSettings {
  if (retention === undefined) return {};
  if (typeof retention !== 'object' || retention === null || Array.isArray(retention)) {
    throw new ConfigError('retention must be an object such as {completed: {maxAgeDays: 30}, failed: {maxCount: 10000}}');
  }
  for (const [state, rule] of Object.entries(retention)) {
    if (!(FINAL_STATES as readonly string[]).includes(state)) {
      throw new ConfigError(`retention.${state}: not a final state; use ${FINAL_STATES.join(', ')}`);
    }
    if (typeof rule !== 'object' || rule === null) throw new ConfigError(`retention.${state} must be {maxAgeDays?, maxCount?}`);
    for (const [key, value] of Object.entries(rule as Record<string, unknown>)) {
      if (key === 'maxAgeDays' && !(typeof value === 'number' && value > 0 && value <= MAX_RETENTION_DAYS)) {
        throw new ConfigError(`retention.${state}.maxAgeDays must be a number of days from more than 0 to ${MAX_RETENTION_DAYS} (got ${JSON.stringify(value)}); leave the state out to keep its jobs forever`);
      }
      else if (key === 'maxCount' && !(Number.isInteger(value) && (value as number) >= 0)) throw new ConfigError(`retention.${state}.maxCount must be a whole number >= 0 (got ${JSON.stringify(value)})`);
      else if (key !== 'maxAgeDays' && key !== 'maxCount') throw new ConfigError(`retention.${state}.${key}: unknown setting; use maxAgeDays and/or maxCount`);
    }
  }
  return retention;
}

/** Fill in the defaults; refuse settings that cannot work (see {@link ServerOptions}) with a {@link ConfigError}. */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const tokens = checkedTokens(options.tokens);
  const cors = { origins: checkedOrigins(options.cors) };
  const allowedHosts = checkedHosts(options.allowedHosts);
  return {
    clientExpirySeconds: options.clientExpirySeconds ?? 30,
    leaseSeconds: options.leaseSeconds ?? 30,
    maxAttempts: options.maxAttempts ?? 3,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    maxPollWaitSeconds: options.maxPollWaitSeconds ?? 60,
    tokens,
    cors,
    allowedHosts,
    acceptUnknownModules: options.acceptUnknownModules ?? false,
    sweepIntervalMs: options.sweepIntervalMs ?? 1000,
    retention: checkedRetention(options.retention),
    schedules: checkScheduleSettings(options.schedules),
    webhooks: checkedWebhooks(options.webhooks),
    watch: checkedWatchRules(options.watch),
    ...(options.bindHost !== undefined ? { bindHost: options.bindHost } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
}
