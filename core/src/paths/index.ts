export { type PathGuard, createPathGuard, realpathLoose, isInside, RESERVED_NAME } from './path-guard.js';
