import { Registry, collectDefaultMetrics } from 'prom-client';

let registry: Registry | undefined;

/**
 * prom-client's default metrics of this process (CPU, memory, event loop
 * lag, handles, GC, Node version): one registry per process, made on the
 * first scrape, shared by every server the process runs (they are the same
 * process). They describe the server asked, unlike the queue's metrics.
 */
export function processMetricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
