import type { ModuleRegistry } from '@sisyphus/core/config';
import type { PollWaiters } from './poll-waiters.js';
import type { EventHub } from './event-hub.js';
import type { QueueListing } from './routes/queue-listing.js';
import type { ResolvedServerOptions } from './server-options.js';
import type { QueueStore } from './store/queue-store.js';
import type { WorkerDirectory } from './worker-directory.js';

/** What every route needs: the store, settings, poll waiters and the known modules. */
export interface ServerContext {
  store: QueueStore;
  options: ResolvedServerOptions;
  waiters: PollWaiters;
  /** This server's reader of the store's event log, fanning it out to `GET /events` listeners. */
  hub: EventHub;
  /** `GET /queue`'s listing; invalidated whenever this server changes the queue. */
  listing: QueueListing;
  /** Polling workers' records (capabilities, attributes), read from the store at most every few seconds. */
  workers: WorkerDirectory;
  registry?: ModuleRegistry;
  startedAt: number;
  version: string;
  /** Aborted when the server starts closing: long-polls answer instead of using a store about to close. */
  closing: AbortSignal;
  /** Current time in epoch ms (replaceable in tests). */
  now(): number;
}
