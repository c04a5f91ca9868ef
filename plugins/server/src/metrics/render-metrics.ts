import { AggregatorRegistry, Registry, type PrometheusContentType } from 'prom-client';
import type { QueueStore } from '../store/queue-store.js';
import { processMetricsRegistry } from './process-metrics.js';
import { queueMetricsJson } from './queue-metrics-json.js';

/** What `GET /metrics` answers. */
export interface RenderedMetrics {
  /** The Prometheus text format's content type (`text/plain; version=0.0.4; charset=utf-8`). */
  contentType: string;
  text: string;
}

/**
 * The queue's metrics ({@link queueMetricsJson}) and this process's
 * (prom-client's default metrics) in the Prometheus text format, written
 * by prom-client: the queue's values are held by the store, not by
 * prom-client's metric objects, so they go in as prom-client's JSON through
 * `AggregatorRegistry.aggregate` (its way in for metrics gathered elsewhere),
 * merged with the process registry.
 */
export async function renderMetrics(store: QueueStore, now: number): Promise<RenderedMetrics> {
  const queue = AggregatorRegistry.aggregate<PrometheusContentType>([await queueMetricsJson(store, now)]);
  const registry = Registry.merge([queue, processMetricsRegistry()]);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
