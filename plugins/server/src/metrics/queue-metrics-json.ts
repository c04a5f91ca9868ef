import type { QueueStore } from '../store/queue-store.js';
import { parseSeriesKey } from './metric-series.js';
import {
  MAX_DEPTH_PRIORITIES,
  MAX_HEARTBEAT_WORKERS,
  SCRAPED_GAUGES,
  STORED_METRICS,
  type ScrapedGauge,
  type StoredMetric,
} from './queue-metric-definitions.js';

/** One sample, as prom-client's `getMetricsAsJSON()` gives it. */
export interface MetricSample {
  value: number;
  labels: Record<string, string>;
  /** The sample's own name where it differs from the metric's (a histogram's `_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

/** A metric with its samples, as prom-client's `getMetricsAsJSON()` gives it (what `AggregatorRegistry.aggregate` takes). */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  values: MetricSample[];
}

/** Label sets a counter shows at 0 before anything was counted (so that `rate()` has a start). */
const ZERO_SERIES: Partial<Record<string, ReadonlyArray<Record<string, string>>>> = {
  [STORED_METRICS.submitted.name]: [{}],
  [STORED_METRICS.leaseExpiries.name]: [{}],
  [STORED_METRICS.finished.name]: [{ state: 'completed' }, { state: 'failed' }, { state: 'cancelled' }],
  [STORED_METRICS.requeues.name]: [{ reason: 'lease_expired' }, { reason: 'released' }],
};

/** The stored totals, by sample name. */
type Totals = Map<string, Array<{ labels: Record<string, string>; value: number }>>;

function byName(totals: Readonly<Record<string, number>>): Totals {
  const samples: Totals = new Map();
  for (const [key, value] of Object.entries(totals)) {
    const series = parseSeriesKey(key);
    if (!series || !Number.isFinite(value)) continue;
    let list = samples.get(series.name);
    if (!list) samples.set(series.name, (list = []));
    list.push({ labels: series.labels, value });
  }
  return samples;
}

/** Labels as one string, for grouping. */
const labelKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function counterJson(metric: StoredMetric, totals: Totals): MetricJson {
  const values = new Map<string, MetricSample>();
  for (const labels of ZERO_SERIES[metric.name] ?? []) values.set(labelKey(labels), { value: 0, labels: { ...labels } });
  for (const { labels, value } of totals.get(metric.name) ?? []) values.set(labelKey(labels), { value, labels });
  return { name: metric.name, help: metric.help, type: 'counter', aggregator: 'sum', values: [...values.values()] };
}

/** A histogram from its stored per-bucket counts (each observation counted in one bucket): cumulative buckets, then `_sum` and `_count`, per label set. */
function histogramJson(metric: StoredMetric, totals: Totals): MetricJson {
  const series = new Map<string, { labels: Record<string, string>; buckets: Map<string, number>; sum: number; count: number }>();
  const seriesOf = (labels: Record<string, string>) => {
    const key = labelKey(labels);
    let found = series.get(key);
    if (!found) series.set(key, (found = { labels, buckets: new Map(), sum: 0, count: 0 }));
    return found;
  };
  for (const { labels, value } of totals.get(`${metric.name}_bucket`) ?? []) {
    const { le, ...rest } = labels;
    if (le === undefined || (le !== '+Inf' && !Number.isFinite(Number(le)))) continue;
    const buckets = seriesOf(rest).buckets;
    buckets.set(le, (buckets.get(le) ?? 0) + value);
  }
  for (const { labels, value } of totals.get(`${metric.name}_sum`) ?? []) seriesOf(labels).sum = value;
  for (const { labels, value } of totals.get(`${metric.name}_count`) ?? []) seriesOf(labels).count = value;

  const values: MetricSample[] = [];
  for (const { labels, buckets, sum, count } of series.values()) {
    // Every configured bound, and any other a store holds (written with other bounds by another version).
    const bounds = [...new Set([...(metric.buckets ?? []).map(String), ...[...buckets.keys()].filter((le) => le !== '+Inf')])].sort((a, b) => Number(a) - Number(b));
    let cumulative = 0;
    for (const le of bounds) {
      cumulative += buckets.get(le) ?? 0;
      values.push({ metricName: `${metric.name}_bucket`, labels: { ...labels, le }, value: cumulative });
    }
    cumulative += buckets.get('+Inf') ?? 0;
    values.push({ metricName: `${metric.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
    values.push({ metricName: `${metric.name}_sum`, labels, value: sum });
    values.push({ metricName: `${metric.name}_count`, labels, value: count });
  }
  return { name: metric.name, help: metric.help, type: 'histogram', aggregator: 'sum', values };
}

const gauge = (metric: ScrapedGauge, values: MetricSample[]): MetricJson => ({ name: metric.name, help: metric.help, type: 'gauge', aggregator: 'sum', values });

/**
 * Every queue metric of `store` at epoch ms `now`, as prom-client's JSON:
 * the counters and histograms its metrics part keeps (none when it has
 * none), and the gauges read from it now (jobs per state, the queue per
 * priority, workers and their heartbeats). A handful of reads, all in
 * parallel; none walks the history.
 */
export async function queueMetricsJson(store: QueueStore, now: number): Promise<MetricJson[]> {
  const [totals, depth, counts, attributes, workers] = await Promise.all([
    store.metrics?.read() ?? {},
    store.metrics?.queuedByPriority(MAX_DEPTH_PRIORITIES) ?? [],
    store.counts(0),
    store.queueAttributes(),
    store.workers(now),
  ]);
  const samples = byName(totals);
  const stored = Object.values(STORED_METRICS).map((metric: StoredMetric) => (metric.type === 'histogram' ? histogramJson(metric, samples) : counterJson(metric, samples)));

  const byPriority: MetricSample[] = depth.map(({ priority, count }) => ({ labels: { priority: String(priority) }, value: count }));
  const rest = counts.queued - depth.reduce((sum, { count }) => sum + count, 0);
  if (rest > 0) byPriority.push({ labels: { priority: 'other' }, value: rest });
  const states: Array<[string, number]> = [
    ['queued', counts.queued],
    ['running', counts.running],
    ['waiting-children', counts.waiting],
    ['completed', counts.completed],
    ['failed', counts.failed],
    ['cancelled', counts.cancelled],
  ];
  const online = workers.filter((worker) => worker.live);
  const stalest = [...online].sort((a, b) => a.last_seen - b.last_seen).slice(0, MAX_HEARTBEAT_WORKERS);
  return [
    ...stored,
    gauge(SCRAPED_GAUGES.queueDepth, byPriority),
    gauge(SCRAPED_GAUGES.jobs, states.map(([state, value]) => ({ labels: { state }, value }))),
    gauge(SCRAPED_GAUGES.queueDisabled, [{ labels: {}, value: attributes.disabled ? 1 : 0 }]),
    gauge(SCRAPED_GAUGES.workersOnline, [{ labels: {}, value: online.length }]),
    gauge(SCRAPED_GAUGES.workersDisabled, [{ labels: {}, value: workers.filter((worker) => worker.attributes.disabled).length }]),
    gauge(
      SCRAPED_GAUGES.heartbeatAge,
      stalest.map((worker) => ({ labels: { worker_id: worker.worker_id }, value: Math.max(0, now - worker.last_seen) / 1000 })),
    ),
  ];
}
