/**
 * The part of a store that keeps the queue's metrics (`GET /metrics`), so
 * that they are the same whichever server is asked: counters and histogram
 * buckets live in the store, not in one server's memory. Optional
 * ({@link QueueStore.metrics}); a store without it serves gauges and process
 * metrics only.
 *
 * The store knows nothing of metric names or labels: it keeps named totals
 * (opaque keys, made by `metrics/metric-series.ts`) and adds to them. Every
 * process that changes the store (each server, each direct Redis worker)
 * records what it did through `withQueueEvents`, in batches.
 */
export interface QueueMetricsStore {
  /**
   * Add each increment to the total of its key (a missing key starts at 0),
   * all of them at once: a reader sees all of a call's increments or none.
   * Values are finite numbers (counts, seconds); keys are short strings.
   */
  record(increments: Readonly<Record<string, number>>): Promise<void>;
  /** Every total kept, by key. Fast: one read of a few hundred entries, whatever the number of jobs. */
  read(): Promise<Record<string, number>>;
  /**
   * Queued jobs per priority, highest priority first, at most `limit`
   * priorities (the lower ones are left out). Its cost grows with the number
   * of distinct priorities queued, not with the number of jobs (on Redis
   * O(priorities × log jobs)). Stores that queue priorities outside a range
   * as the nearest bound (Redis, see `MIN_PRIORITY`) answer that bound.
   */
  queuedByPriority(limit: number): Promise<PriorityDepth[]>;
}

/** How many jobs of one priority are queued (see {@link QueueMetricsStore.queuedByPriority}). */
export interface PriorityDepth {
  priority: number;
  count: number;
}
