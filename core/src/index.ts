/**
 * @sisyphus/core: the job model, module contract, engine, plugins and
 * process runner of Sisyphus. Import decorators (`injectable`, `inject`)
 * from here so that modules share the core's DI container.
 */
export { injectable, inject, type DependencyContainer, type InjectionToken } from './container/di.js';
export * from './container/index.js';
export * from './module/index.js';
export * from './job/index.js';
export * from './engine/index.js';
export * from './plugin/index.js';
export * from './process/index.js';
export * from './data/index.js';
export * from './paths/index.js';
export * from './files/index.js';
export * from './transport/index.js';
export * from './worker/index.js';
export * from './version/index.js';
export { Type } from './vendor/typebox.js';
export type { Static, TSchema } from 'typebox';
