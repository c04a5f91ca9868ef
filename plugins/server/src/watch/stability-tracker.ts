/** What the tracker last saw of a file. */
export interface Observation {
  size: number;
  mtimeMs: number;
  /** Epoch ms (the tracker's clock) since when size and mtime have been as they are. */
  since: number;
  /** This version was judged (submitted or skipped); it waits for nothing. */
  done: boolean;
}

/** Whether a file counts yet, and if not, why. */
export type Stability = { stable: true } | { stable: false; skip: 'unstable' | 'too-new'; reason: string; /** Epoch ms from when it may count. */ at: number };

/** Seconds, for messages: at most one decimal. */
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * When a file counts: its size and modification time have stayed the same
 * for `stableMs` as seen by this tracker (a copy in progress keeps changing
 * them), and its modification time is at least `minAgeMs` old. Keeps one
 * observation per file of one rule, and the set of files whose current
 * version has not been judged yet. Times are the caller's (`now`), so tests
 * need not wait.
 */
export class StabilityTracker {
  readonly #seen = new Map<string, Observation>();
  /** Paths whose current version waits to be judged. */
  readonly #open = new Set<string>();

  constructor(
    private readonly stableMs: number,
    private readonly minAgeMs: number,
  ) {}

  /**
   * Record what a look at `path` found. A new size or time (or a first look)
   * starts the wait again and reopens the file; the same as before changes nothing.
   */
  observe(path: string, size: number, mtimeMs: number, now: number): Observation {
    const last = this.#seen.get(path);
    if (last && last.size === size && last.mtimeMs === mtimeMs) return last;
    const observation: Observation = { size, mtimeMs, since: now, done: false };
    this.#seen.set(path, observation);
    this.#open.add(path);
    return observation;
  }

  /** Is the observation of `path` stable at `now`? */
  stability(observation: Observation, now: number): Stability {
    const unchangedFor = now - observation.since;
    if (unchangedFor < this.stableMs) {
      const what = unchangedFor <= 0 ? 'first seen (or changed) just now' : `unchanged for ${seconds(unchangedFor)}`;
      return { stable: false, skip: 'unstable', reason: `not stable yet: ${what}; needs ${seconds(this.stableMs)} without a change of size or time`, at: observation.since + this.stableMs };
    }
    const age = now - observation.mtimeMs;
    // (Without a minimum age, a time in the future, a clock ahead on a share, is no reason to wait.)
    if (this.minAgeMs > 0 && age < this.minAgeMs) {
      return { stable: false, skip: 'too-new', reason: `too new: modified ${seconds(Math.max(0, age))} ago; min_age_seconds is ${seconds(this.minAgeMs)}`, at: observation.mtimeMs + this.minAgeMs };
    }
    return { stable: true };
  }

  /** The observation of `path`, if any. */
  get(path: string): Observation | undefined {
    return this.#seen.get(path);
  }

  /** The current version of `path` was judged: it waits no more (until it changes or is reopened). */
  settle(path: string): void {
    const observation = this.#seen.get(path);
    if (observation) observation.done = true;
    this.#open.delete(path);
  }

  /** Judge `path` again at the next look although it did not change (e.g. what blocked it went away). */
  reopen(path: string): void {
    const observation = this.#seen.get(path);
    if (!observation) return;
    observation.done = false;
    this.#open.add(path);
  }

  /** The file is gone. */
  forget(path: string): void {
    this.#seen.delete(path);
    this.#open.delete(path);
  }

  /** Paths waiting to be judged whose wait is over at `now` (to be looked at again before they are judged). */
  due(now: number): string[] {
    const out: string[] = [];
    for (const path of this.#open) {
      const observation = this.#seen.get(path)!;
      if (this.stability(observation, now).stable) out.push(path);
    }
    return out;
  }

  /** How many files are tracked, and how many wait. */
  get size(): { seen: number; waiting: number } {
    return { seen: this.#seen.size, waiting: this.#open.size };
  }
}
