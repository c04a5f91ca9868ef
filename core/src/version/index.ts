export { CORE_VERSION, majorOf } from './version.js';
