import { QUEUE_ID_MAX_LENGTH, queueIdProblem } from '../job/queue-id.js';
import { ConfigError } from '../module/errors.js';

/**
 * The ids a worker shows to the server, one per concurrency slot: the plain
 * id when there is one slot, else `ID-1`, `ID-2`, ... so that each slot fits
 * the original one-job-per-worker status shape. Every id must follow the
 * queue's id rule (see `queue-id.ts`): a worker whose id the server cannot
 * route would heartbeat into errors while its jobs are requeued under it,
 * so a bad id is a `ConfigError` at start.
 */
export function slotWorkerIds(workerId: string, concurrency: number): string[] {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1 (got ${concurrency})`);
  const ids = concurrency === 1 ? [workerId] : Array.from({ length: concurrency }, (_, i) => `${workerId}-${i + 1}`);
  for (const id of ids) {
    const problem = queueIdProblem(id);
    if (!problem) continue;
    const shown = id.length > 40 ? `${id.slice(0, 40)}...` : id;
    const slot = id === workerId ? '' : ` (the id of slot ${ids.indexOf(id) + 1} of ${concurrency}; slots add "-N", so the worker id may have at most ${QUEUE_ID_MAX_LENGTH - 1 - String(concurrency).length} characters)`;
    throw new ConfigError(`worker id ${JSON.stringify(shown)} ${problem}${slot}; set worker.id (or HOST_UUID) to an id that follows the rule`);
  }
  return ids;
}
