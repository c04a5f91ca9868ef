import { ago } from '../format.js';

/**
 * How long ago `at` was ("12 s ago"), `at` itself in the tooltip; "—"
 * without it. `at`: an ISO time; `now`: milliseconds since the epoch, on
 * the server's clock (`serverNow()`).
 */
export function TimeAgo({ at, now }: { at: string | undefined; now: number }) {
  return at ? <span title={at}>{ago(now - Date.parse(at))}</span> : <>—</>;
}
