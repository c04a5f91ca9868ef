import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, buildRegistry, loadPlugins, type ModuleRegistry } from '@sisyphus/core';
import { createServer, type SisyphusServer } from './create-server.js';
import type { ServerOptions } from './server-options.js';
import { openSqliteStore } from './store/sqlite-store.js';

/** How to start a server from the command line or a config file. */
export interface StartServerOptions extends ServerOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port. Default 5000 (the original's); 0 picks a free one. */
  port?: number;
  /** SQLite file. Default `$XDG_DATA_HOME/sisyphus/server.db` (`~/.local/share/...`). */
  db?: string;
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

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Open the store and listen. Refuses to bind a non-loopback address with no
 * token configured unless `insecure` (the original had no auth at all).
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartedServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host) && !options.tokens?.length && !options.insecure) {
    throw new ConfigError(
      `refusing to listen on ${host} without tokens: anyone who can reach it could run jobs on your workers. Configure server.tokens, or pass --insecure`,
    );
  }
  const db = options.db === ':memory:' ? ':memory:' : resolve(options.db ?? defaultDbPath());
  if (db !== ':memory:') await mkdir(dirname(db), { recursive: true });
  const store = openSqliteStore(db);
  const registry = options.registry ?? buildRegistry(await loadPlugins(undefined, process.cwd()));
  const server = await createServer(store, { ...options, backend: { type: 'sqlite', path: db, ...(options.backend ?? {}) } }, { registry });
  try {
    const address = await server.app.listen({ host, port: options.port ?? 5000 });
    return { ...server, url: address.replace('[::1]', 'localhost') };
  } catch (error) {
    await server.close();
    throw new ConfigError(`cannot listen on ${host}:${options.port ?? 5000}: ${(error as Error).message}`, { cause: error });
  }
}
