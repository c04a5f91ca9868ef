import { ValidationError } from '@sisyphus/core';
import type { FfmpegData, FfmpegOptions, OutputMap, SourceMap } from './ffmpeg-schema.js';
import { FLAG_OPTIONS, KV_OPTIONS, VERSION_DEPENDENT_BOOLS } from './ffmpeg-option-table.js';

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

/** `base.key`, or `base["x265-params"]` for a key that is not a plain identifier. */
export function optionField(base: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Does ffmpeg read `-NAME` without a value? (its OPT_BOOL options, `-noNAME` of those, and `vstats`). */
export function isFlagOption(name: string): boolean {
  const base = name.split(':')[0]!;
  if (FLAG_OPTIONS.has(base)) return true;
  const negated = base.startsWith('no') ? base.slice(2) : undefined;
  return negated !== undefined && (FLAG_OPTIONS.has(negated) || VERSION_DEPENDENT_BOOLS.has(negated));
}

/**
 * The value rules every option follows: `true` stands for a bare flag and
 * only flags take it; flags take nothing but true/false (a value after a
 * flag would be read as an extra output file); an empty string is not a
 * value. Throws a ValidationError naming `field`.
 */
export function checkOptionValue(key: string, value: FfmpegOptions[string], field: string): void {
  const base = key.split(':')[0]!;
  const versionDependent = VERSION_DEPENDENT_BOOLS.get(base);
  if (versionDependent && value !== false) throw new ValidationError(`${field}: ${base} is ${versionDependent}`);
  if (isFlagOption(base)) {
    if (typeof value !== 'boolean') {
      throw new ValidationError(`${field} is a flag: give true or false, not ${JSON.stringify(value)} (ffmpeg would read a value after it as an extra output file)`);
    }
    return;
  }
  if (value === true) throw new ValidationError(`${field} needs a value (true is only for flags such as shortest)`);
  if (value === '') throw new ValidationError(`${field} needs a value (an empty string is not a flag)`);
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (v === '') throw new ValidationError(`${optionField(field, k)} needs a value (an empty string is not a flag)`);
    }
  }
}

/** ffmpeg's metadata specifiers: `g`, `s[:stream_spec]`, `c:N`, `p:N`. */
const METADATA_SPEC = /^(g|s(:.+)?|c:\d+|p:\d+)$/;

const kvText = (v: string | number | boolean) => (v === true ? '1' : v === false ? '0' : String(v));

/** Join an object value as `k=v:k=v`, escaping values the way av_dict_parse_string reads them (x264opts: no escapes). */
function joinKv(key: string, value: Record<string, string | number | boolean>, field: string): string {
  const kv = KV_OPTIONS.get(key);
  const sep = kv?.pairSep ?? ':';
  return Object.entries(value)
    .map(([k, v]) => {
      const text = kvText(v);
      if (kv && !kv.escapes) {
        if (text.includes(sep) || text.includes(':')) throw new ValidationError(`${optionField(field, k)}: ${JSON.stringify(text)} contains "${sep}", which ${key} cannot carry (no escapes)`);
        return `${k}=${text}`;
      }
      return `${k}=${text.replace(/[\\':\s]/g, (c) => `\\${c}`).split(sep).join(sep === ':' ? ':' : `\\${sep}`)}`;
    })
    .join(sep);
}

/**
 * One option as argv: `-KEY[SUFFIX] VALUE`, a bare `-KEY` for `true` (flags
 * only), nothing for `false`. An object becomes `k=v:k=v` (x265-params), or
 * for `metadata` one `-metadata... key=value` pair per entry. A key may
 * carry its own specifier (`metadata:g`, `codec:v:0`) only when `suffix` is
 * empty; `metadata` in a map with a stream suffix becomes
 * `-metadata:s:SPEC` (ffmpeg's metadata specifiers are `g`, `s[:spec]`,
 * `c:N`, `p:N`). `field` names the option in errors.
 */
export function optionArgs(key: string, suffix: string, value: FfmpegOptions[string], field = key): string[] {
  checkOptionValue(key, value, field);
  if (value === false) return [];
  const colon = key.indexOf(':');
  const base = colon < 0 ? key : key.slice(0, colon);
  const ownSpec = colon < 0 ? '' : key.slice(colon + 1);
  if (ownSpec && suffix) {
    throw new ValidationError(`${field}: the key carries its own specifier (:${ownSpec}) but its map already addresses streams ${suffix}; use one or the other`);
  }
  if (base === 'metadata') {
    if (ownSpec && !METADATA_SPEC.test(ownSpec)) throw new ValidationError(`${field}: metadata specifier ${JSON.stringify(ownSpec)} is not g, s[:stream], c:N or p:N`);
    const flag = `-metadata${ownSpec ? `:${ownSpec}` : suffix ? `:s${suffix}` : ''}`;
    if (typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [flag, `${k}=${kvText(v)}`]);
    return [flag, String(value)];
  }
  const flag = `-${key}${suffix}`;
  if (value === true) return [flag];
  if (typeof value === 'object') return [flag, joinKv(base, value, field)];
  return [flag, String(value)];
}

/** An output map whose option set has already been merged in. */
export type ResolvedOutputMap = Omit<OutputMap, 'option_set'>;

/**
 * The ffmpeg argv (without the program and without {@link PROGRESS_ARGS})
 * for `data`: `-y` when overwriting, input options, the inputs, one `-map`
 * per source map, per-stream output options, the output file last.
 * Build it from the options returned by `OptionReview.apply` (file values
 * replaced by their resolved paths), not from the raw task data.
 */
export function buildFfmpegArgs(data: FfmpegData, outputMaps: readonly ResolvedOutputMap[], outputFile = data.output_file): string[] {
  const args: string[] = [data.overwrite ? '-y' : '-n'];
  for (const [key, value] of Object.entries(data.input_options ?? {})) args.push(...optionArgs(key, '', value, optionField('input_options', key)));
  for (const source of data.sources) args.push('-i', source);
  for (const map of data.source_maps) args.push('-map', mapSpec(map));
  for (const [i, map] of outputMaps.entries()) {
    const suffix = streamSuffix(map);
    for (const [key, value] of Object.entries(map.options ?? {})) args.push(...optionArgs(key, suffix, value, optionField(`output_maps[${i}].options`, key)));
  }
  args.push(outputFile);
  return args;
}
