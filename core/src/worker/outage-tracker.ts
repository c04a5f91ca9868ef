/** What {@link OutageTracker} reports through. */
export interface OutageReporter {
  /** Called once when an outage begins. */
  down(error: string, context: string): void;
  /** Called once when it ends. */
  up(downMs: number, failures: number): void;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Tells "the server is unreachable" apart from "still unreachable": every
 * failed call is counted, but only the first failure of an outage and the
 * first success after it are reported. One tracker serves a whole worker
 * (every slot, heartbeats, polls and completions), so an outage is logged
 * once, not once per attempt or per slot.
 */
export class OutageTracker {
  #since: number | undefined;
  #failures = 0;

  constructor(
    private readonly reporter: OutageReporter,
    private readonly now: () => number = Date.now,
  ) {}

  /** Is an outage going on? */
  get down(): boolean {
    return this.#since !== undefined;
  }

  /** A call failed; `context` says which (e.g. `reporting job X`). */
  failed(error: unknown, context: string): void {
    this.#failures += 1;
    if (this.#since !== undefined) return;
    this.#since = this.now();
    this.reporter.down(describe(error), context);
  }

  /** A call went through. */
  succeeded(): void {
    if (this.#since === undefined) return;
    const downMs = this.now() - this.#since;
    const failures = this.#failures;
    this.#since = undefined;
    this.#failures = 0;
    this.reporter.up(downMs, failures);
  }
}
