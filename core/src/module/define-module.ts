import type { TSchema } from 'typebox';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS } from '../container/tokens.js';
import type { TaskContext } from '../container/services.js';
import type {
  ClassModuleDefinition,
  SetupModuleDefinition,
  TaskHandler,
  TaskHandlerClass,
  TaskModule,
} from './task-module.js';

const MODULE_NAME = /^[A-Za-z0-9][\w.-]*$/;

function construct(Task: TaskHandlerClass, container: DependencyContainer): TaskHandler {
  if (Array.isArray(Task.inject)) {
    const args = Task.inject.map((token) => container.resolve(token)) as never[];
    return new Task(...args);
  }
  return container.resolve(Task as unknown as new (...args: unknown[]) => TaskHandler);
}

/**
 * Declare a task module. Either give `task`, a handler class whose
 * constructor gets services by DI, or `setup`, a function that receives the
 * whole {@link TaskContext} and returns the handler (no decorators needed).
 *
 * @example
 * export default defineModule({
 *   name: 'hello',
 *   schema: Type.Object({ who: Type.String() }),
 *   setup: (ctx) => ({ run: () => ctx.logger.info(`hello ${ctx.data.who}`) }),
 * });
 */
export function defineModule<S extends TSchema>(definition: ClassModuleDefinition<S>): TaskModule<S>;
export function defineModule<S extends TSchema, Settings = Record<string, unknown>>(
  definition: SetupModuleDefinition<S, Settings>,
): TaskModule<S>;
export function defineModule<S extends TSchema, Settings>(
  definition: ClassModuleDefinition<S> | SetupModuleDefinition<S, Settings>,
): TaskModule<S> {
  if (!definition || typeof definition.name !== 'string' || !MODULE_NAME.test(definition.name)) {
    throw new TypeError(`defineModule: name must be letters, digits, '.', '_' or '-' (got ${JSON.stringify(definition?.name)})`);
  }
  if (!definition.schema || typeof definition.schema !== 'object') {
    throw new TypeError(`defineModule(${definition.name}): schema must be a TypeBox schema`);
  }
  const hasTask = 'task' in definition && typeof definition.task === 'function';
  const hasSetup = 'setup' in definition && typeof definition.setup === 'function';
  if (hasTask === hasSetup) {
    throw new TypeError(`defineModule(${definition.name}): give exactly one of task (a class) or setup (a function)`);
  }
  const create = hasTask
    ? (container: DependencyContainer) => construct((definition as ClassModuleDefinition<S>).task, container)
    : (container: DependencyContainer) =>
        (definition as SetupModuleDefinition<S, Settings>).setup(
          container.resolve<TaskContext<never, Settings>>(TOKENS.TaskContext),
        );
  const module: TaskModule<S> = {
    kind: 'sisyphus-module',
    name: definition.name,
    schema: definition.schema,
    create,
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    ...(definition.settingsSchema !== undefined ? { settingsSchema: definition.settingsSchema } : {}),
  };
  return Object.freeze(module);
}

/** Is `value` a module made by {@link defineModule}? */
export function isTaskModule(value: unknown): value is TaskModule {
  const v = value as Partial<TaskModule> | null;
  return typeof v === 'object' && v !== null && v.kind === 'sisyphus-module' && typeof v.name === 'string' && typeof v.create === 'function';
}
