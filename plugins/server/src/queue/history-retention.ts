import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { PurgeRule, QueueStore } from '../store/queue-store.js';

/** The final states retention applies to. */
export const FINAL_STATES = ['completed', 'failed', 'cancelled'] as const;
/** A final state. */
export type FinalState = (typeof FINAL_STATES)[number];

/** How long finished jobs of one state are kept: by age, by count, or both (whichever deletes more). */
export interface RetentionRule {
  /** Delete jobs that finished more than this many days ago. */
  maxAgeDays?: number;
  /** Keep at most this many of the newest. */
  maxCount?: number;
}

/** Retention per final state; a state without a rule is kept forever. */
export type RetentionSettings = Partial<Record<FinalState, RetentionRule>>;

/** Settings of {@link HistoryRetention}. */
export interface HistoryRetentionOptions {
  /** How often to apply the rules (ms). Default one minute. */
  intervalMs?: number;
  /** Jobs deleted per store call; the event loop runs between calls. Default 500. */
  batch?: number;
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes finished jobs that their state's {@link RetentionRule} no longer
 * keeps, in the background: small batches (one short store call each,
 * other requests run between them), at start and every `intervalMs`,
 * never two passes at once. Queued and running jobs are never touched.
 */
export class HistoryRetention {
  readonly #store: QueueStore;
  readonly #rules: Array<[FinalState, RetentionRule]>;
  readonly #options: HistoryRetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #first: NodeJS.Immediate | undefined;
  #stopped = false;
  #pass: Promise<number> | undefined;

  constructor(store: QueueStore, settings: RetentionSettings, options: HistoryRetentionOptions = {}) {
    this.#store = store;
    this.#options = options;
    this.#rules = FINAL_STATES.flatMap((state): Array<[FinalState, RetentionRule]> => {
      const rule = settings[state];
      return rule && (rule.maxAgeDays !== undefined || rule.maxCount !== undefined) ? [[state, rule]] : [];
    });
  }

  /** Does any state have a rule? */
  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** Apply the rules now and every `intervalMs` (nothing to do without rules). */
  start(): void {
    if (!this.active || this.#timer) return;
    this.#timer = setInterval(() => void this.run(), this.#options.intervalMs ?? 60_000);
    this.#timer.unref();
    this.#first = setImmediate(() => void this.run());
  }

  /** Stop, and wait for a pass in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearImmediate(this.#first);
    this.#timer = undefined;
    await this.#pass;
  }

  /** One pass over every rule (a pass already running is joined); resolves to how many jobs were deleted. */
  run(): Promise<number> {
    if (this.#stopped) return Promise.resolve(0);
    this.#pass ??= this.#run().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  async #run(): Promise<number> {
    const batch = this.#options.batch ?? 500;
    const now = (this.#options.now ?? Date.now)();
    let total = 0;
    // One state's failure does not keep the others from being applied.
    for (const [state, { maxAgeDays, maxCount }] of this.#rules) {
      try {
        const rule: PurgeRule = {
          ...(maxAgeDays !== undefined ? { before: now - maxAgeDays * DAY_MS } : {}),
          ...(maxCount !== undefined ? { keep: maxCount } : {}),
        };
        let removed = 0;
        for (;;) {
          const n = await this.#store.purge(state, rule, batch);
          removed += n;
          if (n < batch || this.#stopped) break;
          await yieldToEventLoop();
        }
        if (removed) this.#options.log?.('info', `retention: deleted ${removed} ${state} job${removed === 1 ? '' : 's'}`);
        total += removed;
      } catch (error) {
        if (this.#stopped) break;
        this.#options.log?.('warn', `retention of ${state} jobs failed (tried again in the next pass): ${(error as Error).message}`);
      }
    }
    return total;
  }
}
