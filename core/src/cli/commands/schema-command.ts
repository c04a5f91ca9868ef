import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildJobFileSchema } from '../../job/job-file-schema.js';
import { buildConfigFileSchema } from '../../plugin/config-file-schema.js';
import { loadConfig } from '../../plugin/load-config.js';
import { loadPlugins } from '../../plugin/load-plugins.js';
import { buildRegistry } from '../../plugin/module-registry.js';
import { ExitCodes } from '../exit-codes.js';
import { usage } from '../usage-error.js';
import type { GlobalOptions } from './shared.js';

/** The schemas `sisyphus schema` prints. */
export const SCHEMA_KINDS = ['job', 'config'] as const;

/** Options of `sisyphus schema`. */
export interface SchemaCommandOptions extends GlobalOptions {
  /** Write the schema to this file instead of stdout. */
  out?: string;
  /** Job schema: accept modules the config does not provide (their data unchecked). */
  allowUnknownModules?: boolean;
}

/**
 * `sisyphus schema job|config [--out FILE]`: print the JSON Schema of job
 * files (task data checked for the modules the config provides) or of config
 * files (module settings included), for editors and validators.
 */
export async function schemaCommand(kind: string, options: SchemaCommandOptions): Promise<number> {
  if (!(SCHEMA_KINDS as readonly string[]).includes(kind)) {
    throw usage(`schema: unknown kind ${JSON.stringify(kind)}; expected job or config`);
  }
  const loaded = await loadConfig(options.config ? { path: options.config } : {});
  const plugins = await loadPlugins(loaded.config.plugins, loaded.dir);
  const registry = buildRegistry(plugins, loaded.config.modules ? { enabled: loaded.config.modules } : {});
  const modules = registry.list().map((e) => e.module);
  const schema =
    kind === 'job'
      ? buildJobFileSchema(modules, { allowUnknownModules: !!options.allowUnknownModules })
      : buildConfigFileSchema(modules);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (options.out) {
    const file = resolve(options.out);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  } else {
    process.stdout.write(text);
  }
  return ExitCodes.OK;
}
