import { hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import type { WorkerConfig } from '../plugin/config-schema.js';
import { TAG_PATTERN } from './worker-capabilities.js';
import { defaultStateDir } from './worker-id.js';

/** Everything `sisyphus worker` needs besides the engine, resolved from config, environment and flags. */
export interface WorkerSettings {
  /** Explicit id (config `worker.id`, `HOST_UUID`); otherwise one is kept in `stateDir`. */
  id?: string;
  hostname: string;
  heartbeatIntervalMs: number;
  pollIntervalMs: number;
  networkRetryIntervalMs: number;
  concurrency: number;
  stateDir: string;
  transport: { name: string; options: Record<string, unknown> };
  /** The operator's tags (config `worker.tags` plus `--tag` flags), lower case, sorted, without repeats. */
  tags: string[];
}

/** Flags that beat both the environment and the config. */
export interface WorkerFlags {
  api?: string;
  token?: string;
  concurrency?: number;
  id?: string;
  /** `--tag` (repeatable): added to the config's `worker.tags`. */
  tags?: readonly string[];
}

/** The environment variables of the original worker (plus our token/API names). */
export const WORKER_ENV = ['API_URL', 'SISYPHUS_API', 'SISYPHUS_TOKEN', 'HOST_UUID', 'HOSTNAME_OVERRIDE', 'HEARTBEAT_INTERVAL', 'QUEUE_POLL_INTERVAL', 'NETWORK_RETRY_INTERVAL'] as const;

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`environment variable ${name} must be a positive number of seconds (got ${JSON.stringify(raw)})`, { code: ErrorCodes.CONFIG_INVALID });
  }
  return value;
}

const nonEmpty = (value: string | undefined) => (value && value.trim() !== '' ? value.trim() : undefined);

/**
 * Resolve the worker settings. Order: flags, then the original worker's
 * environment variables (`API_URL`, `HOST_UUID`, `HOSTNAME_OVERRIDE`,
 * `HEARTBEAT_INTERVAL`, `QUEUE_POLL_INTERVAL`, `NETWORK_RETRY_INTERVAL`, in
 * seconds; also `SISYPHUS_API` and `SISYPHUS_TOKEN`), then the config's
 * `worker` and `transport` sections, then defaults. `dir` is the config's
 * folder (relative `stateDir`).
 */
export function resolveWorkerSettings(config: WorkerConfig, dir: string, env: NodeJS.ProcessEnv = process.env, flags: WorkerFlags = {}): WorkerSettings {
  const w = config.worker ?? {};
  const transportName = config.transport?.name ?? 'http';
  const options: Record<string, unknown> = { ...(config.transport?.options ?? {}) };
  if (transportName === 'http') {
    const api = flags.api ?? nonEmpty(env.SISYPHUS_API) ?? nonEmpty(env.API_URL);
    if (api) options.apiUrl = api;
    const token = flags.token ?? nonEmpty(env.SISYPHUS_TOKEN);
    if (token) options.token = token;
  }
  const id = flags.id ?? nonEmpty(env.HOST_UUID) ?? w.id;
  const concurrency = flags.concurrency ?? w.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(`worker concurrency must be a whole number >= 1 (got ${concurrency})`, { code: ErrorCodes.CONFIG_INVALID });
  }
  const tags = [...checkTags(w.tags, 'worker.tags'), ...checkTags(flags.tags, '--tag')];
  return {
    ...(id ? { id } : {}),
    hostname: nonEmpty(env.HOSTNAME_OVERRIDE) ?? w.hostname ?? osHostname(),
    heartbeatIntervalMs: (seconds(env, 'HEARTBEAT_INTERVAL') ?? w.heartbeatInterval ?? 5) * 1000,
    pollIntervalMs: (seconds(env, 'QUEUE_POLL_INTERVAL') ?? w.pollInterval ?? 10) * 1000,
    networkRetryIntervalMs: (seconds(env, 'NETWORK_RETRY_INTERVAL') ?? w.networkRetryInterval ?? 20) * 1000,
    concurrency,
    stateDir: w.stateDir ? resolve(dir, w.stateDir) : defaultStateDir(env),
    transport: { name: transportName, options },
    tags: [...new Set(tags.map((t) => t.toLowerCase()))].sort(),
  };
}

/** Tags as given (`undefined`: none); a bad one is a one-line ConfigError naming it (`worker.tags[1]`, `--tag`). */
function checkTags(tags: readonly unknown[] | undefined, where: string): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw new ConfigError(`${where} must be a list of tags`, { code: ErrorCodes.CONFIG_INVALID });
  return tags.map((tag, i) => {
    const name = where.startsWith('--') ? where : `${where}[${i}]`;
    if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) {
      throw new ConfigError(`${name} must be a tag: a letter or digit, then letters, digits, '.', '_' or '-' (got ${JSON.stringify(tag)})`, {
        code: where.startsWith('--') ? ErrorCodes.USAGE : ErrorCodes.CONFIG_INVALID,
      });
    }
    return tag;
  });
}
