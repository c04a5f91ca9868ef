/**
 * Where a webhook delivery is: `pending` (due at `next_at`: new, or waiting
 * to be tried again), `sending` (claimed by a server until `next_at`, its
 * lease), `delivered` (a 2xx answer) or `failed` (given up).
 */
export type WebhookDeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/** A delivery to create: one event for one hook, with the body every attempt sends. */
export interface NewWebhookDelivery {
  /** The event's id in the store's event log: unique per hook (a second create of it changes nothing). */
  event_id: string;
  /** The event's type, e.g. `job.completed`. */
  event_type: string;
  /** Epoch ms of the event. */
  event_at: number;
  /** The JSON body to POST, made once: every attempt sends the same bytes (only the signature's time changes). */
  body: string;
}

/** A delivery as a {@link WebhookStore} keeps it. Times are epoch ms. */
export interface WebhookDelivery extends NewWebhookDelivery {
  /** The hook's name. */
  hook: string;
  status: WebhookDeliveryStatus;
  /** Attempts made (or under way). */
  attempts: number;
  /** When the delivery was created. */
  created_at: number;
  /** `pending`: when it is due; `sending`: when the claim lapses (a server that died mid-attempt). */
  next_at?: number;
  /** When the last attempt started. */
  last_attempt_at?: number;
  /** The HTTP status of the last answer, when there was one. */
  status_code?: number;
  /** Why the last attempt failed (`HTTP 500`, `timed out after 10 s`, a network error). */
  error?: string;
  /** When it was delivered or given up. */
  finished_at?: number;
}

/** How an attempt ended, for {@link WebhookStore.record}. */
export interface WebhookAttemptOutcome {
  /** `pending`: try again at `next_at`; `delivered` or `failed`: done. */
  status: 'pending' | 'delivered' | 'failed';
  /** Epoch ms the attempt ended. */
  at: number;
  /** `pending` only: when to try again. */
  next_at?: number;
  status_code?: number;
  error?: string;
}

/** A hook's state at a glance, for `GET /webhooks`. */
export interface WebhookSummary {
  /** Deliveries not finished (`pending` or `sending`). */
  pending: number;
  /** The delivery whose attempt ended last, as it was then (kept even when the delivery itself was trimmed). */
  last?: WebhookDelivery;
}

/** A worker whose heartbeat expired, as {@link WebhookStore.claimOfflineWorkers} hands it out. */
export interface OfflineWorker {
  worker_id: string;
  /** Epoch ms of its last heartbeat. */
  last_seen: number;
  /** Epoch ms its heartbeat expired. */
  expires_at: number;
  /** The `hostname` of its last heartbeat, when it sent one. */
  hostname?: string;
}

/** How many finished deliveries a store keeps per hook (the oldest beyond it are deleted). */
export const WEBHOOK_DELIVERIES_KEEP = 1000;

/**
 * The store part behind webhooks (`QueueStore.webhooks`, optional): per hook
 * a cursor in the event log and a durable outbox of deliveries, shared by
 * every server on the store, so that each event goes out once per hook
 * however many servers there are, and a restarted server goes on where the
 * fleet stopped. Also the once-per-fleet claim of workers going offline.
 *
 * Every method is one atomic step on the store (a SQLite transaction, a
 * Redis Lua script or `SET NX`). Times are passed in (epoch ms).
 * `plugins/server/src/testing/webhook-store-suite.ts` checks an implementation.
 */
export interface WebhookStore {
  /** Id of the last event of the log `hook` has looked at; `''`: none yet (start at the oldest); undefined: the hook is new. */
  cursor(hook: string): Promise<string | undefined>;
  /**
   * If `hook`'s cursor is still `expected` (undefined: it has none), move it
   * to `cursor` and create `deliveries` (each `pending`, due at `now`; one
   * whose event the hook has already is left as it is). False, changing
   * nothing, when the cursor moved meanwhile (another server got there first).
   */
  enqueue(hook: string, expected: string | undefined, cursor: string, deliveries: readonly NewWebhookDelivery[], now: number): Promise<boolean>;
  /**
   * Claim up to `limit` of `hook`'s deliveries that are due (`pending` with
   * `next_at <= now`, or `sending` whose claim lapsed), oldest due first:
   * each becomes `sending` until `now + leaseMs`, `attempts` + 1,
   * `last_attempt_at` now. Answers them as they are after the claim.
   */
  claim(hook: string, now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Record how attempt number `attempt` of a claimed delivery ended. False,
   * changing nothing, when the delivery is no longer `sending` under that
   * attempt (its claim lapsed and another server took it). Finished
   * deliveries beyond the newest {@link WEBHOOK_DELIVERIES_KEEP} are deleted.
   */
  record(hook: string, eventId: string, attempt: number, outcome: WebhookAttemptOutcome): Promise<boolean>;
  /** `hook`'s newest deliveries (latest created first), at most `limit`. */
  deliveries(hook: string, limit: number): Promise<WebhookDelivery[]>;
  summary(hook: string): Promise<WebhookSummary>;
  /**
   * Workers whose heartbeat expired after `since` and at or before `now`
   * that were not claimed yet for that expiry: each expiry is handed out
   * once, whichever server asks (a worker that comes back and goes again is
   * handed out again).
   */
  claimOfflineWorkers(now: number, since: number): Promise<OfflineWorker[]>;
}
