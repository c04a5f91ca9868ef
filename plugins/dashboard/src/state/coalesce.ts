/** A function that runs `fn` soon, at most once per `intervalMs`, however often it is called. */
export interface Coalesced {
  (): void;
  cancel(): void;
}

/**
 * Coalesce calls of `fn`: the first call runs it shortly after (bursts of
 * events make one call), later ones no sooner than `intervalMs` after the
 * previous run.
 */
export function coalesce(fn: () => void, intervalMs: number, delayMs = 50): Coalesced {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  const call = (() => {
    if (timer !== undefined) return;
    timer = setTimeout(run, Math.max(delayMs, last + intervalMs - Date.now()));
  }) as Coalesced;
  call.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
