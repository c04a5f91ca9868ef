import type { TaskModule } from '../module/task-module.js';
import { JSON_SCHEMA_DRAFT, portableSchema, type JsonSchema } from '../job/portable-schema.js';
import { WorkerConfigSchema } from './config-schema.js';

/** What the config schema needs of a module: its name and settings schema. */
export type SettingsModule = Pick<TaskModule, 'name' | 'settingsSchema'>;

/**
 * The JSON Schema (draft-07) of a worker/server config file
 * (`sisyphus.config.yaml`, `.sisyphusrc.json`, ...): {@link WorkerConfigSchema}
 * with `settings.<module>` described by each module's `settingsSchema`.
 * Settings under other names are accepted as any object: the config's own
 * `plugins` may bring modules this schema was not made for (the worker
 * itself refuses a settings name no module has, unless `modules` lists the
 * enabled ones).
 */
export function buildConfigFileSchema(modules: Iterable<SettingsModule>): JsonSchema {
  const list = [...modules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const defs: Record<string, JsonSchema> = {};
  const config = portableSchema(WorkerConfigSchema, 'config', defs) as Record<string, unknown>;
  const props = config.properties as Record<string, Record<string, unknown>>;
  const perModule: Record<string, JsonSchema> = {};
  for (const module of list) {
    perModule[module.name] = module.settingsSchema
      ? portableSchema(module.settingsSchema, `settings:${module.name}`, defs)
      : { type: 'object', description: `${module.name} has no settings schema: any object.` };
  }
  const { patternProperties: _any, ...settings } = props.settings!;
  props.settings = {
    ...settings,
    properties: perModule,
    additionalProperties: { type: 'object' },
  };
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'Sisyphus worker/server configuration',
    description: `sisyphus.config.* / .sisyphusrc*; settings checked for the modules ${list.map((m) => m.name).join(', ') || '(none)'}. Made by \`sisyphus schema config\`.`,
    ...config,
    ...(Object.keys(defs).length ? { definitions: defs } : {}),
  };
}
