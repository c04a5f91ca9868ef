/**
 * A problem with what the user asked for (a bad name, a folder in the way):
 * the command prints its one-line message and exits 2.
 */
export class ScaffoldError extends Error {
  name = 'ScaffoldError';
}
