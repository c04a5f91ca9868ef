import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { isTaskModule } from '../module/define-module.js';
import type { TaskModule } from '../module/task-module.js';
import { container } from '../container/di.js';
import { CORE_LOCATION, CORE_VERSION, compatibleRange, coreVersionsCompatible } from '../version/version.js';
import { isPlugin, pluginDi, type Plugin } from './define-plugin.js';

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

/**
 * The class modules of `plugin` resolved by decorators (`@injectable()`),
 * not by a `static inject` list: tsyringe knows such a class only in the
 * copy of the core (of tsyringe) its decorators came from.
 */
function decoratedClassModules(plugin: Plugin): string[] {
  return plugin.modules.filter((m) => isTaskModule(m) && typeof m.task === 'function' && !Array.isArray(m.task.inject)).map((m) => m.name);
}

/**
 * Refuse a plugin that cannot work with this core: built for an
 * incompatible version (caret rules: the same major, during 0.x the same
 * minor, for 0.0.x the same patch), or defined with another copy of
 * @sisyphus/core (another DI container) while it has decorated class
 * modules, which that copy alone can construct. Setup modules and classes
 * with `static inject` work across copies and are accepted.
 */
export function checkPluginCompatible(plugin: Plugin, source: string): void {
  if (!coreVersionsCompatible(plugin.coreVersion, CORE_VERSION)) {
    throw new ConfigError(
      `plugin ${plugin.name} (${source}) was built for @sisyphus/core ${plugin.coreVersion}, but this is ${CORE_VERSION}: rebuild it against core ${compatibleRange(CORE_VERSION)}`,
      { code: ErrorCodes.PLUGIN_INCOMPATIBLE },
    );
  }
  const di = pluginDi(plugin);
  if (di === undefined || di === container) return;
  const decorated = decoratedClassModules(plugin);
  if (!decorated.length) return;
  const names = decorated.map((n) => `"${n}"`).join(', ');
  throw new ConfigError(
    `plugin ${plugin.name} (${source}) was defined with another copy of @sisyphus/core (${plugin.coreLocation ?? 'unknown location'}) than the one running (${CORE_LOCATION}); ` +
      `its class module${decorated.length === 1 ? '' : 's'} ${names} use${decorated.length === 1 ? 's' : ''} decorators (@injectable/@inject), which only the copy that made them can construct. ` +
      `Fix: install the plugin into the worker's project (npm install <the plugin's folder or package>) so it resolves the same @sisyphus/core, or run npm dedupe; ` +
      `or list the constructor's tokens in \`static inject = [TOKENS...]\` instead of decorators`,
    { code: ErrorCodes.PLUGIN_INCOMPATIBLE },
  );
}

/**
 * Build a registry from loaded plugins (and loose modules for embedding).
 * Startup errors name the culprit: not a plugin, an incompatible core
 * (version, or another copy with decorated class modules), two
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
