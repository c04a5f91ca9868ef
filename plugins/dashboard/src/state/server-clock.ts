/**
 * The server's clock as seen from here: workers are offline when their last
 * heartbeat (a server time) is older than the expiry, and this browser's
 * clock may differ from the server's. Estimated from the `Date` header of
 * API answers (1 s resolution) and refined by the `at` of live events.
 */
let offsetMs = 0; // local minus server
let fromEvents = false;

/** A `Date` header of an answer just received. */
export function noteDateHeader(header: string | null): void {
  if (fromEvents || !header) return;
  const server = Date.parse(header);
  // The header is truncated to the second: the server's time was up to 1 s later.
  if (Number.isFinite(server)) offsetMs = Date.now() - (server + 500);
}

/** The `at` of an event just received (the server's time when it happened, in milliseconds). */
export function noteEventTime(at: string | undefined): void {
  const server = at ? Date.parse(at) : NaN;
  if (!Number.isFinite(server)) return;
  // Delivery only adds delay: the smallest difference seen is the closest to the clocks' offset.
  const offset = Date.now() - server;
  if (fromEvents) offsetMs = Math.min(offsetMs, offset);
  else if (offset - offsetMs < 2000) {
    // (A first event much older than the header's estimate is a replayed one: it says nothing about the clock.)
    offsetMs = offset;
    fromEvents = true;
  }
}

/** The server's current time, in ms since the epoch. */
export function serverNow(): number {
  return Date.now() - offsetMs;
}
