import { container } from '../container/di.js';
import { CORE_LOCATION, CORE_VERSION } from '../version/version.js';
import type { TaskModule } from '../module/task-module.js';
import type { TransportFactory } from '../transport/transport.js';

/** What a plugin package provides. */
export interface PluginDefinition {
  /** Plugin name (usually the npm package name). */
  name: string;
  /** Plugin version (usually the package version). */
  version: string;
  /** Task modules the plugin provides. */
  modules?: readonly TaskModule[];
  /**
   * Worker transports (http, redis, ...), picked by `transport.name` in the
   * worker config. The module loader ignores them; `sisyphus worker` checks them.
   */
  transports?: readonly TransportFactory[];
}

/** A plugin as loaded: the definition plus the core version it was built against. */
export interface Plugin extends PluginDefinition {
  readonly kind: 'sisyphus-plugin';
  /** Version of @sisyphus/core that `definePlugin` came from. */
  readonly coreVersion: string;
  /**
   * Folder of the copy of @sisyphus/core that `definePlugin` came from (absent
   * in plugins made by cores before 0.1). Another folder than the running
   * core's means two copies of the core are loaded.
   */
  readonly coreLocation?: string;
  readonly modules: readonly TaskModule[];
}

/**
 * Key (registered, so every copy of the core reads it) under which
 * `definePlugin` keeps the DI container root of its copy of the core: a
 * decorated class (`@injectable()`) is known only to that copy's tsyringe.
 */
export const PLUGIN_DI_KEY: unique symbol = Symbol.for('sisyphus:plugin-di');

/** The DI root of the core copy that made `plugin` (undefined for plugins of older cores). */
export function pluginDi(plugin: Plugin): unknown {
  return (plugin as unknown as Record<symbol, unknown>)[PLUGIN_DI_KEY];
}

/**
 * Declare a plugin; its package default-exports the result. The core version
 * and which copy of the core it is are stamped in, so a plugin built for an
 * incompatible core (another major; during 0.x another minor), or whose
 * decorated class modules cannot work with the running copy, is refused at load.
 *
 * @example
 * export default definePlugin({ name: 'sisyphus-module-checksum', version: '1.0.0', modules: [checksum] });
 */
export function definePlugin(definition: PluginDefinition): Plugin {
  if (!definition || typeof definition.name !== 'string' || definition.name === '') {
    throw new TypeError('definePlugin: name is required');
  }
  if (typeof definition.version !== 'string' || definition.version === '') {
    throw new TypeError(`definePlugin(${definition.name}): version is required`);
  }
  const plugin = {
    ...definition,
    modules: definition.modules ?? [],
    kind: 'sisyphus-plugin' as const,
    coreVersion: CORE_VERSION,
    coreLocation: CORE_LOCATION,
  };
  // Not enumerable: a plugin printed or spread stays a plain definition.
  Object.defineProperty(plugin, PLUGIN_DI_KEY, { value: container, enumerable: false });
  return Object.freeze(plugin);
}

/** Is `value` a plugin made by {@link definePlugin} (of any core version)? */
export function isPlugin(value: unknown): value is Plugin {
  const v = value as Partial<Plugin> | null;
  return (
    typeof v === 'object' && v !== null && v.kind === 'sisyphus-plugin' &&
    typeof v.name === 'string' && typeof v.coreVersion === 'string' && Array.isArray(v.modules)
  );
}
