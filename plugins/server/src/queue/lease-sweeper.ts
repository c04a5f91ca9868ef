import type { QueueStore } from '../store/queue-store.js';

/** Settings of {@link LeaseSweeper}. */
export interface LeaseSweeperOptions {
  /** The lease length (ms): also the grace period running leases get after the sweep was away. */
  leaseMs: number;
  /** Times a job may be leased before an expired lease fails it. */
  maxAttempts: number;
  /** How often to look for expired leases (ms). */
  intervalMs: number;
  /** Current time (epoch ms); replaceable in tests. */
  now?: () => number;
  /** Jobs requeued: wake long-polls. */
  onRequeued?: (jobIds: string[]) => void;
  /**
   * Announce workers whose heartbeat expired (`worker.offline`, once per fleet:
   * see `webhooks/worker-offline.ts`); returns their ids. Called after each
   * sweep outside grace periods: while the server was away no worker could heartbeat.
   */
  workersOffline?: (now: number) => Promise<string[]>;
  /** One line per event (expired leases, grace periods, failed sweeps). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * Requeues (or, after `maxAttempts`, fails) running jobs whose lease ran
 * out: the one lease sweep of the server and of direct Redis workers.
 *
 * A lease only runs out fairly if its holder could have renewed it. So
 * whenever the sweep has not been watching (the server just started, the
 * store was unreachable, or the process was frozen, e.g. SIGSTOP or a
 * suspended VM), running leases get a grace period of one lease length
 * from the moment it watches again before any expires: a worker that kept
 * its job through the outage renews it with its next heartbeat (or reports
 * it) instead of finding it requeued. Stores where something besides the
 * sweep could hand out such a job (BullMQ's stalled check) are told the
 * grace period too.
 */
export class LeaseSweeper {
  readonly #store: QueueStore;
  readonly #options: LeaseSweeperOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #graceUntil = 0;
  #lastTick = 0;
  #storeDown = false;
  #sweeping = false;

  constructor(store: QueueStore, options: LeaseSweeperOptions) {
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Epoch ms until which no lease expires (0 when none). */
  get graceUntil(): number {
    return this.#graceUntil;
  }

  /** Start sweeping, with a grace period from now (the sweep was not watching before). */
  start(): void {
    if (this.#timer) return;
    this.#grant('the lease sweep started');
    this.#lastTick = performance.now();
    this.#unsubscribe = this.#store.onReconnect?.(() => this.#grant('the store is back'));
    this.#timer = setInterval(() => void this.tick(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Give running leases until one lease length from now. */
  #grant(why: string): void {
    const until = this.#now() + this.#options.leaseMs;
    if (until <= this.#graceUntil) return;
    this.#graceUntil = until;
    this.#options.log?.('info', `${why}: running leases expire no sooner than ${this.#options.leaseMs / 1000} s from now`);
    this.#store.setLeaseGrace?.(until).catch(() => undefined); // a store that is down hears it on its next grant
  }

  /** One look (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    // A gap of several intervals (real time, whatever clock `now` is): the process was frozen or its
    // event loop blocked; nobody could renew meanwhile.
    const tick = performance.now();
    const gap = tick - this.#lastTick;
    this.#lastTick = tick;
    if (this.#timer && gap > Math.max(3 * this.#options.intervalMs, 2000)) this.#grant(`the lease sweep was not running for ${Math.round(gap / 100) / 10} s`);
    const now = this.#now();
    if (this.#store.unavailable?.()) {
      this.#storeDown = true;
      return;
    }
    if (this.#storeDown) {
      this.#storeDown = false;
      this.#grant('the store is back');
    }
    if (now < this.#graceUntil || this.#sweeping) return;
    this.#sweeping = true;
    try {
      const { requeued, failed } = await this.#store.expireLeases(now, this.#options.maxAttempts);
      if (requeued.length) {
        this.#options.log?.('warn', `lease expired (no heartbeat from its worker): requeued ${requeued.join(', ')}`);
        this.#options.onRequeued?.(requeued);
      }
      if (failed.length) this.#options.log?.('warn', `lease expired too often or while cancelling: ended ${failed.join(', ')}`);
      // Its failure is its own (logged): not a store outage that would give leases a grace period.
      const offline = (await this.#options.workersOffline?.(now).catch((error: unknown) => void this.#options.log?.('error', `worker presence check failed: ${(error as Error).message}`))) ?? [];
      if (offline.length) this.#options.log?.('info', `no heartbeat any more (worker offline): ${offline.join(', ')}`);
    } catch (error) {
      // The store went away mid-sweep: when it is back, leases get their grace period.
      this.#storeDown = true;
      this.#options.log?.('error', `lease sweep failed: ${(error as Error).message}`);
    } finally {
      this.#sweeping = false;
    }
  }
}
