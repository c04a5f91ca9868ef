import { loadConfig } from '../../plugin/load-config.js';
import { loadPlugins } from '../../plugin/load-plugins.js';
import { buildRegistry } from '../../plugin/module-registry.js';
import { ConfigError } from '../../module/errors.js';
import { ErrorCodes } from '../../module/error-codes.js';
import { ExitCodes } from '../exit-codes.js';
import type { GlobalOptions } from './shared.js';
import { resolve } from 'node:path';
import { createLineLogger } from '../line-logger.js';
import type { ModuleRegistry } from '../../plugin/module-registry.js';

/** The part of @sisyphus/server this command uses (the core does not depend on that package). */
interface ServerPackage {
  startServer(options: Record<string, unknown> & { registry: ModuleRegistry }): Promise<{ url: string; close(): Promise<void> }>;
}

const SERVER_PACKAGE = '@sisyphus/server';

/** Options of `sisyphus server` (flags win over the config's `server` section). */
export interface ServerCommandOptions extends GlobalOptions {
  host?: string;
  port?: string;
  db?: string;
  store?: string;
  storePrefix?: string;
  insecure?: boolean;
}

/** A `--store-prefix` as the config's `server.storePrefix` accepts it (letters, digits, `_`, `.`, `-`). */
function checkedPrefix(prefix: string): string {
  if (!/^[\w.-]+$/.test(prefix)) {
    throw new ConfigError(`--store-prefix must be letters, digits, _ . or - (got ${JSON.stringify(prefix)})`, { code: ErrorCodes.USAGE });
  }
  return prefix;
}

/**
 * `sisyphus server`: the job server on the embedded SQLite store. Loads
 * `@sisyphus/server` on demand (the core does not depend on it). Runs until
 * SIGINT/SIGTERM, then closes cleanly (WAL checkpointed, long-polls woken).
 */
export async function serverCommand(options: ServerCommandOptions): Promise<number> {
  const loaded = await loadConfig(options.config ? { path: options.config } : {});
  let server: ServerPackage;
  try {
    server = (await import(SERVER_PACKAGE)) as ServerPackage;
  } catch (error) {
    throw new ConfigError(`the server needs the @sisyphus/server package: ${(error as Error).message.split('\n')[0]}`, {
      code: ErrorCodes.PLUGIN_NOT_FOUND,
      cause: error,
    });
  }
  const section = (loaded.config as { server?: Record<string, unknown> }).server ?? {};
  const registry = buildRegistry(await loadPlugins(loaded.config.plugins, loaded.dir), loaded.config.modules ? { enabled: loaded.config.modules } : {});
  const port = options.port !== undefined ? Number(options.port) : (section.port as number | undefined);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new ConfigError(`--port must be a port number (got ${options.port})`, { code: ErrorCodes.USAGE });
  }
  const logger = createLineLogger(process.stderr, !!options.verbose);
  const started = await server.startServer({
    ...(section as object),
    // Like every path in the config, a relative db is relative to the config file's folder.
    ...(typeof section.db === 'string' && section.db !== ':memory:' ? { db: resolve(loaded.dir, section.db) } : {}),
    log: (level: 'info' | 'warn' | 'error', message: string) => logger[level](message),
    ...(options.host ? { host: options.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(options.db ? { db: options.db } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.storePrefix !== undefined ? { storePrefix: checkedPrefix(options.storePrefix) } : {}),
    ...(options.insecure ? { insecure: true } : {}),
    registry,
  });
  process.stderr.write(`sisyphus server listening on ${started.url} (modules: ${registry.names().join(', ') || 'none'}; OpenAPI at ${started.url}/doc)\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`${signal}: shutting down\n`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await started.close();
  return ExitCodes.OK;
}
