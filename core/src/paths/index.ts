export { type PathGuard, createPathGuard, realpathLoose, isInside } from './path-guard.js';
export { partialPathFor } from './partial-path.js';
