import { setMaxListeners } from 'node:events';
import { ConfigError } from '@sisyphus/core';
import type { QueueEvent, QueueEventLog, QueueStore } from '../store/queue-store.js';
import type { NewWebhookDelivery, WebhookDelivery, WebhookStore } from '../store/webhook-store.js';
import { retryDelayMs } from './webhook-backoff.js';
import type { ResolvedWebhook } from './webhook-config.js';
import { webhookMatches } from './webhook-filter.js';
import { sendWebhook, type WebhookAttempt } from './webhook-sender.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

/** Events read from the log per call. */
const PAGE = 200;
/** Pages read per hook in one pass before the others get their turn. */
const PAGES_PER_PASS = 20;
/** Unfinished deliveries per hook beyond which it reads no further in the log (a receiver that is down). */
export const MAX_PENDING_PER_HOOK = 1000;
/** Attempts of one hook under way at once (per server). */
export const MAX_IN_FLIGHT_PER_HOOK = 4;
/** How long a claim outlives the attempt's timeout (ms): a server that died mid-attempt frees it after this. */
const CLAIM_SLACK_MS = 30_000;
/** Jobs whose modules are remembered for the `module` filter. */
const MODULE_CACHE = 2000;
/** How long `stop()` waits for attempts under way to be recorded (ms). */
const STOP_WAIT_MS = 5000;

/** Settings of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** Current time (epoch ms); replaceable in tests. */
  now?: () => number;
  /** How often due retries and the log are looked at without a wake-up (ms). Default 1000. */
  intervalMs?: number;
  /** The `User-Agent` of deliveries. */
  userAgent?: string;
  /** Jitter source, in [0, 1). */
  random?: () => number;
  /** One line per event worth telling (failed attempts, given-up deliveries, missed events, store errors); never a secret. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** The origin of `url` (what logs show of a receiver: no path, which may carry a token). */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(bad url)';
  }
}

/**
 * Delivers the store's events to the configured webhooks, off the request
 * path. For each hook it follows the event log from the hook's cursor in
 * the store and turns the matching events into deliveries in the store's
 * outbox (cursor and deliveries move together, only if no other server
 * moved the cursor first); then it claims due deliveries (at most
 * {@link MAX_IN_FLIGHT_PER_HOOK} at a time per hook), POSTs each, signed,
 * and records the outcome: delivered (2xx), again later with exponential
 * backoff and jitter or the receiver's `Retry-After` (no answer, 408, 429,
 * 5xx), or failed (another answer, or the last attempt). Every server on
 * the store runs one; the store makes each delivery go out once, and a
 * restarted server goes on from where the fleet stopped.
 *
 * Memory is bounded (a page of events, the claimed deliveries); the store
 * is bounded too (a hook with {@link MAX_PENDING_PER_HOOK} unfinished
 * deliveries reads no further; finished ones are trimmed).
 */
export class WebhookDispatcher {
  readonly #hooks: readonly ResolvedWebhook[];
  readonly #store: WebhookStore | undefined;
  readonly #events: QueueEventLog;
  readonly #jobs: Pick<QueueStore, 'get'>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #intervalMs: number;
  readonly #userAgent: string;
  readonly #log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Aborts every attempt in flight (each listens while it runs: as many listeners as attempts, no leak warning). */
  readonly #closing = (() => {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  })();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #collecting = false;
  #collectAgain = false;
  readonly #inFlight = new Map<string, number>();
  readonly #pumping = new Set<string>();
  readonly #pumpAgain = new Set<string>();
  /** What runs now (reads of the log, claims, attempts): `stop()` waits for it. */
  readonly #busy = new Set<Promise<unknown>>();
  readonly #modules = new Map<string, readonly string[]>();
  /** The last problem told per subject, so that a store that stays down is not told every second. */
  readonly #problems = new Map<string, string>();

  /**
   * `store`: the store's webhook part (undefined: a store without one; then
   * there must be no hooks). `events`: the store's event log. `jobs`: looks
   * jobs up for the `module` filter.
   */
  constructor(hooks: readonly ResolvedWebhook[], store: WebhookStore | undefined, events: QueueEventLog, jobs: Pick<QueueStore, 'get'>, options: WebhookDispatcherOptions = {}) {
    if (hooks.length > 0 && !store) throw new ConfigError('webhooks: this store keeps no webhook deliveries (the SQLite and Redis stores do)');
    this.#hooks = hooks;
    this.#store = store;
    this.#events = events;
    this.#jobs = jobs;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#userAgent = options.userAgent ?? 'sisyphus-server';
    this.#log = options.log ?? (() => undefined);
  }

  /** The configured hooks. */
  get hooks(): readonly ResolvedWebhook[] {
    return this.#hooks;
  }

  /**
   * Start following the log and sending (nothing to do without hooks). A
   * hook seen for the first time starts at the log's newest event before
   * this resolves, so every event after it is the hook's (a store that is
   * away now: the first look that reaches it starts the hook there).
   */
  async start(): Promise<void> {
    const store = this.#store;
    if (this.#timer || !store || this.#hooks.length === 0 || this.#closing.signal.aborted) return;
    this.#unsubscribe = this.#events.onAppend(() => void this.#track(this.#collect()));
    this.#timer = setInterval(() => void this.#track(this.tick()), this.#intervalMs);
    this.#timer.unref();
    try {
      for (const hook of this.#hooks) {
        if ((await store.cursor(hook.name)) === undefined) await store.enqueue(hook.name, undefined, (await this.#events.last()) ?? '', [], this.#now());
      }
    } catch (error) {
      this.#problem('start', `webhooks: cannot read the store at start: ${(error as Error).message}`);
    }
    void this.#track(this.tick());
  }

  /** One look: new events into deliveries, due deliveries out (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    await this.#collect();
    for (const hook of this.#hooks) this.#pump(hook);
  }

  /**
   * Stop: no new reads, claims or attempts; attempts under way are aborted
   * and recorded as due again at once (for this server's next start or
   * another server). Waits up to 5 s for what runs to end (the store is
   * closed after this).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#closing.abort();
    const end = Date.now() + STOP_WAIT_MS;
    while (this.#busy.size > 0 && Date.now() < end) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.#busy]), new Promise((resolve) => (timer = setTimeout(resolve, end - Date.now())))]);
      clearTimeout(timer);
    }
  }

  /** Keep `work` in {@link #busy} until it settles. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#busy.add(work);
    void work.then(
      () => this.#busy.delete(work),
      () => this.#busy.delete(work),
    );
    return work;
  }

  #problem(subject: string, message: string): void {
    // A closing server's reads fail as the store closes: nothing to tell.
    if (this.#closing.signal.aborted || this.#problems.get(subject) === message) return;
    this.#problems.set(subject, message);
    this.#log('warn', message);
  }

  #solved(subject: string): void {
    this.#problems.delete(subject);
  }

  // ---- the log into the outbox ----

  async #collect(): Promise<void> {
    if (!this.#store || this.#closing.signal.aborted) return;
    if (this.#collecting) {
      this.#collectAgain = true;
      return;
    }
    this.#collecting = true;
    try {
      do {
        this.#collectAgain = false;
        for (const hook of this.#hooks) {
          if (this.#closing.signal.aborted) return;
          try {
            if (await this.#collectHook(hook, this.#store)) this.#collectAgain = true;
            this.#solved(`collect:${hook.name}`);
          } catch (error) {
            this.#problem(`collect:${hook.name}`, `webhook ${hook.name}: cannot read new events: ${(error as Error).message}`);
          }
        }
      } while (this.#collectAgain && !this.#closing.signal.aborted);
    } finally {
      this.#collecting = false;
    }
  }

  /** Turn `hook`'s new events into deliveries; true when it stopped with more to read. */
  async #collectHook(hook: ResolvedWebhook, store: WebhookStore): Promise<boolean> {
    let cursor = await store.cursor(hook.name);
    if (cursor === undefined) {
      // A new hook gets what happens from now on, not the log's past.
      await store.enqueue(hook.name, undefined, (await this.#events.last()) ?? '', [], this.#now());
      return false;
    }
    for (let page = 0; page < PAGES_PER_PASS; page++) {
      const { pending } = await store.summary(hook.name);
      if (pending >= MAX_PENDING_PER_HOOK) {
        this.#problem(`backlog:${hook.name}`, `webhook ${hook.name}: ${MAX_PENDING_PER_HOOK} deliveries or more not done (receiver ${origin(hook.url)} failing?); reading no further events until fewer are`);
        return false;
      }
      this.#solved(`backlog:${hook.name}`);
      const read = await this.#events.read(cursor === '' ? undefined : cursor, PAGE);
      if (read.reset) this.#log('warn', `webhook ${hook.name}: the event log no longer has the last event it read (trimmed, or another store): events were missed; going on from the oldest kept`);
      if (read.events.length === 0) {
        if (read.reset) await store.enqueue(hook.name, cursor, (await this.#events.last()) ?? '', [], this.#now());
        return false;
      }
      const deliveries: NewWebhookDelivery[] = [];
      for (const event of read.events) {
        if (await webhookMatches(hook, event, (jobId) => this.#modulesOf(jobId))) deliveries.push(this.#delivery(hook, event));
      }
      const next = read.events[read.events.length - 1]!.id;
      if (await store.enqueue(hook.name, cursor, next, deliveries, this.#now())) {
        cursor = next;
        if (deliveries.length) this.#pump(hook);
      } else {
        // Another server moved the cursor (and made these deliveries): go on from where it is.
        cursor = await store.cursor(hook.name);
        if (cursor === undefined) return false;
      }
      if (read.events.length < PAGE && !read.reset) return false;
      // Let requests through between pages (a SQLite read holds the process while it runs).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return true;
  }

  /** The modules of job `jobId`'s tasks (none when it is no longer stored), remembered for a while. */
  async #modulesOf(jobId: string): Promise<readonly string[]> {
    const known = this.#modules.get(jobId);
    if (known) return known;
    const job = await this.#jobs.get(jobId);
    const tasks = (job?.job as { tasks?: unknown } | undefined)?.tasks;
    const modules = Array.isArray(tasks) ? [...new Set(tasks.map((task) => (task as { module?: unknown } | null)?.module).filter((m): m is string => typeof m === 'string'))] : [];
    if (this.#modules.size >= MODULE_CACHE) this.#modules.delete(this.#modules.keys().next().value!);
    this.#modules.set(jobId, modules);
    return modules;
  }

  /** The delivery of `event` to `hook`: the body every attempt sends. */
  #delivery(hook: ResolvedWebhook, event: QueueEvent): NewWebhookDelivery {
    const body = JSON.stringify({ id: event.id, type: event.type, created_at: new Date(event.at).toISOString(), hook: hook.name, data: event.data });
    return { event_id: event.id, event_type: event.type, event_at: event.at, body };
  }

  // ---- the outbox out ----

  /** Claim and start what is due of `hook`, up to its free slots; once at a time per hook (again when asked meanwhile). */
  #pump(hook: ResolvedWebhook): void {
    const store = this.#store;
    if (!store || this.#closing.signal.aborted) return;
    if (this.#pumping.has(hook.name)) {
      this.#pumpAgain.add(hook.name);
      return;
    }
    this.#pumping.add(hook.name);
    void this.#track((async () => {
      try {
        do {
          this.#pumpAgain.delete(hook.name);
          const free = MAX_IN_FLIGHT_PER_HOOK - (this.#inFlight.get(hook.name) ?? 0);
          if (free <= 0 || this.#closing.signal.aborted) break;
          const claimed = await store.claim(hook.name, this.#now(), hook.timeoutMs + CLAIM_SLACK_MS, free);
          for (const delivery of claimed) this.#send(hook, store, delivery);
          this.#solved(`claim:${hook.name}`);
        } while (this.#pumpAgain.has(hook.name));
      } catch (error) {
        this.#problem(`claim:${hook.name}`, `webhook ${hook.name}: cannot claim deliveries: ${(error as Error).message}`);
      } finally {
        this.#pumping.delete(hook.name);
      }
    })());
  }

  #send(hook: ResolvedWebhook, store: WebhookStore, delivery: WebhookDelivery): void {
    this.#inFlight.set(hook.name, (this.#inFlight.get(hook.name) ?? 0) + 1);
    void this.#track(
      this.#attempt(hook, store, delivery)
        .catch((error: unknown) => {
          // Not recorded (the store is away): the claim lapses and the delivery is tried again.
          this.#problem(`record:${hook.name}`, `webhook ${hook.name}: cannot record a delivery: ${(error as Error).message}`);
        })
        .finally(() => {
          this.#inFlight.set(hook.name, (this.#inFlight.get(hook.name) ?? 1) - 1);
          this.#pump(hook);
        }),
    );
  }

  /** One attempt of a claimed delivery, and its record. */
  async #attempt(hook: ResolvedWebhook, store: WebhookStore, delivery: WebhookDelivery): Promise<void> {
    const attempt = delivery.attempts;
    const what = `webhook ${hook.name}: ${delivery.event_type} (event ${delivery.event_id})`;
    if (attempt > hook.maxAttempts) {
      // Claimed again after a server died during its last attempt.
      await store.record(hook.name, delivery.event_id, attempt, { status: 'failed', at: this.#now(), error: delivery.error ?? `gave up after ${hook.maxAttempts} attempts` });
      return;
    }
    const timestamp = Math.floor(this.#now() / 1000);
    const result: WebhookAttempt = await sendWebhook({
      url: hook.url,
      body: delivery.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': this.#userAgent,
        [EVENT_HEADER]: delivery.event_type,
        [DELIVERY_HEADER]: delivery.event_id,
        [SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, delivery.body),
      },
      timeoutMs: hook.timeoutMs,
      signal: this.#closing.signal,
      now: this.#now(),
    });
    const at = this.#now();
    const answer = { ...(result.status !== undefined ? { status_code: result.status } : {}), ...(result.error !== undefined ? { error: result.error } : {}) };
    if (result.ok) {
      await store.record(hook.name, delivery.event_id, attempt, { status: 'delivered', at, ...answer });
      this.#solved(`send:${hook.name}`);
      return;
    }
    if (result.aborted || (result.retryable && attempt < hook.maxAttempts)) {
      // A closing server's attempt is tried again at once, by whichever server is there.
      const delay = result.aborted ? 0 : (result.retryAfterMs ?? retryDelayMs(attempt, this.#random));
      await store.record(hook.name, delivery.event_id, attempt, { status: 'pending', at, next_at: at + delay, ...answer });
      if (!result.aborted) this.#log('info', `${what}: attempt ${attempt} of ${hook.maxAttempts} failed (${result.error}); next in ${Math.round(delay / 100) / 10} s`);
      return;
    }
    await store.record(hook.name, delivery.event_id, attempt, { status: 'failed', at, ...answer });
    this.#log('warn', `${what}: not delivered to ${origin(hook.url)} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${result.error}`);
  }
}
