import { loadConfig } from '../../plugin/load-config.js';
import { loadPlugins } from '../../plugin/load-plugins.js';
import { missingPackageOf } from '../../plugin/import-plugin.js';
import { buildRegistry } from '../../plugin/module-registry.js';
import { ConfigError } from '../../module/errors.js';
import { ErrorCodes } from '../../module/error-codes.js';
import { ExitCodes } from '../exit-codes.js';
import type { GlobalOptions } from './shared.js';
import { resolve } from 'node:path';
import { createCliLogger } from '../logger.js';
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
  /** `json` or `pretty` (beats `LOG_FORMAT`; default: pretty on a terminal). */
  logFormat?: string;
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
export async function serverCommand(options: ServerCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const root = await createCliLogger({ verbose: !!options.verbose, ...(options.logFormat ? { format: options.logFormat } : {}) }, env);
  const loaded = await loadConfig(options.config ? { path: options.config } : {});
  let server: ServerPackage;
  try {
    server = (await import(SERVER_PACKAGE)) as ServerPackage;
  } catch (error) {
    // Not installed (or one of its dependencies is not): name the package to install.
    const missing = missingPackageOf(error);
    throw new ConfigError(
      missing
        ? `sisyphus server needs the ${missing} package, which is not installed: npm install ${missing}`
        : `sisyphus server needs the ${SERVER_PACKAGE} package, which failed to load: ${(error as Error).message.split('\n')[0]}`,
      { code: ErrorCodes.PLUGIN_NOT_FOUND, cause: error },
    );
  }
  const section = (loaded.config as { server?: Record<string, unknown> }).server ?? {};
  const registry = buildRegistry(await loadPlugins(loaded.config.plugins, loaded.dir), loaded.config.modules ? { enabled: loaded.config.modules } : {});
  const port = options.port !== undefined ? Number(options.port) : (section.port as number | undefined);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new ConfigError(`--port must be a port number (got ${options.port})`, { code: ErrorCodes.USAGE });
  }
  const started = await server.startServer({
    ...(section as object),
    // Like every path in the config, a relative db is relative to the config file's folder.
    ...(typeof section.db === 'string' && section.db !== ':memory:' ? { db: resolve(loaded.dir, section.db) } : {}),
    // One logger for everything the server says (requests, leases, retention, the store); it makes its own children.
    logger: root,
    ...(options.host ? { host: options.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(options.db ? { db: options.db } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.storePrefix !== undefined ? { storePrefix: checkedPrefix(options.storePrefix) } : {}),
    ...(options.insecure ? { insecure: true } : {}),
    registry,
  });
  const log = root.child({ component: 'server' });
  log.info(`sisyphus server listening on ${started.url} (dashboard at ${started.url}/; modules: ${registry.names().join(', ') || 'none'}; OpenAPI at ${started.url}/doc)`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: shutting down`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await started.close();
  return ExitCodes.OK;
}
