/**
 * The ids a worker shows to the server, one per concurrency slot: the plain
 * id when there is one slot, else `ID-1`, `ID-2`, ... so that each slot fits
 * the original one-job-per-worker status shape.
 */
export function slotWorkerIds(workerId: string, concurrency: number): string[] {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1 (got ${concurrency})`);
  if (concurrency === 1) return [workerId];
  return Array.from({ length: concurrency }, (_, i) => `${workerId}-${i + 1}`);
}
