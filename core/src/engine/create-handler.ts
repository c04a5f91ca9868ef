import type { DependencyContainer } from '../container/di.js';
import type { TaskContext } from '../container/services.js';
import type { TaskHandler, TaskHandlerClass, TaskModule } from '../module/task-module.js';

/**
 * Make one task's handler: a `setup` module gets the task's context
 * directly; a class module is constructed from the task's container, which
 * `container()` builds (only class modules need one). A class listing its
 * tokens in `static inject` gets them in that order; a decorated class is
 * resolved by tsyringe.
 */
export function createHandler(module: TaskModule, context: TaskContext, container: () => DependencyContainer): TaskHandler {
  if (module.setup) return module.setup(context as never);
  const Task: TaskHandlerClass = module.task;
  const c = container();
  if (Array.isArray(Task.inject)) return new Task(...(Task.inject.map((token) => c.resolve(token)) as never[]));
  return c.resolve(Task as unknown as new (...args: unknown[]) => TaskHandler);
}
