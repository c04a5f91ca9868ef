import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../container/services.js';
import type { ModuleLookup } from '../job/job-requirements.js';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { importPlugin } from '../plugin/import-plugin.js';
import { checkPluginCompatible } from '../plugin/module-registry.js';
import { isPlugin } from '../plugin/define-plugin.js';
import type { LoadedPlugin } from '../plugin/module-registry.js';
import { isTransportFactory, type Transport, type TransportFactory } from '../transport/transport.js';

/** Transport packages shipped with Sisyphus, tried when no loaded plugin provides the configured transport. */
export const DEFAULT_TRANSPORT_PLUGINS: readonly string[] = ['@sisyphus/transport-http', '@sisyphus/redis'];

/** The package that provides each shipped transport: named in the error when it is not installed. */
export const TRANSPORT_PACKAGES: Readonly<Record<string, string>> = { http: '@sisyphus/transport-http', redis: '@sisyphus/redis' };

const here = dirname(fileURLToPath(import.meta.url));

function transportsOf(loaded: readonly LoadedPlugin[]): Array<{ factory: TransportFactory; source: string }> {
  const found: Array<{ factory: TransportFactory; source: string }> = [];
  for (const { plugin, source } of loaded) {
    if (!isPlugin(plugin)) continue; // The module registry reports non-plugins.
    for (const factory of plugin.transports ?? []) {
      if (!isTransportFactory(factory)) {
        throw new ConfigError(`plugin ${plugin.name} (${source}) lists a transport that is not { name, create(options) }`, { code: ErrorCodes.NOT_A_PLUGIN });
      }
      found.push({ factory, source });
    }
  }
  return found;
}

/** What {@link findTransport} found: the factory and the plugins to hand to the engine (defaults added). */
export interface FoundTransport {
  factory: TransportFactory;
  /** `plugins` plus the shipped transport plugin when that is where the transport came from. */
  plugins: LoadedPlugin[];
}

/**
 * Find the transport named `name` among the loaded plugins' `transports`;
 * when none has it, among the shipped transport plugins
 * ({@link DEFAULT_TRANSPORT_PLUGINS}, like the shipped modules when a config
 * lists no plugins). Two plugins with one transport name, or none at all,
 * is a `ConfigError` that names them.
 */
export async function findTransport(name: string, plugins: readonly LoadedPlugin[]): Promise<FoundTransport> {
  let all = [...plugins];
  const tried: LoadedPlugin[] = [];
  let matches = transportsOf(all).filter((t) => t.factory.name === name);
  if (!matches.length) {
    for (const spec of DEFAULT_TRANSPORT_PLUGINS) {
      if (all.some((p) => p.source === spec)) continue;
      const loaded = await importPlugin(spec, here).catch((error: unknown) => {
        if (error instanceof ConfigError && error.code === ErrorCodes.PLUGIN_NOT_FOUND) return undefined;
        throw error;
      });
      if (!loaded) continue;
      if (isPlugin(loaded.plugin)) checkPluginCompatible(loaded.plugin, spec);
      tried.push(loaded);
      const hit = transportsOf([loaded]).filter((t) => t.factory.name === name);
      if (hit.length) {
        all = [...all, loaded];
        matches = hit;
        break;
      }
    }
  }
  const distinct = [...new Set(matches.map((m) => m.factory))];
  if (distinct.length > 1) {
    throw new ConfigError(`transport "${name}" is provided by two plugins: ${matches.map((m) => m.source).join(' and ')}; list only one`, { code: ErrorCodes.DUPLICATE_MODULE });
  }
  if (!distinct.length) {
    const pkg = Object.hasOwn(TRANSPORT_PACKAGES, name) ? TRANSPORT_PACKAGES[name] : undefined;
    if (pkg && !tried.some((p) => p.source === pkg) && !all.some((p) => p.source === pkg)) {
      throw new ConfigError(`transport "${name}" needs the ${pkg} package, which is not installed: npm install ${pkg}`, { code: ErrorCodes.PLUGIN_NOT_FOUND });
    }
    const available = [...new Set(transportsOf([...all, ...tried]).map((t) => t.factory.name))];
    throw new ConfigError(
      `no plugin provides transport "${name}" (available: ${available.join(', ') || 'none'}); install the package that provides it and list it in plugins`,
      { code: ErrorCodes.PLUGIN_NOT_FOUND },
    );
  }
  return { factory: distinct[0]!, plugins: all };
}

/**
 * Make the transport from its factory, turning a bad option into a
 * `ConfigError` naming the transport. `modules`: see `TransportContext.modules`.
 */
export async function createTransport(factory: TransportFactory, options: Record<string, unknown>, logger?: Logger, modules?: ModuleLookup): Promise<Transport> {
  try {
    return await factory.create(options, { ...(logger ? { logger } : {}), ...(modules ? { modules } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`transport "${factory.name}": ${(error as Error).message}`, { code: ErrorCodes.CONFIG_INVALID, cause: error });
  }
}
