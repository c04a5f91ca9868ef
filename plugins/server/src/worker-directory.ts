import type { LeaseOptions, QueueStore, WorkerRecord } from './store/queue-store.js';
import { workerCapabilities } from './queue/worker-capabilities.js';

/** How many workers' records a server keeps at hand. */
const MAX_ENTRIES = 10_000;

/**
 * What a server needs of a polling worker's record (its capabilities from
 * its last heartbeat, its attributes), read from the store at most once per
 * `ttlMs` per worker: a poll (and a long-poll's every look) must not cost a
 * store read each. A worker's heartbeat may go to another server on the same
 * store; what changed shows here within `ttlMs`.
 */
export class WorkerDirectory {
  readonly #entries = new Map<string, { record: WorkerRecord; lease: LeaseOptions; at: number }>();

  constructor(
    private readonly store: QueueStore,
    private readonly options: { ttlMs: number; now: () => number },
  ) {}

  /** The record of `workerId` and the lease options it polls with; `''` (an anonymous poll) advertises nothing. */
  async lookup(workerId: string): Promise<{ record?: WorkerRecord; lease: LeaseOptions }> {
    if (workerId === '') return { lease: {} };
    const now = this.options.now();
    const cached = this.#entries.get(workerId);
    if (cached && now - cached.at < this.options.ttlMs) return cached;
    const record = await this.store.worker(workerId, now);
    const capabilities = workerCapabilities(record.status);
    const entry = { record, lease: capabilities ? { capabilities } : {}, at: now };
    this.#entries.delete(workerId);
    this.#entries.set(workerId, entry);
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return entry;
  }

  /** Read `workerId` from the store next time (its heartbeat or attributes changed through this server). */
  forget(workerId: string): void {
    this.#entries.delete(workerId);
  }
}
