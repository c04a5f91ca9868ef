import type { FfmpegData, FfmpegOptions, OutputMap, SourceMap } from './ffmpeg-schema.js';

/** Global flags the module always adds in front: quiet banner, no stdin, progress as key=value on stdout. */
export const PROGRESS_ARGS: readonly string[] = ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1'];

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
