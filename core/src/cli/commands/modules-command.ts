import type { Engine } from '../../engine/engine.js';
import { ConfigError } from '../../module/errors.js';
import { ErrorCodes } from '../../module/error-codes.js';
import { ExitCodes } from '../exit-codes.js';
import { JSON_SCHEMA_DRAFT, portableSchema, type JsonSchema } from '../../job/portable-schema.js';
import { formatFieldTable, schemaFields } from './schema-field-table.js';
import { engineFromOptions, type GlobalOptions } from './shared.js';

/** Options of `sisyphus modules`. */
export interface ModulesCommandOptions extends GlobalOptions {
  schema?: boolean;
  json?: boolean;
}

/** A module's data schema as a standalone draft-07 document (TypeBox markers dropped, refs under `definitions`). */
function dataSchemaDocument(name: string, schema: unknown): JsonSchema {
  const definitions: Record<string, JsonSchema> = {};
  const root = portableSchema(schema, 'data', definitions);
  return { $schema: JSON_SCHEMA_DRAFT, title: `${name} task data`, ...(typeof root === 'object' ? root : { not: {} }), ...(Object.keys(definitions).length ? { definitions } : {}) };
}

/**
 * `sisyphus modules [NAME] [--schema]`: list modules, or show one: its
 * fields as a table (path, type, required, default, description; fitted to
 * the terminal), or its data JSON Schema with --schema.
 */
export async function modulesCommand(name: string | undefined, options: ModulesCommandOptions, makeEngine: (o: GlobalOptions) => Promise<Engine> = engineFromOptions): Promise<number> {
  const engine = await makeEngine(options);
  const entries = engine.modules.list();
  if (name !== undefined) {
    const entry = engine.modules.get(name);
    if (!entry) {
      throw new ConfigError(`module "${name}" is not available (available: ${engine.modules.names().join(', ') || 'none'})`, {
        code: ErrorCodes.MODULE_NOT_FOUND,
      });
    }
    if (options.json && !options.schema) {
      process.stdout.write(`${JSON.stringify({ name, plugin: entry.plugin.name, version: entry.plugin.version, description: entry.module.description ?? '', schema: entry.module.schema, settingsSchema: entry.module.settingsSchema ?? null }, null, 2)}\n`);
    } else if (options.schema) {
      process.stdout.write(`${JSON.stringify(dataSchemaDocument(name, entry.module.schema), null, 2)}\n`);
    } else {
      const width = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || 100;
      let text = `${name}  ${entry.plugin.name} ${entry.plugin.version}\n${entry.module.description ?? ''}\n\nTask data (tasks[].data):\n${formatFieldTable(schemaFields(entry.module.schema), width)}`;
      if (entry.module.settingsSchema) {
        text += `\nSettings (settings.${name} in the config):\n${formatFieldTable(schemaFields(entry.module.settingsSchema), width)}`;
      }
      process.stdout.write(text);
    }
    return ExitCodes.OK;
  }
  if (options.schema) throw new ConfigError('--schema needs a module name: sisyphus modules NAME --schema', { code: ErrorCodes.USAGE });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(entries.map((e) => ({ name: e.module.name, plugin: e.plugin.name, version: e.plugin.version, description: e.module.description ?? '' })), null, 2)}\n`);
    return ExitCodes.OK;
  }
  if (!entries.length) {
    process.stdout.write('no modules available (check the plugins list of your config)\n');
    return ExitCodes.OK;
  }
  const width = Math.max(...entries.map((e) => e.module.name.length), 6);
  const pw = Math.max(...entries.map((e) => `${e.plugin.name} ${e.plugin.version}`.length), 6);
  for (const e of entries) {
    process.stdout.write(`${e.module.name.padEnd(width)}  ${`${e.plugin.name} ${e.plugin.version}`.padEnd(pw)}  ${e.module.description ?? ''}\n`);
  }
  return ExitCodes.OK;
}
