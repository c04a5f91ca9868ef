import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, ErrorCodes } from '@sisyphus/core';
import { buildRegistry, loadPlugins, missingPackageOf, type ModuleRegistry } from '@sisyphus/core/config';
import { redactUrl } from '@sisyphus/core/transport';
import { createServer, type SisyphusServer } from './create-server.js';
import { isLoopbackHost } from './request-origin-guard.js';
import { resolveServerOptions, type ServerOptions } from './server-options.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { QueueStore } from './store/queue-store.js';

/** How to start a server from the command line or a config file. */
export interface StartServerOptions extends ServerOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port. Default 5000 (the original's); 0 picks a free one. */
  port?: number;
  /** SQLite file. Default `$XDG_DATA_HOME/sisyphus/server.db` (`~/.local/share/...`). */
  db?: string;
  /**
   * Keep everything in Redis through BullMQ instead of SQLite:
   * `redis://[user:password@]HOST:PORT/DB` (needs the @sisyphus/redis package).
   * Several servers on one Redis and prefix serve one queue.
   */
  store?: string;
  /** Key prefix in Redis, so several installations can share one Redis. Default `sisyphus`. */
  storePrefix?: string;
  /** Allow binding a non-loopback address without tokens. */
  insecure?: boolean;
  /** Modules whose schemas submissions are checked against. Default: the shipped modules that are installed. */
  registry?: ModuleRegistry;
}

/** A listening server. */
export interface StartedServer extends SisyphusServer {
  /** `http://host:port` it listens on. */
  url: string;
}

/** The default database file. */
export function defaultDbPath(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'sisyphus', 'server.db');
}

/** The part of @sisyphus/redis used here (the server does not depend on that package). */
interface RedisPackage {
  BullmqStore: {
    open(options: { connection: string; prefix: string; leaseMs: number; log?: (level: 'warn' | 'info', message: string) => void }): Promise<QueueStore>;
  };
}
const REDIS_PACKAGE = '@sisyphus/redis';

/** Open the store the options name: Redis/BullMQ for a redis:// URL, else the SQLite file. */
async function openStore(options: StartServerOptions): Promise<{ store: QueueStore; backend: Record<string, unknown> }> {
  if (options.store !== undefined && options.store !== 'sqlite') {
    if (!/^rediss?:\/\//.test(options.store)) {
      throw new ConfigError(`store must be sqlite or a redis:// URL (got ${JSON.stringify(options.store)})`);
    }
    let redis: RedisPackage;
    try {
      redis = (await import(REDIS_PACKAGE)) as RedisPackage;
    } catch (error) {
      // Not installed (or one of its dependencies is not): name the package to install.
      const missing = missingPackageOf(error);
      if (missing) {
        throw new ConfigError(`a Redis store (--store ${redactUrl(options.store)}) needs the ${missing} package, which is not installed: npm install ${missing}`, {
          code: ErrorCodes.PLUGIN_NOT_FOUND,
          cause: error,
        });
      }
      throw new ConfigError(`a Redis store needs the ${REDIS_PACKAGE} package, which failed to load: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    const prefix = options.storePrefix ?? 'sisyphus';
    const storeLog = options.logger?.child({ component: 'store' });
    try {
      const store = await redis.BullmqStore.open({
        connection: options.store,
        prefix,
        leaseMs: (options.leaseSeconds ?? 30) * 1000,
        ...(storeLog ? { log: (level: 'warn' | 'info', message: string) => storeLog[level](message) } : {}),
      });
      return { store, backend: { type: 'redis', url: options.store, prefix } };
    } catch (error) {
      throw new ConfigError(`cannot connect to Redis at ${redactUrl(options.store)}: ${redactUrl((error as Error).message)}`, { cause: error });
    }
  }
  const db = options.db === ':memory:' ? ':memory:' : resolve(options.db ?? defaultDbPath());
  if (db !== ':memory:') await mkdir(dirname(db), { recursive: true });
  return { store: openSqliteStore(db), backend: { type: 'sqlite', path: db } };
}


/**
 * Open the store and listen. Refuses to bind a non-loopback address with no
 * token configured unless `insecure` (the original had no auth at all).
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartedServer> {
  const host = options.host ?? '127.0.0.1';
  // Bad tokens, origins or hosts are refused before a store is opened.
  resolveServerOptions({ ...options, bindHost: host });
  if (!isLoopbackHost(host) && !options.tokens?.length && !options.insecure) {
    throw new ConfigError(
      `refusing to listen on ${host} without tokens: anyone who can reach it could run jobs on your workers. Configure server.tokens, or pass --insecure`,
    );
  }
  const { store, backend } = await openStore(options);
  const registry = options.registry ?? buildRegistry(await loadPlugins(undefined, process.cwd()));
  // The bind address tells the server to check Host headers (loopback binds: no DNS rebinding).
  const server = await createServer(store, { ...options, bindHost: host, backend: { ...backend, ...(options.backend ?? {}) } }, { registry });
  try {
    const address = await server.app.listen({ host, port: options.port ?? 5000 });
    return { ...server, url: address.replace('[::1]', 'localhost') };
  } catch (error) {
    await server.close();
    throw new ConfigError(`cannot listen on ${host}:${options.port ?? 5000}: ${(error as Error).message}`, { cause: error });
  }
}
