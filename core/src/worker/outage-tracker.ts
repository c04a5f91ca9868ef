import { setMaxListeners } from 'node:events';

/** What {@link OutageTracker} reports through. */
export interface OutageReporter {
  /**
   * Called when an outage begins, and again when its kind changes: `refused`
   * when the server answers but refuses the worker's token (HTTP 401/403),
   * which no waiting mends.
   */
  down(error: string, context: string, refused: boolean): void;
  /** Called once when it ends (before the outage's `failed` signal fires). */
  up(downMs: number, failures: number): void;
}

/** Does `error` say the server refused the credentials (HTTP 401 or 403)? */
function refusedAuth(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return status === 401 || status === 403;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A signal that fires at the end of one outage; every slot's sleeps may listen. */
function outageEnd(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // two waits per slot (a report, a poll): no leak warning past 10
  return controller;
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
  #refused = false;
  #failures = 0;
  #end = outageEnd();

  constructor(
    private readonly reporter: OutageReporter,
    private readonly now: () => number = Date.now,
  ) {}

  /** Is an outage going on? */
  get down(): boolean {
    return this.#since !== undefined;
  }

  /**
   * A call failed; `context` says which (e.g. `reporting job X`). Returns a
   * signal that fires when this outage ends (the first call that goes
   * through): a retry waiting on its backoff listens to it to go at once
   * when the server is reachable again. It may have fired already by the
   * time the caller waits on it.
   */
  failed(error: unknown, context: string): AbortSignal {
    this.#failures += 1;
    const refused = refusedAuth(error);
    // Reported once per outage, and again when the server that was away answers with a refusal (or back).
    if (this.#since === undefined || refused !== this.#refused) {
      this.#since ??= this.now();
      this.#refused = refused;
      this.reporter.down(describe(error), context, refused);
    }
    return this.#end.signal;
  }

  /** A call went through. */
  succeeded(): void {
    if (this.#since === undefined) return;
    const downMs = this.now() - this.#since;
    const failures = this.#failures;
    const end = this.#end;
    this.#since = undefined;
    this.#refused = false;
    this.#failures = 0;
    this.#end = outageEnd(); // the next outage gets a signal of its own
    try {
      this.reporter.up(downMs, failures);
    } finally {
      end.abort();
    }
  }
}
