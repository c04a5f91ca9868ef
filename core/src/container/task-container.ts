import type { DependencyContainer } from './di.js';
import { TOKENS } from './tokens.js';
import type { TaskContext } from './services.js';

/**
 * A task's tsyringe child container of `parent`, with every piece of its
 * {@link TaskContext} registered under its token in {@link TOKENS} (and the
 * whole context under `TOKENS.TaskContext`). Built only for class modules
 * (`defineModule({ task })`); what is costly in the context (runner,
 * workspaces, output files, signal) is still made only when resolved. The
 * engine disposes it when the job ends (`dispose()`), which disposes what it
 * constructed that is disposable.
 */
export function createTaskContainer(parent: DependencyContainer, context: TaskContext): DependencyContainer {
  const c = parent.createChildContainer();
  c.register(TOKENS.TaskContext, { useValue: context });
  c.register(TOKENS.TaskData, { useValue: context.data });
  c.register(TOKENS.TaskInfo, { useValue: context.task });
  c.register(TOKENS.ModuleSettings, { useValue: context.settings });
  c.register(TOKENS.Logger, { useValue: context.logger });
  c.register(TOKENS.Progress, { useValue: context.progress });
  c.register(TOKENS.DataStore, { useValue: context.dataStore });
  c.register(TOKENS.JobOutputs, { useValue: context.outputs });
  c.register(TOKENS.Children, { useValue: context.children });
  c.register(TOKENS.ProcessRunner, { useFactory: () => context.runner });
  c.register(TOKENS.PathGuard, { useFactory: () => context.paths });
  c.register(TOKENS.Workspace, { useFactory: () => context.workspace });
  c.register(TOKENS.JobWorkspace, { useFactory: () => context.jobWorkspace });
  c.register(TOKENS.OutputFiles, { useFactory: () => context.outputFiles });
  c.register(TOKENS.Activity, { useFactory: () => context.activity });
  c.register(TOKENS.AbortSignal, { useFactory: () => context.signal });
  return c;
}
