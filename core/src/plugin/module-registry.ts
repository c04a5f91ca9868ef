import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { isTaskModule } from '../module/define-module.js';
import type { TaskModule } from '../module/task-module.js';
import { CORE_VERSION, majorOf } from '../version/version.js';
import { isPlugin, type Plugin } from './define-plugin.js';

/** A module and the plugin it came from. */
export interface ModuleEntry {
  module: TaskModule;
  plugin: { name: string; version: string };
}

/** The modules available to an engine, by name. */
export class ModuleRegistry {
  readonly #entries = new Map<string, ModuleEntry>();

  constructor(entries: Iterable<ModuleEntry> = []) {
    for (const entry of entries) this.#entries.set(entry.module.name, entry);
  }

  /** The entry for `name`, or undefined. */
  get(name: string): ModuleEntry | undefined {
    return this.#entries.get(name);
  }

  /** Module names, sorted. */
  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Every entry, sorted by module name. */
  list(): ModuleEntry[] {
    return this.names().map((n) => this.#entries.get(n)!);
  }
}

/** Where a plugin came from, for error messages (package name or file). */
export interface LoadedPlugin {
  plugin: Plugin;
  source: string;
}

/** Refuse a plugin built for another core major version. */
export function checkPluginCompatible(plugin: Plugin, source: string): void {
  if (majorOf(plugin.coreVersion) !== majorOf(CORE_VERSION)) {
    throw new ConfigError(
      `plugin ${plugin.name} (${source}) was built for @sisyphus/core ${plugin.coreVersion}, but this is ${CORE_VERSION}: rebuild it against core ${majorOf(CORE_VERSION)}.x`,
      { code: ErrorCodes.PLUGIN_INCOMPATIBLE },
    );
  }
}

/**
 * Build a registry from loaded plugins (and loose modules for embedding).
 * Startup errors name the culprit: not a plugin, another core major, two
 * plugins with one module name (both named), an enabled name nobody provides.
 */
export function buildRegistry(
  plugins: readonly LoadedPlugin[],
  options: { modules?: readonly TaskModule[]; enabled?: readonly string[] } = {},
): ModuleRegistry {
  const byName = new Map<string, ModuleEntry & { source: string }>();
  const add = (module: TaskModule, plugin: { name: string; version: string }, source: string) => {
    const existing = byName.get(module.name);
    if (existing) {
      if (existing.module === module) return;
      throw new ConfigError(
        `module "${module.name}" is provided by two plugins: ${existing.plugin.name} (${existing.source}) and ${plugin.name} (${source}); enable only one`,
        { code: ErrorCodes.DUPLICATE_MODULE, module: module.name },
      );
    }
    byName.set(module.name, { module, plugin, source });
  };

  for (const { plugin, source } of plugins) {
    if (!isPlugin(plugin)) {
      throw new ConfigError(`${source} is not a Sisyphus plugin: its default export must be definePlugin({...})`, {
        code: ErrorCodes.NOT_A_PLUGIN,
      });
    }
    checkPluginCompatible(plugin, source);
    for (const module of plugin.modules) {
      if (!isTaskModule(module)) {
        throw new ConfigError(`plugin ${plugin.name} (${source}) lists something that is not a defineModule(...) module`, {
          code: ErrorCodes.NOT_A_PLUGIN,
        });
      }
      add(module, { name: plugin.name, version: plugin.version }, source);
    }
  }
  for (const module of options.modules ?? []) {
    if (!isTaskModule(module)) throw new TypeError('modules: every entry must come from defineModule(...)');
    add(module, { name: '(embedded)', version: CORE_VERSION }, 'createEngine({ modules })');
  }

  let entries = [...byName.values()];
  if (options.enabled) {
    for (const name of options.enabled) {
      if (!byName.has(name)) {
        throw new ConfigError(
          `enabled module "${name}" is not provided by any plugin (available: ${[...byName.keys()].sort().join(', ') || 'none'})`,
          { code: ErrorCodes.MODULE_NOT_FOUND, module: name },
        );
      }
    }
    entries = entries.filter((e) => options.enabled!.includes(e.module.name));
  }
  return new ModuleRegistry(entries.map(({ module, plugin }) => ({ module, plugin })));
}
