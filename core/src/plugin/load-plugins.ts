import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { importPlugin } from './import-plugin.js';
import type { LoadedPlugin } from './module-registry.js';

/** The module packages shipped with Sisyphus, available when no config lists plugins. */
export const DEFAULT_PLUGINS: readonly string[] = [
  '@sisyphus/module-cleanup',
  '@sisyphus/module-ffmpeg',
  '@sisyphus/module-mkvmerge',
  '@sisyphus/module-mkvextract',
  '@sisyphus/module-handbrake',
];

const coreDir = dirname(fileURLToPath(import.meta.url));

/**
 * Load the plugins a config names (npm names resolved from `fromDir`, paths
 * relative to it). Without a list, the shipped modules that are installed
 * next to this core (the embedded default).
 */
export async function loadPlugins(specs: readonly string[] | undefined, fromDir: string): Promise<LoadedPlugin[]> {
  if (specs) return Promise.all(specs.map((spec) => importPlugin(spec, fromDir)));
  const loaded = await Promise.all(
    DEFAULT_PLUGINS.map((spec) =>
      importPlugin(spec, coreDir).catch((error: unknown) => {
        // A shipped module that is not installed is simply not available.
        if (error instanceof ConfigError && error.code === ErrorCodes.PLUGIN_NOT_FOUND) return undefined;
        throw error;
      }),
    ),
  );
  return loaded.filter((p): p is LoadedPlugin => p !== undefined);
}
