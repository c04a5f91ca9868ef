/**
 * The one rule for the ids the queue addresses things by: job ids
 * (`job_id`) and worker ids (`HOST_UUID`, `worker.id`, and each slot's
 * `ID-N`). They appear as a path segment of every `/jobs/{id}` and
 * `/workers/{id}` route, so they are limited to characters a URL carries
 * unencoded (RFC 3986 "unreserved": letters, digits, `.`, `_`, `~`, `-`)
 * and to {@link QUEUE_ID_MAX_LENGTH} characters, which the server's router
 * accepts as a path parameter (its `maxParamLength`). The first character
 * is a letter, digit or `_` (never `.`: `..` is a path step).
 */
export const QUEUE_ID_MAX_LENGTH = 128;

/** {@link QUEUE_ID_MAX_LENGTH} and the character set as a JSON Schema / RegExp pattern. */
export const QUEUE_ID_PATTERN = `^[A-Za-z0-9_][A-Za-z0-9._~-]{0,${QUEUE_ID_MAX_LENGTH - 1}}$`;

const ID = new RegExp(QUEUE_ID_PATTERN);

/** The rule in words, for messages. */
export const QUEUE_ID_RULE = `1 to ${QUEUE_ID_MAX_LENGTH} letters, digits, '.', '_', '~' or '-', starting with a letter, digit or '_'`;

/**
 * What is wrong with `id` as a job or worker id, or undefined when it
 * follows the rule (e.g. `is 130 characters; ids are at most 128`).
 */
export function queueIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'must be a string';
  if (ID.test(id)) return undefined;
  if (id.length === 0) return 'must not be empty';
  if (id.length > QUEUE_ID_MAX_LENGTH) return `is ${id.length} characters; ids are at most ${QUEUE_ID_MAX_LENGTH}`;
  const bad = [...id].find((c, i) => !/[A-Za-z0-9._~-]/.test(c) || (i === 0 && !/[A-Za-z0-9_]/.test(c)));
  return `must be ${QUEUE_ID_RULE} (${bad !== undefined ? `${JSON.stringify(bad)} is not allowed${id.indexOf(bad) === 0 ? ' first' : ''}` : 'not allowed'})`;
}
