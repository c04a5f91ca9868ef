/**
 * @sisyphus/core: the SDK of Sisyphus. What a task module, a plugin or an
 * app embedding the engine needs: module and plugin definition, errors and
 * their codes, DI tokens and decorators, the engine and its events, the job
 * model, the process runner, path confinement, output files and data
 * stores. Import decorators (`injectable`, `inject`) from here so that
 * modules share the core's DI container.
 *
 * Everything else is a deliberate subpath: `@sisyphus/core/transport` (the
 * worker-to-server contract, for transport authors), `/worker` (the worker
 * loop), `/config` (configuration and plugin loading), `/cli`, `/testing`
 * (running a module's task in tests) and `/conformance` (suites that
 * adapters run). ESM only.
 */
export { injectable, inject, type DependencyContainer, type InjectionToken } from './container/di.js';
export * from './container/index.js';
export * from './module/index.js';
export * from './job/index.js';
export * from './engine/index.js';
export { definePlugin, isPlugin, type Plugin, type PluginDefinition } from './plugin/define-plugin.js';
export * from './process/index.js';
export * from './data/index.js';
export * from './paths/index.js';
export * from './files/index.js';
export * from './version/index.js';
export { capabilityList, readWorkerCapabilities, type WorkerCapabilities } from './worker/worker-capabilities.js';
export { default as Type } from 'typebox';
export type { Static, TSchema } from 'typebox';
