import type { TSchema } from 'typebox';
import type {
  ClassModuleDefinition,
  ClassTaskModule,
  SetupModuleDefinition,
  SetupTaskModule,
  TaskModule,
} from './task-module.js';

const MODULE_NAME = /^[A-Za-z0-9][\w.-]*$/;

/**
 * Declare a task module. Either give `task`, a handler class whose
 * constructor gets services by DI (the engine builds the task's tsyringe
 * child container for it), or `setup`, a function that receives the task's
 * whole {@link TaskContext} and returns the handler (no decorators, no
 * container). `ctx.data` is typed from `schema` and `ctx.settings` from
 * `settingsSchema` (a loose record without one). Returns the definition,
 * checked and frozen: that object is the module.
 *
 * @example
 * export default defineModule({
 *   name: 'hello',
 *   schema: Type.Object({ who: Type.String() }),
 *   settingsSchema: Type.Object({ greeting: Type.Optional(Type.String()) }),
 *   setup: (ctx) => ({ run: () => ctx.logger.info(`${ctx.settings.greeting ?? 'hello'} ${ctx.data.who}`) }),
 * });
 */
export function defineModule<S extends TSchema, SS extends TSchema | undefined = undefined>(
  definition: ClassModuleDefinition<S, SS>,
): ClassTaskModule<S, SS>;
export function defineModule<S extends TSchema, SS extends TSchema | undefined = undefined>(
  definition: SetupModuleDefinition<S, SS>,
): SetupTaskModule<S, SS>;
export function defineModule(definition: ClassModuleDefinition<TSchema, TSchema | undefined> | SetupModuleDefinition<TSchema, TSchema | undefined>): TaskModule {
  if (!definition || typeof definition.name !== 'string' || !MODULE_NAME.test(definition.name)) {
    throw new TypeError(`defineModule: name must be letters, digits, '.', '_' or '-' (got ${JSON.stringify(definition?.name)})`);
  }
  if (!definition.schema || typeof definition.schema !== 'object') {
    throw new TypeError(`defineModule(${definition.name}): schema must be a TypeBox schema`);
  }
  if (definition.settingsSchema !== undefined && (typeof definition.settingsSchema !== 'object' || definition.settingsSchema === null)) {
    throw new TypeError(`defineModule(${definition.name}): settingsSchema must be a TypeBox schema`);
  }
  for (const hook of ['detect', 'requires'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function') {
      throw new TypeError(`defineModule(${definition.name}): ${hook} must be a function`);
    }
  }
  const task = 'task' in definition ? definition.task : undefined;
  const setup = 'setup' in definition ? definition.setup : undefined;
  if ((typeof task === 'function') === (typeof setup === 'function')) {
    throw new TypeError(`defineModule(${definition.name}): give exactly one of task (a class) or setup (a function)`);
  }
  const common = {
    kind: 'sisyphus-module' as const,
    name: definition.name,
    schema: definition.schema,
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    ...(definition.settingsSchema !== undefined ? { settingsSchema: definition.settingsSchema } : {}),
    ...(definition.detect !== undefined ? { detect: definition.detect } : {}),
    ...(definition.requires !== undefined ? { requires: definition.requires } : {}),
  };
  return Object.freeze(task ? { ...common, task } : { ...common, setup: setup! });
}

/** Is `value` a module made by {@link defineModule} (marked, named, with exactly one of `setup` or `task`)? */
export function isTaskModule(value: unknown): value is TaskModule {
  const v = value as { kind?: unknown; name?: unknown; setup?: unknown; task?: unknown } | null;
  return (
    typeof v === 'object' && v !== null && v.kind === 'sisyphus-module' && typeof v.name === 'string' &&
    (typeof v.setup === 'function') !== (typeof v.task === 'function')
  );
}
