export { main } from './main.js';
export { ExitCodes, exitCodeFor, exitCodeForError } from './exit-codes.js';
