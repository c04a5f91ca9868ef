import type { TransportCapabilities } from '@sisyphus/core/transport';

/**
 * The features a server announces in `GET /status/config`:
 * `{"features": {"long_poll": true, "leases": true}}` on our server,
 * nothing on the original (so: plain polling, no leases).
 */
export function featuresFromConfig(body: unknown): TransportCapabilities {
  const features = (body as { features?: Record<string, unknown> } | null | undefined)?.features;
  if (typeof features !== 'object' || features === null) return { longPoll: false, leases: false, pollChecksDisabled: false, completeFetchesNext: false, children: false };
  return {
    longPoll: features.long_poll === true,
    leases: features.leases === true,
    pollChecksDisabled: features.poll_checks_disabled === true,
    completeFetchesNext: features.complete_next === true,
    children: features.children === true,
  };
}
