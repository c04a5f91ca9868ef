import { jobRequirements, type ModuleLookup } from '@sisyphus/core';
import type { JobRequirements, NewJob, QueueStore } from '../store/queue-store.js';

/** Where the requirements of a job come from: the modules the server knows and its store's module data (option sets). */
export interface RequirementSources {
  registry?: ModuleLookup | undefined;
  store: Pick<QueueStore, 'getData'>;
}

/**
 * What a job needs of the worker that runs it (see `JobRequirements`): its
 * document's `requires` plus what its tasks use (each task's module and what
 * the module's `requires` hook finds in its data, option sets resolved from
 * the store). Undefined: anyone may run it.
 */
export async function requirementsOf(job: Record<string, unknown>, sources: RequirementSources): Promise<JobRequirements | undefined> {
  return jobRequirements(job, sources.registry, (module, name) => sources.store.getData(module, name));
}

/** `job` with its requirements (see {@link requirementsOf}) set. */
export async function withRequirements(job: NewJob, sources: RequirementSources): Promise<NewJob> {
  const requires = await requirementsOf(job.job, sources);
  return requires ? { ...job, requires } : job;
}

/**
 * Set the requirements of the children (and the finally job) a job hands
 * over: each child's own, where a child document without a `requires` of
 * its own takes its parent's (a chunk of a job that must run on a GPU
 * worker runs on one too; the child's document shows it).
 */
export async function withChildRequirements(children: NewJob[], parent: Record<string, unknown>, sources: RequirementSources): Promise<NewJob[]> {
  const inherited = parent.requires;
  return Promise.all(
    children.map((child) =>
      withRequirements(inherited !== undefined && child.job.requires === undefined ? { ...child, job: { ...child.job, requires: inherited } } : child, sources),
    ),
  );
}
