import { resolve } from 'node:path';
import { chainDataStores, createMemoryDataStore, type DataStore } from '../data/data-store.js';
import { createFolderDataStore } from '../data/folder-data-store.js';
import { createEngine, type CreateEngineOptions } from '../engine/create-engine.js';
import type { Engine } from '../engine/engine.js';
import type { LoadedConfig } from './load-config.js';
import { loadPlugins } from './load-plugins.js';

/** The local data store a config describes: its `data` section, then its `dataDir`. */
export function dataStoreFromConfig(loaded: LoadedConfig): DataStore {
  const stores: DataStore[] = [createMemoryDataStore(loaded.config.data ?? {})];
  if (loaded.config.dataDir) stores.push(createFolderDataStore(resolve(loaded.dir, loaded.config.dataDir)));
  return chainDataStores(...stores);
}

/**
 * Build an engine from a loaded worker config: load its plugins (or the
 * shipped ones), enable the listed modules, check module settings, set up
 * allowed roots, the local data store and the task timeout. `overrides`
 * replace anything (e.g. a transport-backed data store on a worker).
 */
export async function createEngineFromConfig(loaded: LoadedConfig, overrides: Partial<CreateEngineOptions> = {}): Promise<Engine> {
  const { config, dir } = loaded;
  const plugins = await loadPlugins(config.plugins, dir);
  const options: CreateEngineOptions = {
    plugins,
    settings: config.settings ?? {},
    dataStore: dataStoreFromConfig(loaded),
    allowedRoots: (config.allowedRoots ?? []).map((r) => resolve(dir, r)),
    cwd: config.workdir ? resolve(dir, config.workdir) : process.cwd(),
    ...(config.modules ? { enabled: config.modules } : {}),
    ...(config.taskTimeoutSeconds ? { taskTimeoutMs: config.taskTimeoutSeconds * 1000 } : {}),
    ...(config.phaseTimeoutSeconds ? { phaseTimeoutMs: config.phaseTimeoutSeconds * 1000 } : {}),
    ...overrides,
  };
  return createEngine(options);
}
