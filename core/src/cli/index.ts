export { main } from './main.js';
export { ExitCodes, exitCodeFor } from './exit-codes.js';
