import type { FfmpegData, FfmpegOptions, OutputMap, SourceMap } from './ffmpeg-schema.js';

/**
 * Global flags the module always adds in front: no banner, no stdin, only
 * warnings and errors on stderr (so its tail explains a failure), progress
 * as key=value lines on stdout.
 */
export const PROGRESS_ARGS: readonly string[] = ['-hide_banner', '-nostdin', '-loglevel', 'level+warning', '-nostats', '-progress', 'pipe:1'];

/**
 * The most telling stderr line: the first that reports an error (the root
 * cause; later ones like "Error initializing output stream" follow from
 * it), else the last line.
 */
export function stderrSummary(lines: readonly string[]): string | undefined {
  const useful = lines.map((l) => l.trim()).filter((l) => l && l !== 'Conversion failed!');
  return useful.find((l) => /\[(error|fatal)\]|error/i.test(l)) ?? useful.at(-1) ?? lines.at(-1)?.trim();
}

/** `0:a:2?` */
export function mapSpec(map: SourceMap): string {
  let spec = String(map.source);
  if (map.specifier !== undefined) spec += `:${map.specifier}`;
  if (map.stream !== undefined) spec += `:${map.stream}`;
  return map.optional ? `${spec}?` : spec;
}

/** `:v:0`, `:1`, or `` for an output map. */
export function streamSuffix(map: Pick<OutputMap, 'specifier' | 'stream'>): string {
  return `${map.specifier !== undefined ? `:${map.specifier}` : ''}${map.stream !== undefined ? `:${map.stream}` : ''}`;
}

/** One option as argv: `-KEY VALUE`, a bare `-KEY` for `true`, nothing for `false`; objects become `k=v:k=v`. */
export function optionArgs(key: string, suffix: string, value: FfmpegOptions[string]): string[] {
  if (value === false) return [];
  if (value === true) return [`-${key}${suffix}`];
  if (typeof value === 'object') {
    return [`-${key}${suffix}`, Object.entries(value).map(([k, v]) => `${k}=${v === true ? 1 : v === false ? 0 : v}`).join(':')];
  }
  return [`-${key}${suffix}`, String(value)];
}

/** An output map whose option set has already been merged in. */
export type ResolvedOutputMap = Omit<OutputMap, 'option_set'>;

/**
 * The ffmpeg argv (without the program and without {@link PROGRESS_ARGS})
 * for `data`: `-y` when overwriting, input options, the inputs, one `-map`
 * per source map, per-stream output options, the output file last.
 */
export function buildFfmpegArgs(data: FfmpegData, outputMaps: readonly ResolvedOutputMap[], outputFile = data.output_file): string[] {
  const args: string[] = [data.overwrite ? '-y' : '-n'];
  for (const [key, value] of Object.entries(data.input_options ?? {})) args.push(...optionArgs(key, '', value));
  for (const source of data.sources) args.push('-i', source);
  for (const map of data.source_maps) args.push('-map', mapSpec(map));
  for (const map of outputMaps) {
    const suffix = streamSuffix(map);
    for (const [key, value] of Object.entries(map.options ?? {})) args.push(...optionArgs(key, suffix, value));
  }
  args.push(outputFile);
  return args;
}
