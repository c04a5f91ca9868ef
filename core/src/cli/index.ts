export { main } from './main.js';
export { ExitCodes, exitCodeFor, exitCodeForError } from './exit-codes.js';
export { readDocument, parseDocument, readVariablesFile, parseVarAssignments, MAX_JOB_FILE_BYTES } from '../job/load-job-file.js';
export { placeholderCounts } from '../job/render-template.js';
