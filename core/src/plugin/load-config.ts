import { defaultLoaders, cosmiconfig } from 'cosmiconfig';
import { dirname, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { formatProblems, schemaProblems } from '../job/format-errors.js';
import { WorkerConfigSchema, type WorkerConfig } from './config-schema.js';

/** A loaded configuration: the file it came from (if any) and its folder. */
export interface LoadedConfig {
  /** Path of the config file, or undefined when none was found (embedded default). */
  filepath?: string;
  /** Folder that relative paths in the config are resolved from. */
  dir: string;
  config: WorkerConfig;
}

/** Where cosmiconfig looks, in order, in each folder. */
export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.sisyphusrc',
  '.sisyphusrc.json',
  '.sisyphusrc.yaml',
  '.sisyphusrc.yml',
  '.sisyphusrc.js',
  '.sisyphusrc.mjs',
  '.sisyphusrc.ts',
  'sisyphus.config.json',
  'sisyphus.config.yaml',
  'sisyphus.config.yml',
  'sisyphus.config.js',
  'sisyphus.config.mjs',
  'sisyphus.config.ts',
];

function explorer() {
  return cosmiconfig('sisyphus', {
    searchPlaces: CONFIG_SEARCH_PLACES,
    searchStrategy: 'project',
    loaders: {
      // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse refuses it.
      '.json': (filepath: string, content: string) => defaultLoaders['.json'](filepath, content.replace(/^\uFEFF/, '')),
      noExt: (filepath: string, content: string) => defaultLoaders.noExt(filepath, content.replace(/^\uFEFF/, '')),
      // jiti strips the types itself, so a .ts config needs no TypeScript compiler in the install;
      // loaded only for .ts configs.
      '.ts': async (filepath: string) => {
        const { createJiti } = await import('jiti');
        // No file cache: jiti's is a shared folder under the temp dir (another user could read a
        // config's secrets there, or plant code this process would run).
        return createJiti(import.meta.url, { moduleCache: false, fsCache: false }).import(filepath, { default: true });
      },
    },
  });
}

/** Check a config object; errors name the file and every bad field. */
export function checkConfig(config: unknown, source: string): WorkerConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError(`${source}: the configuration must be an object`);
  }
  const problems = schemaProblems(WorkerConfigSchema, config);
  if (problems.length) throw new ConfigError(`${source}: ${formatProblems(problems)}`, { details: { problems } });
  return config as WorkerConfig;
}

/**
 * Find and load the worker configuration. With `path`, exactly that file
 * (an error when missing); otherwise cosmiconfig searches from `cwd` up to
 * the nearest package.json. No config at all is fine: `{}` (embedded default).
 */
export async function loadConfig(options: { path?: string; cwd?: string } = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    if (options.path) {
      const file = resolve(cwd, options.path);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) throw new ConfigError(`config file ${file} not found`);
      result = await explorer().load(file);
    } else {
      result = await explorer().search(cwd);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // cosmiconfig puts the file on the first line and the reason on the next; jiti the reason first
    // and `FILE:LINE:COLUMN` next: one line, with both.
    const lines = String((error as Error).message).split('\n').map((l) => l.trim()).filter(Boolean);
    const reason = lines.length > 1 && lines[0]!.endsWith(':') ? `${lines[0]} ${lines[1]}` : lines.length > 1 && /:\d+:\d+$/.test(lines[1]!) ? `${lines[1]}: ${lines[0]}` : lines[0];
    throw new ConfigError(`cannot load configuration: ${reason}`, { cause: error, code: ErrorCodes.CONFIG_INVALID });
  }
  if (!result) return { dir: cwd, config: {} };
  const config = result.isEmpty || result.config == null ? {} : result.config;
  return { filepath: result.filepath, dir: dirname(result.filepath), config: checkConfig(config, result.filepath) };
}
