import { describe } from 'vitest';
import type { QueueStore } from '../store/queue-store.js';
import { describeCancel } from './store-suite/cancel.js';
import { describeCounts } from './store-suite/counts.js';
import { describeErrorCodes } from './store-suite/error-codes.js';
import { describeEventLog, describeEventLogPersistence } from './store-suite/event-log.js';
import { describeFinish } from './store-suite/finish.js';
import { describeFinishAndPoll } from './store-suite/finish-and-poll.js';
import { describeFlows } from './store-suite/flows.js';
import { describeHistoryFields } from './store-suite/history-fields.js';
import { describeHistoryFilters } from './store-suite/history-filters.js';
import { describeLeaseExpiry } from './store-suite/lease-expiry.js';
import { describeLeaseOrder } from './store-suite/lease-order.js';
import { describeList } from './store-suite/list.js';
import { describeModuleData } from './store-suite/module-data.js';
import { describePersistence } from './store-suite/persistence.js';
import { describePurge } from './store-suite/purge.js';
import { describeQueueAttributes } from './store-suite/queue-attributes.js';
import { describeQueuedDocuments } from './store-suite/queued-documents.js';
import { describeRequirements } from './store-suite/requirements.js';
import { describeQueueMetrics } from './store-suite/queue-metrics.js';
import { describeRemoveAndClear } from './store-suite/remove-and-clear.js';
import { describeRetry } from './store-suite/retry.js';
import { describeSetPriority } from './store-suite/set-priority.js';
import { storeFixture } from './store-suite/store-fixture.js';
import { describeSubmitAndGet } from './store-suite/submit-and-get.js';
import { describeWorkerPresence } from './store-suite/worker-presence.js';
import { describeWorkers } from './store-suite/workers.js';

/** Options of {@link describeQueueStore}. */
export interface QueueStoreSuiteOptions {
  /**
   * Open the store that the last `open()` (or `reopen()`) returned again, after
   * it was closed. When given, the suite checks that everything survives a
   * close and reopen.
   */
  reopen?: () => Promise<QueueStore> | QueueStore;
}

/**
 * Register the {@link QueueStore} conformance suite (a vitest `describe`
 * block) for one implementation. `open` must return a fresh, empty store each
 * time it is called; the suite closes it after each test. Each section lives
 * in its own file under `store-suite/`.
 *
 * Conventions the suite relies on beyond the interface text:
 * - `lease('')` (an empty worker id) is an anonymous lease: `worker_id` stays
 *   unset, as for a poll by an original client.
 * - `started_at` / `finished_at` are the ISO form of the `now` passed in.
 * - A running job whose cancel was requested is not requeued when its lease
 *   expires: it ends as `cancelled` (its id is among `failed`, the jobs that
 *   left the queue for good).
 * - `worker(id, now)` of a worker whose heartbeat expired answers `status: {}`
 *   (the heartbeat is gone, as in the original) with its attributes.
 * - A worker counts as having attributes (and stays listed when expired) once
 *   `setWorkerAttributes` was called for it.
 * - Refusals are `StoreError`s with the same code on every store
 *   (`SIS_JOB_EXISTS`, `SIS_BAD_CURSOR`; `SIS_JOB_NOT_FOUND` and
 *   `SIS_LEASE_LOST` from the queue rules over the store, `reportJob`;
 *   `retry`'s `SIS_JOB_NOT_FOUND`, `SIS_JOB_STATE`, `SIS_JOB_EXISTS`).
 * - Flows (`store-suite/flows.ts` and `flow-*.ts`): children cancelled
 *   because their parent ended (cancelled, or failed by a sibling) end with
 *   reason `parent P failed` / `parent P was cancelled`, count as ended
 *   (their ChildResult is kept, `pending` drops); the finally job is no
 *   child of the round (its end changes neither `childResults` nor the
 *   parent); a waiting parent's `finished_at` is unset and its worker's
 *   later report, renewal or release is `lease-lost`, also once it is queued
 *   to resume (nobody's until leased again).
 * - The event log holds what was appended to it and nothing else (the
 *   queue rules append; store methods do not). Its tests use one store
 *   instance: a second one on the same store is not something the suite can open.
 *
 * @example
 * describeQueueStore('sqlite :memory:', () => openSqliteStore(':memory:'));
 */
export function describeQueueStore(
  name: string,
  open: () => Promise<QueueStore> | QueueStore,
  options: QueueStoreSuiteOptions = {},
): void {
  describe(`QueueStore conformance: ${name}`, () => {
    const fixture = storeFixture(open, options.reopen);
    describeSubmitAndGet(fixture);
    describeLeaseOrder(fixture);
    describeLeaseExpiry(fixture);
    describeFinishAndPoll(fixture);
    describeFinish(fixture);
    describeCancel(fixture);
    describeList(fixture);
    describeHistoryFields(fixture);
    describeHistoryFilters(fixture);
    describeCounts(fixture);
    describeSetPriority(fixture);
    describeRetry(fixture);
    describeQueuedDocuments(fixture);
    describeRemoveAndClear(fixture);
    describePurge(fixture);
    describeQueueAttributes(fixture);
    describeWorkers(fixture);
    describeWorkerPresence(fixture);
    describeModuleData(fixture);
    describeErrorCodes(fixture);
    describeEventLog(fixture);
    describeFlows(fixture, { persistence: options.reopen !== undefined });
    describeRequirements(fixture, { persistence: options.reopen !== undefined });
    describeQueueMetrics(fixture, { persistence: options.reopen !== undefined });
    if (options.reopen) {
      describePersistence(fixture);
      describeEventLogPersistence(fixture);
    }
  });
}
