import { ConfigError } from '@sisyphus/core';
import { redactUrl } from '@sisyphus/core/transport';
import { QUEUE_EVENT_TYPES } from '../queue/queue-events.js';

/** What a hook's events must also match; every field given must match (see `webhook-filter.ts`). */
export interface WebhookFilter {
  /** Case-insensitive part of the job's title (job events). */
  title?: string;
  /** The job has a task of this module (or of one of these) (job events). */
  module?: string | string[];
  /** The job's worker, or the worker that went offline, is this one (or one of these). */
  worker_id?: string | string[];
}

/** A webhook as the server config's `webhooks` list gives it. */
export interface WebhookConfig {
  /** Unique name: letters, digits, `_`, `.` or `-` (at most 64); the API names the hook by it. */
  name: string;
  /** Where deliveries are POSTed: an `http://` or `https://` URL. */
  url: string;
  /** The event types to deliver (see {@link WEBHOOK_EVENT_TYPES}). */
  events: string[];
  filter?: WebhookFilter;
  /** The signing secret (at least 16 characters); or `secret_env`. */
  secret?: string;
  /** Name of the environment variable that holds the signing secret. */
  secret_env?: string;
  /** How long an attempt may take, in seconds (connection, answer). Default 10. */
  timeout_seconds?: number;
  /** Attempts before a delivery is given up. Default 12. */
  max_attempts?: number;
}

/** A checked webhook. Its `secret` is not enumerable: it stays out of JSON, logs and `/status/config`. */
export interface ResolvedWebhook {
  name: string;
  url: string;
  events: readonly string[];
  /** Folded title part, module names, worker ids; absent: no condition. */
  filter: { title?: string; modules?: readonly string[]; workerIds?: readonly string[] };
  readonly secret: string;
  timeoutMs: number;
  maxAttempts: number;
}

/**
 * Event types a webhook may deliver: every event of the log except
 * `worker.heartbeat` (one per worker every few seconds: what a dashboard
 * follows through `GET /events`, not a notification).
 */
export const WEBHOOK_EVENT_TYPES: readonly string[] = QUEUE_EVENT_TYPES.filter((type) => type !== 'worker.heartbeat');

/** Shortest signing secret accepted. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;
export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;
export const MAX_WEBHOOK_TIMEOUT_SECONDS = 300;
export const DEFAULT_WEBHOOK_ATTEMPTS = 12;
export const MAX_WEBHOOK_ATTEMPTS = 100;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const FIELDS = ['name', 'url', 'events', 'filter', 'secret', 'secret_env', 'timeout_seconds', 'max_attempts'];
const FILTER_FIELDS = ['title', 'module', 'worker_id'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string or a non-empty list of strings, as a list; `what` names it in the error. */
function names(value: unknown, path: string, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) {
    throw new ConfigError(`${path} must be ${what} or a non-empty list of them`);
  }
  return list as string[];
}

function checkedFilter(filter: unknown, path: string): ResolvedWebhook['filter'] {
  if (filter === undefined) return {};
  if (!isObject(filter)) throw new ConfigError(`${path} must be an object {title?, module?, worker_id?}`);
  for (const key of Object.keys(filter)) {
    if (!FILTER_FIELDS.includes(key)) throw new ConfigError(`${path}.${key}: unknown filter; use ${FILTER_FIELDS.join(', ')}`);
  }
  const out: ResolvedWebhook['filter'] = {};
  if (filter.title !== undefined) {
    if (typeof filter.title !== 'string' || filter.title === '') throw new ConfigError(`${path}.title must be a non-empty string (a part of the job title)`);
    out.title = filter.title.toLowerCase();
  }
  if (filter.module !== undefined) out.modules = names(filter.module, `${path}.module`, 'a module name');
  if (filter.worker_id !== undefined) out.workerIds = names(filter.worker_id, `${path}.worker_id`, 'a worker id');
  return out;
}

function checkedUrl(url: unknown, path: string): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    const shown = typeof url === 'string' ? ` (got ${JSON.stringify(redactUrl(url).slice(0, 200))})` : '';
    throw new ConfigError(`${path} must be an http:// or https:// URL${shown}`);
  }
  // fetch refuses URLs with credentials; they would also show in the API's listing of hooks.
  if (parsed.username || parsed.password) throw new ConfigError(`${path} must not carry a user name or password; receivers authenticate deliveries by their signature`);
  return url as string;
}

/** The secret of hook `raw` (never shown in a message: only its length). */
function checkedSecret(raw: Record<string, unknown>, path: string, env: NodeJS.ProcessEnv): string {
  if (raw.secret !== undefined && raw.secret_env !== undefined) throw new ConfigError(`${path}: give secret or secret_env, not both`);
  let secret: unknown;
  let field: string;
  if (raw.secret_env !== undefined) {
    if (typeof raw.secret_env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.secret_env)) {
      throw new ConfigError(`${path}.secret_env must be the name of an environment variable`);
    }
    secret = env[raw.secret_env];
    field = `${path}.secret_env`;
    if (secret === undefined || secret === '') throw new ConfigError(`${field}: environment variable ${raw.secret_env} is not set`);
  } else if (raw.secret !== undefined) {
    secret = raw.secret;
    field = `${path}.secret`;
    if (typeof secret !== 'string') throw new ConfigError(`${field} must be a string`);
  } else {
    throw new ConfigError(`${path}: a signing secret is required: give secret (at least ${MIN_WEBHOOK_SECRET_LENGTH} characters) or secret_env`);
  }
  const text = secret as string;
  if (text.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new ConfigError(`${field}: the secret is ${text.length} characters; webhook secrets must be at least ${MIN_WEBHOOK_SECRET_LENGTH}`);
  }
  return text;
}

/**
 * Check the server config's `webhooks` list: each entry's fields (one-line
 * {@link ConfigError}s naming `webhooks[i].field`, never a secret), unique
 * names, http(s) URLs, known event types, a secret of at least
 * {@link MIN_WEBHOOK_SECRET_LENGTH} characters (`secret`, or read from the
 * environment variable `secret_env`). Fills in the defaults.
 */
export function checkedWebhooks(webhooks: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedWebhook[] {
  if (webhooks === undefined) return [];
  if (!Array.isArray(webhooks)) throw new ConfigError('webhooks must be a list of {name, url, events, secret | secret_env, filter?, timeout_seconds?, max_attempts?}');
  const seen = new Map<string, number>();
  return webhooks.map((raw: unknown, i): ResolvedWebhook => {
    const path = `webhooks[${i}]`;
    if (!isObject(raw)) throw new ConfigError(`${path} must be an object {name, url, events, secret | secret_env, ...}`);
    for (const key of Object.keys(raw)) {
      if (!FIELDS.includes(key)) throw new ConfigError(`${path}.${key}: unknown setting; use ${FIELDS.join(', ')}`);
    }
    if (typeof raw.name !== 'string' || !NAME.test(raw.name)) {
      throw new ConfigError(`${path}.name must be 1 to 64 letters, digits, _ . or - (got ${JSON.stringify(raw.name ?? null)?.slice(0, 80)})`);
    }
    const first = seen.get(raw.name);
    if (first !== undefined) throw new ConfigError(`webhooks[${first}] and ${path} have the same name ${JSON.stringify(raw.name)}; names must be unique`);
    seen.set(raw.name, i);
    const url = checkedUrl(raw.url, `${path}.url`);
    if (!Array.isArray(raw.events) || raw.events.length === 0) {
      throw new ConfigError(`${path}.events must be a non-empty list of event types: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    }
    raw.events.forEach((type: unknown, j) => {
      if (typeof type !== 'string' || !WEBHOOK_EVENT_TYPES.includes(type)) {
        throw new ConfigError(`${path}.events[${j}]: unknown event type ${JSON.stringify(type)?.slice(0, 80)}; use ${WEBHOOK_EVENT_TYPES.join(', ')}`);
      }
    });
    const filter = checkedFilter(raw.filter, `${path}.filter`);
    const timeout = raw.timeout_seconds ?? DEFAULT_WEBHOOK_TIMEOUT_SECONDS;
    // At least a second: a shorter timeout fails every attempt of any real receiver.
    if (typeof timeout !== 'number' || !(timeout >= 1 && timeout <= MAX_WEBHOOK_TIMEOUT_SECONDS)) {
      throw new ConfigError(`${path}.timeout_seconds must be a number of seconds from 1 to ${MAX_WEBHOOK_TIMEOUT_SECONDS} (got ${JSON.stringify(raw.timeout_seconds)})`);
    }
    const attempts = raw.max_attempts ?? DEFAULT_WEBHOOK_ATTEMPTS;
    if (!Number.isInteger(attempts) || (attempts as number) < 1 || (attempts as number) > MAX_WEBHOOK_ATTEMPTS) {
      throw new ConfigError(`${path}.max_attempts must be a whole number from 1 to ${MAX_WEBHOOK_ATTEMPTS} (got ${JSON.stringify(raw.max_attempts)})`);
    }
    const secret = checkedSecret(raw, path, env);
    const hook = { name: raw.name, url, events: [...new Set(raw.events as string[])], filter, timeoutMs: Math.round(timeout * 1000), maxAttempts: attempts as number };
    // Not enumerable: a hook printed, logged or serialised shows no secret.
    return Object.defineProperty(hook, 'secret', { value: secret, enumerable: false }) as typeof hook & { readonly secret: string };
  });
}
