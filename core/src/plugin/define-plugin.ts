import { CORE_VERSION } from '../version/version.js';
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
  readonly modules: readonly TaskModule[];
}

/**
 * Declare a plugin; its package default-exports the result. The core version
 * is stamped in, so a plugin built for another core major is refused at load.
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
  return Object.freeze({
    ...definition,
    modules: definition.modules ?? [],
    kind: 'sisyphus-plugin' as const,
    coreVersion: CORE_VERSION,
  });
}

/** Is `value` a plugin made by {@link definePlugin} (of any core version)? */
export function isPlugin(value: unknown): value is Plugin {
  const v = value as Partial<Plugin> | null;
  return (
    typeof v === 'object' && v !== null && v.kind === 'sisyphus-plugin' &&
    typeof v.name === 'string' && typeof v.coreVersion === 'string' && Array.isArray(v.modules)
  );
}
