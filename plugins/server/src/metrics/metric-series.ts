/** Label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

/**
 * The key under which a store keeps one series' total
 * (`QueueMetricsStore`): the sample's name (`..._total`, `..._bucket`,
 * `..._sum`, `..._count`) followed by its labels as JSON, sorted by name,
 * e.g. `sisyphus_job_failures_total{"code":"SIS_RUN","module":"ffmpeg"}`.
 * One spelling per series, whichever process records it.
 */
export function seriesKey(name: string, labels: Labels = {}): string {
  const sorted: Record<string, string> = {};
  for (const label of Object.keys(labels).sort()) sorted[label] = labels[label]!;
  return `${name}${JSON.stringify(sorted)}`;
}

/** The name and labels of a {@link seriesKey}; undefined for a key this code did not make (say, of a newer version). */
export function parseSeriesKey(key: string): { name: string; labels: Record<string, string> } | undefined {
  const brace = key.indexOf('{');
  if (brace <= 0) return undefined;
  try {
    const labels: unknown = JSON.parse(key.slice(brace));
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return undefined;
    if (!Object.values(labels).every((value) => typeof value === 'string')) return undefined;
    return { name: key.slice(0, brace), labels: labels as Record<string, string> };
  } catch {
    return undefined;
  }
}
