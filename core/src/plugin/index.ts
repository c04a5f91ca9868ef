export { definePlugin, isPlugin, type Plugin, type PluginDefinition } from './define-plugin.js';
export { ModuleRegistry, buildRegistry, checkPluginCompatible, type ModuleEntry, type LoadedPlugin } from './module-registry.js';
export { importPlugin, resolvePluginEntry, missingPackageOf, packageNameOf } from './import-plugin.js';
export { loadPlugins, DEFAULT_PLUGINS } from './load-plugins.js';
export { loadConfig, checkConfig, CONFIG_SEARCH_PLACES, type LoadedConfig } from './load-config.js';
export { WorkerConfigSchema, type WorkerConfig } from './config-schema.js';
export { createEngineFromConfig, dataStoreFromConfig } from './engine-from-config.js';
export { buildConfigFileSchema, type SettingsModule } from './config-file-schema.js';
