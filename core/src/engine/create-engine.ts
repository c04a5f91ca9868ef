import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import type { TaskModule } from '../module/task-module.js';
import { formatProblems, schemaProblems } from '../job/format-errors.js';
import { buildRegistry, type LoadedPlugin, type ModuleRegistry } from '../plugin/module-registry.js';
import type { Plugin } from '../plugin/define-plugin.js';
import { Engine, type EngineSettings } from './engine.js';

/** Options of {@link createEngine}. */
export interface CreateEngineOptions extends Omit<EngineSettings, 'registry' | 'settings'> {
  /** Plugins whose modules the engine may run. */
  plugins?: readonly (Plugin | LoadedPlugin)[];
  /** Loose modules (no plugin needed), e.g. for tests and embedding. */
  modules?: readonly TaskModule[];
  /** Only these module names are enabled. */
  enabled?: readonly string[];
  /** Per-module settings by module name, checked against each module's settings schema. */
  settings?: Record<string, Record<string, unknown>>;
  /** A ready registry (instead of plugins/modules/enabled). */
  registry?: ModuleRegistry;
}

function asLoaded(p: Plugin | LoadedPlugin): LoadedPlugin {
  return 'plugin' in p && 'source' in p ? p : { plugin: p as Plugin, source: (p as Plugin).name ?? '(plugin object)' };
}

/**
 * Make an {@link Engine} for embedding.
 *
 * @example
 * const engine = createEngine({ plugins: [cleanupPlugin], allowedRoots: ['/srv/media'] });
 * engine.on('progress', (p) => console.log(p.module, p.percent));
 * const result = await engine.run(job, { signal });
 */
export function createEngine(options: CreateEngineOptions = {}): Engine {
  const registry =
    options.registry ??
    buildRegistry((options.plugins ?? []).map(asLoaded), {
      ...(options.modules ? { modules: options.modules } : {}),
      ...(options.enabled ? { enabled: options.enabled } : {}),
    });
  if (!options.enabled && options.settings) {
    // With an allowlist, settings of disabled modules are fine; without one, an unknown name is a typo.
    for (const name of Object.keys(options.settings)) {
      if (!registry.get(name)) {
        throw new ConfigError(`settings.${name}: no module "${name}" is available (available: ${registry.names().join(', ') || 'none'})`, {
          code: ErrorCodes.SETTINGS_INVALID,
        });
      }
    }
  }
  const settings: Record<string, Record<string, unknown>> = {};
  for (const { module } of registry.list()) {
    const given = options.settings?.[module.name] ?? {};
    if (module.settingsSchema) {
      const problems = schemaProblems(module.settingsSchema, given, `settings.${module.name}`);
      if (problems.length) {
        throw new ConfigError(`invalid settings for module ${module.name}: ${formatProblems(problems)}`, {
          code: ErrorCodes.SETTINGS_INVALID,
          module: module.name,
          details: { problems },
        });
      }
    }
    settings[module.name] = given;
  }
  const { plugins: _p, modules: _m, enabled: _e, settings: _s, registry: _r, ...rest } = options;
  return new Engine({ ...rest, registry, settings });
}
