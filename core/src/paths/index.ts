export { type PathGuard, createPathGuard, realpathLoose, isInside } from './path-guard.js';
