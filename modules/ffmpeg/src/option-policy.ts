import { basename, extname, isAbsolute, posix } from 'node:path';
import { ValidationError, type PathGuard } from '@sisyphus/core';
import { checkOptionValue, optionField } from './build-args.js';
import type { FfmpegData, FfmpegOptions } from './ffmpeg-schema.js';
import type { ResolvedOutputMap } from './build-args.js';
import {
  DEVICE_OPTIONS,
  FILE_OPTIONS,
  FILTER_FILE_OPTIONS,
  FILTER_FORMAT_OPTIONS,
  FILTER_REFUSED_OPTIONS,
  FILTERGRAPH_OPTIONS,
  IMAGE2_EXTENSIONS,
  KV_OPTIONS,
  PROTOCOLS,
  REFUSED_FILTERS,
  REFUSED_INPUT_FORMATS,
  REFUSED_OPTIONS,
  REFUSED_OUTPUT_FORMATS,
  SEGMENT_MUXERS,
  TEXT_OPTIONS,
  type Access,
  type FileKind,
  type FileOption,
  type KvOption,
} from './ffmpeg-option-table.js';
import { FilterGraphSyntaxError, escapeToken, getToken, parseFilterArgs, parseFilterGraph, type FilterArg } from './filtergraph.js';

/** A value in the options that names a file or folder. */
export interface OptionFileRef {
  /**
   * Where it is written, unique within one review: `input_options.vstats_file`,
   * `output_maps[0].options["x265-params"].csv`,
   * `output_maps[1].options.vf[0:movie].filename`. Pass it to
   * `PathGuard.check` as the field, and use it as the key of the resolved
   * path given to {@link OptionReview.apply}.
   */
  field: string;
  /** The path as the job wrote it (a `file:` prefix removed); relative paths are relative to the worker's workdir. */
  path: string;
  /** `unknown` for values found by the safety net (an option not in the tables). */
  access: Access | 'unknown';
  kind: FileKind;
  /** Why this value is taken for a file. */
  reason: string;
  /** ffmpeg opens it as a media input with format detection: probe it like a source (see `FileOption.media`). */
  media?: boolean;
  /**
   * True: {@link OptionReview.apply} puts the resolved absolute path in its
   * place (ffmpeg runs in a scratch folder, so a relative path would mean
   * something else there). False: an absolute path found inside a value
   * whose structure is not known; it is checked and passed unchanged.
   */
  rewrite: boolean;
}

/** A value that names a URL whose protocol the worker config allows; passed unchanged. */
export interface OptionUrl {
  field: string;
  url: string;
  protocol: string;
}

/** Worker-side policy: `settings.ffmpeg.allowed_protocols`. */
export interface OptionPolicy {
  allowedProtocols?: readonly string[];
}

/** The options with every file value replaced by its resolved path. */
export interface ReviewedOptions {
  input_options: FfmpegData['input_options'];
  output_maps: ResolvedOutputMap[];
}

/** What {@link reviewFfmpegOptions} found. */
export interface OptionReview {
  /** Every file or folder the options name: check each with `PathGuard.check(ref.path, ref.field)`. */
  readonly files: readonly OptionFileRef[];
  /** Every URL of an allowed protocol (informational). */
  readonly urls: readonly OptionUrl[];
  /**
   * The input options and output maps to build the argv from, with the
   * resolved path (keyed by {@link OptionFileRef.field}) in place of every
   * reference whose `rewrite` is true. Throws if one is missing.
   */
  apply(resolved: ReadonlyMap<string, string>): ReviewedOptions;
}

type Piece = string | { ref: OptionFileRef; prefix: string; encode: (s: string) => string } | { inner: Piece[]; encode: (s: string) => string };
type Template = { kind: 'string'; pieces: Piece[] } | { kind: 'object'; entries: Record<string, Piece[] | string | number | boolean> };
type Place = 'input' | 'output';

const fail = (field: string, why: string): never => {
  throw new ValidationError(`${field}: ${why}`);
};

const dirty = (pieces: readonly Piece[]): boolean => pieces.some((p) => typeof p !== 'string' && ('ref' in p ? p.ref.rewrite : dirty(p.inner)));

function render(pieces: readonly Piece[], resolved: ReadonlyMap<string, string>): string {
  return pieces
    .map((p) => {
      if (typeof p === 'string') return p;
      if ('inner' in p) return p.encode(render(p.inner, resolved));
      if (!p.ref.rewrite) return p.encode(p.prefix + p.ref.path);
      const path = resolved.get(p.ref.field);
      if (path === undefined) throw new Error(`no resolved path for ${p.ref.field}`);
      return p.encode(p.prefix + path);
    })
    .join('');
}

const identity = (s: string) => s;

/** `concat`, `http`, `crypto+file`...: the scheme of a value that starts with a known ffmpeg protocol, else undefined. */
export function protocolOf(value: string): string | undefined {
  if (/^subfile,/i.test(value)) return 'subfile';
  // `_` too: newer ffmpeg accepts it in schemes (android_content:).
  const m = /^([A-Za-z0-9+._-]+):/.exec(value);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  return scheme.split('+').some((part) => PROTOCOLS.has(part)) ? scheme : undefined;
}

const hasDotDot = (value: string) => value.split(/[\\/]/).includes('..');

/**
 * Classify a path field (`sources[i]`, `output_file`): a plain path, or a
 * URL/pseudo-file (`-`, `pipe:`, `concat:`, `http:`, `subfile,`, any
 * `scheme:` prefix) that is refused unless every part of its scheme is in
 * `allowedProtocols`. An allowed `file:` URL is a path again (prefix
 * removed) and must still go through PathGuard.
 */
export function reviewPathField(value: string, field: string, policy: OptionPolicy = {}): { kind: 'path'; path: string } | { kind: 'url'; protocol: string } {
  const allowed = new Set((policy.allowedProtocols ?? []).map((p) => p.toLowerCase()));
  let scheme: string | undefined;
  if (value === '-') scheme = 'pipe';
  else if (/^subfile,/i.test(value)) scheme = 'subfile';
  else {
    // Only a protocol ffmpeg knows (or one the worker allows) makes a URL: "Alien: Romulus.mkv" is a file name.
    // The module hands ffmpeg absolute paths, so ffmpeg never reads a prefix of a file name as a protocol.
    const prefix = /^([A-Za-z0-9+._-]+):/.exec(value)?.[1]?.toLowerCase();
    if (prefix !== undefined && (protocolOf(value) !== undefined || prefix.split('+').every((part) => allowed.has(part)))) scheme = prefix;
  }
  if (scheme === undefined) return { kind: 'path', path: value };
  if (!scheme.split('+').every((part) => allowed.has(part))) {
    fail(field, `${JSON.stringify(value)} is a ${scheme === 'pipe' && value === '-' ? 'pipe (-)' : `"${scheme}:" URL`}, not a file; protocols must be allowed by name in the worker config (settings.ffmpeg.allowed_protocols)`);
  }
  if (scheme === 'file') return { kind: 'path', path: value.slice('file:'.length) };
  return { kind: 'url', protocol: scheme };
}

class Reviewer {
  readonly files: OptionFileRef[] = [];
  readonly urls: OptionUrl[] = [];
  readonly #allowed: Set<string>;

  constructor(policy: OptionPolicy) {
    this.#allowed = new Set((policy.allowedProtocols ?? []).map((p) => p.toLowerCase()));
  }

  #protocolAllowed(scheme: string): boolean {
    return scheme.split('+').every((part) => this.#allowed.has(part));
  }

  #ref(field: string, path: string, access: Access | 'unknown', kind: FileKind, reason: string, rewrite: boolean, encode: (s: string) => string, prefix = '', media = false): Piece {
    if (path.includes('\0')) fail(field, 'contains a NUL byte');
    const ref: OptionFileRef = { field, path, access, kind, reason, rewrite, ...(media ? { media } : {}) };
    this.files.push(ref);
    return { ref, prefix, encode };
  }

  /** A value that may be a URL: refused unless allowed; an allowed `file:` URL is a path again. */
  #url(field: string, value: string, scheme: string, access: Access | 'unknown', kind: FileKind, reason: string, encode: (s: string) => string, rewrite = true, media = false): Piece[] {
    if (!this.#protocolAllowed(scheme)) {
      fail(field, `${JSON.stringify(value)} uses the "${scheme}:" protocol, which the worker does not allow (settings.ffmpeg.allowed_protocols)`);
    }
    if (scheme === 'file') {
      const path = value.slice('file:'.length);
      return [this.#ref(field, path, access, kind, reason, rewrite, encode, 'file:', media)];
    }
    this.urls.push({ field, url: value, protocol: scheme });
    return [encode === identity ? value : encode(value)];
  }

  /** A value known to name a file. */
  file(field: string, value: string, option: FileOption, encode: (s: string) => string = identity): Piece[] {
    if (option.keywords?.includes(value)) return [encode(value)];
    if (value === '') fail(field, 'needs a value');
    if (value === '-') fail(field, `"-" is a pipe, not a file (${option.reason})`);
    const scheme = protocolOf(value);
    if (scheme) return this.#url(field, value, scheme, option.access, option.kind, option.reason, encode, true, option.media === true);
    return [this.#ref(field, value, option.access, option.kind, option.reason, true, encode, '', option.media === true)];
  }

  /** The safety net for values not in the tables. */
  net(field: string, value: string, encode: (s: string) => string = identity): Piece[] {
    const scheme = protocolOf(value);
    if (scheme) return this.#url(field, value, scheme, 'unknown', 'file', 'the value starts with a protocol', encode);
    if (isAbsolute(value) || hasDotDot(value)) {
      return [this.#ref(field, value, 'unknown', 'file', hasDotDot(value) ? 'the value contains a ".." path segment' : 'the value is an absolute path', true, encode)];
    }
    // Inside a structured value this reader does not know (`path=/x`, `a|/b`): absolute paths are checked as they are.
    let n = 0;
    for (const raw of value.split(/[=:|,;]/)) {
      const piece = raw.trim().replace(/^['"]+|['"]+$/g, '');
      if (isAbsolute(piece)) this.#ref(`${field}{${n++}}`, piece, 'unknown', 'file', `"${piece}" inside the value is an absolute path`, false, identity);
      else if (hasDotDot(piece)) fail(field, `"${piece}" inside the value is a relative path with "..", which cannot be checked there; use an absolute path`);
    }
    for (const raw of value.split(/[=|,;]/)) {
      const piece = raw.trim().replace(/^['"]+/, '');
      const inner = protocolOf(piece);
      if (inner && !this.#protocolAllowed(inner)) {
        fail(field, `"${piece}" inside the value uses the "${inner}:" protocol, which the worker does not allow (settings.ffmpeg.allowed_protocols)`);
      }
      if (inner === 'file') {
        const path = piece.slice('file:'.length);
        if (!isAbsolute(path)) fail(field, `"${piece}" inside the value is a relative file: URL, which cannot be checked there`);
        this.#ref(`${field}{${n++}}`, path, 'unknown', 'file', `"${piece}" inside the value is a file: URL`, false, identity);
      } else if (inner) this.urls.push({ field, url: piece, protocol: inner });
    }
    return [encode === identity ? value : encode(value)];
  }

  /** A device value: a name or index, a path under /dev/dri/, or a checked path. */
  device(field: string, value: string, encode: (s: string) => string = identity): Piece[] {
    if (value === '' || /^[A-Za-z0-9_.-]+$/.test(value)) {
      if (hasDotDot(value)) fail(field, `"${value}" is not a device name`);
      return [encode(value)];
    }
    if (isAbsolute(value)) {
      if (posix.normalize(value).startsWith('/dev/dri/')) return [encode(value)];
      return [this.#ref(field, value, 'readwrite', 'file', 'a device path outside /dev/dri/', false, encode)];
    }
    return fail(field, `"${value}" is neither a device name, an index nor a path under /dev/dri/ (X11 displays and other forms are refused)`);
  }

  initHwDevice(field: string, value: string): Piece[] {
    if (value === 'list') fail(field, `-init_hw_device list ${'prints information and exits instead of encoding'}`);
    const m = /^([^=:@]+)(=[^:@]*)?(?:@(.*)|:(.*))?$/.exec(value);
    if (!m) return fail(field, `"${value}" is not of the form type[=name][:device[,key=value...]] or type[=name]@source`);
    if (m[3] !== undefined) {
      if (!/^[A-Za-z0-9_.-]+$/.test(m[3])) fail(field, `"@${m[3]}" must name an initialised device`);
      return [value];
    }
    if (m[4] === undefined) return [value];
    const [device = '', ...opts] = m[4].split(',');
    const head = value.slice(0, value.length - m[4].length);
    const pieces: Piece[] = [head, ...this.device(field, device)];
    for (const [i, opt] of opts.entries()) {
      const eq = opt.indexOf('=');
      const key = eq < 0 ? opt : opt.slice(0, eq);
      const v = eq < 0 ? '' : opt.slice(eq + 1);
      pieces.push(`,${key}${eq < 0 ? '' : '='}`);
      if (key === 'child_device') pieces.push(...this.device(`${field}.child_device`, v));
      else pieces.push(...this.net(`${field}{opt${i}}`, v));
    }
    return pieces;
  }

  format(field: string, value: string, place: Place): void {
    const name = value.toLowerCase();
    const reason = (place === 'input' ? REFUSED_INPUT_FORMATS : REFUSED_OUTPUT_FORMATS).get(name);
    if (reason) fail(field, `format "${value}" is refused as ${place === 'input' ? 'an input' : 'an output'} format: ${reason}`);
  }

  /** A filter graph: filters refused, file options checked, everything else through the safety net. */
  filterGraph(field: string, graph: string, place: Place): Piece[] {
    let filters;
    try {
      filters = parseFilterGraph(graph);
    } catch (error) {
      if (error instanceof FilterGraphSyntaxError) return fail(field, `not a filter graph ffmpeg can parse: ${error.message}`);
      throw error;
    }
    const pieces: Piece[] = [];
    let at = 0;
    for (const [index, f] of filters.entries()) {
      const label = `${field}[${index}:${f.filter}]`;
      const refused = REFUSED_FILTERS.get(f.filter) ?? REFUSED_FILTERS.get(f.filter.toLowerCase());
      if (refused) fail(field, `filter ${f.filter} is refused: ${refused}`);
      if (!f.args) continue;
      const argPieces = this.filterArgs(label, f.filter, f.args, f.items, place);
      if (!dirty(argPieces)) continue;
      pieces.push(graph.slice(at, f.argsStart), { inner: argPieces, encode: escapeToken });
      at = f.argsEnd;
    }
    pieces.push(graph.slice(at));
    return pieces;
  }

  filterArgs(label: string, filter: string, args: string, items: readonly FilterArg[], place: Place): Piece[] {
    const fileOptions = FILTER_FILE_OPTIONS.get(filter) ?? [];
    const refusedOptions = FILTER_REFUSED_OPTIONS.get(filter);
    const formatOptions = FILTER_FORMAT_OPTIONS.get(filter) ?? [];
    const pieces: Piece[] = [];
    let at = 0;
    for (const item of items) {
      const name = item.key ?? `#${item.position < 0 ? '?' : item.position}`;
      const field = `${label}.${name}`;
      if (item.key?.startsWith('/')) fail(field, 'an option name starting with "/" loads its value from a file (newer ffmpeg), which cannot be checked');
      if (item.key !== undefined && refusedOptions?.has(item.key)) fail(field, `refused: ${refusedOptions.get(item.key)}`);
      const fileOption = fileOptions.find((o) => (item.key !== undefined ? o.names.includes(item.key) : o.position !== undefined && o.position === item.position));
      if (item.key === undefined && item.position < 0 && fileOptions.length) {
        fail(field, `a positional value after key=value in filter ${filter}, which reads or writes files: name the option (key=value)`);
      }
      let valuePieces: Piece[];
      if (fileOption) {
        valuePieces = this.file(`${label}.${item.key ?? fileOption.names[0]}`, item.value, fileOption, escapeToken);
      } else {
        if (item.key !== undefined && formatOptions.includes(item.key)) this.format(field, item.value, 'input');
        valuePieces = this.net(field, item.value, escapeToken);
      }
      if (dirty(valuePieces)) {
        pieces.push(args.slice(at, item.start), ...valuePieces);
        at = item.end;
      }
    }
    pieces.push(args.slice(at));
    return pieces;
  }

  /** `k=v:k=v` (string) or an object: encoder parameters and nested option dictionaries. */
  kv(field: string, option: string, kv: KvOption, value: string | Record<string, string | number | boolean>, place: Place): Template {
    const entry = (key: string, v: string, encode: (s: string) => string): Piece[] => {
      const sub = optionField(field, key);
      const refused = kv.refusedKeys.get(key);
      if (refused) fail(sub, `refused: ${refused}`);
      const fileKey = kv.fileKeys.get(key);
      if (fileKey) return this.file(sub, v, fileKey, encode);
      if (kv.nestedOptions) {
        const template = this.option(place, key, v, sub);
        return template?.kind === 'string' ? [{ inner: template.pieces, encode }] : [encode(v)];
      }
      return this.net(sub, v, encode);
    };
    if (typeof value === 'object') {
      const entries: Record<string, Piece[] | string | number | boolean> = {};
      for (const [key, v] of Object.entries(value)) {
        if (typeof v === 'string') {
          // build-args escapes object values when it joins them.
          entries[key] = entry(key, v, identity);
          continue;
        }
        const sub = optionField(field, key);
        if (kv.refusedKeys.has(key)) fail(sub, `refused: ${kv.refusedKeys.get(key)}`);
        if (kv.fileKeys.has(key)) fail(sub, `needs a path (${kv.fileKeys.get(key)!.reason})`);
        entries[key] = v;
      }
      return { kind: 'object', entries };
    }
    const pieces: Piece[] = [];
    let at = 0;
    for (const e of splitKv(value, kv, field, option)) {
      const valuePieces = entry(e.key, e.value, kv.escapes ? (s) => escapeKvValue(s, kv.pairSep) : rawKvEncoder(field, kv.pairSep));
      if (dirty(valuePieces)) {
        pieces.push(value.slice(at, e.start), ...valuePieces);
        at = e.end;
      }
    }
    pieces.push(value.slice(at));
    return { kind: 'string', pieces };
  }

  /** One option. Returns a template when its value holds rewritable file references. */
  option(place: Place, key: string, value: FfmpegOptions[string], field: string): Template | undefined {
    const base = key.split(':')[0]!;
    const refused = REFUSED_OPTIONS.get(base) ?? (base.startsWith('no') ? REFUSED_OPTIONS.get(base.slice(2)) : undefined);
    if (refused) fail(field, `-${base} is refused: ${refused}`);
    checkOptionValue(key, value, field);
    if (typeof value === 'boolean') return undefined;
    if (typeof value === 'object') {
      const kv = KV_OPTIONS.get(base) ?? { pairSep: ':', escapes: true, fileKeys: new Map(), refusedKeys: new Map() };
      if (TEXT_OPTIONS.has(base)) return undefined;
      return this.kv(field, base, kv, value, place);
    }
    const text = String(value);
    if (typeof value === 'number') return undefined;
    if (base === 'f') {
      this.format(field, text, place);
      return undefined;
    }
    if (base === 'pattern_type' && /^glob/i.test(text)) fail(field, `pattern_type ${text} expands wildcards through folders (and symlinks) that cannot be checked; use a %d pattern`);
    if (TEXT_OPTIONS.has(base)) return undefined;
    let pieces: Piece[];
    const fileOption = FILE_OPTIONS.get(base);
    const kv = KV_OPTIONS.get(base);
    if (fileOption) pieces = this.file(field, text, fileOption);
    else if (base === 'init_hw_device') pieces = this.initHwDevice(field, text);
    else if (DEVICE_OPTIONS.has(base)) pieces = this.device(field, text);
    else if (FILTERGRAPH_OPTIONS.has(base)) pieces = this.filterGraph(field, text, place);
    // ffmpeg passes apad's value straight to the filter's options (no graph-level parsing).
    else if (base === 'apad') pieces = this.filterArgs(`${field}[apad]`, 'apad', text, parseFilterArgs(text), place);
    else if (kv) return this.kv(field, base, kv, text, place);
    else pieces = this.net(field, text);
    return dirty(pieces) ? { kind: 'string', pieces } : undefined;
  }
}

/** Escape a value for av_dict_parse_string: backslash before `\`, `'`, the pair separator, `:` and whitespace. */
export function escapeKvValue(value: string, pairSep = ':'): string {
  return value.replace(/[\\':\s]/g, (c) => `\\${c}`).split(pairSep).join(pairSep === ':' ? ':' : `\\${pairSep}`);
}

/** x264opts is split with sscanf: no escapes, so a value with `:` cannot be carried. */
function rawKvEncoder(field: string, pairSep: string) {
  return (s: string) => {
    if (s.includes(pairSep) || s.includes(':')) fail(field, `the value ${JSON.stringify(s)} contains "${pairSep}", which this option cannot carry (no escapes); use x264-params`);
    return s;
  };
}

interface KvEntry {
  key: string;
  value: string;
  start: number;
  end: number;
}

/** Split `k=v:k=v` as ffmpeg does (av_dict_parse_string, or sscanf for x264opts). */
export function splitKv(value: string, kv: Pick<KvOption, 'pairSep' | 'escapes'>, field: string, option: string): KvEntry[] {
  const entries: KvEntry[] = [];
  let p = 0;
  if (!kv.escapes) {
    for (const part of value.split(kv.pairSep)) {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      if (eq >= 0) entries.push({ key, value: part.slice(eq + 1), start: p + eq + 1, end: p + part.length });
      else entries.push({ key, value: '1', start: p + part.length, end: p + part.length });
      p += part.length + 1;
    }
    return entries;
  }
  while (p < value.length) {
    const key = getToken(value, p, '=');
    if (!key.value || value[key.end] !== '=') fail(field, `${option} must be key=value pairs separated by "${kv.pairSep}" (near ${JSON.stringify(value.slice(p, p + 20))})`);
    const v = getToken(value, key.end + 1, kv.pairSep);
    entries.push({ key: key.value, value: v.value, start: key.end + 1, end: v.end });
    p = v.end;
    if (p < value.length) p++;
  }
  return entries;
}

/**
 * Review every option of an ffmpeg task for values that name files,
 * folders, URLs or protocols, and refuse what cannot be confined (see
 * docs/modules.md, "Options that name files"). Throws a ValidationError
 * naming the field. Pure: no file access. `outputMaps` are the maps with
 * their option sets merged in.
 */
export function reviewFfmpegOptions(data: Pick<FfmpegData, 'input_options'>, outputMaps: readonly ResolvedOutputMap[], policy: OptionPolicy = {}): OptionReview {
  const reviewer = new Reviewer(policy);
  const rewrites: Array<{ map: number; key: string; template: Template }> = [];
  for (const [key, value] of Object.entries(data.input_options ?? {})) {
    const template = reviewer.option('input', key, value, optionField('input_options', key));
    if (template) rewrites.push({ map: -1, key, template });
  }
  for (const [i, map] of outputMaps.entries()) {
    for (const [key, value] of Object.entries(map.options ?? {})) {
      const template = reviewer.option('output', key, value, optionField(`output_maps[${i}].options`, key));
      if (template) rewrites.push({ map: i, key, template });
    }
  }
  const files = reviewer.files;
  return {
    files,
    urls: reviewer.urls,
    apply(resolved) {
      for (const ref of files) {
        if (ref.rewrite && !resolved.has(ref.field)) throw new Error(`no resolved path for ${ref.field}`);
      }
      const input = data.input_options ? { ...data.input_options } : undefined;
      const maps = outputMaps.map((m) => (m.options ? { ...m, options: { ...m.options } } : { ...m }));
      for (const { map, key, template } of rewrites) {
        const target = (map < 0 ? input : maps[map]!.options)! as Record<string, FfmpegOptions[string]>;
        if (template.kind === 'string') target[key] = render(template.pieces, resolved);
        else {
          const object: Record<string, string | number | boolean> = {};
          for (const [k, v] of Object.entries(template.entries)) object[k] = Array.isArray(v) ? render(v, resolved) : v;
          target[key] = object;
        }
      }
      return { input_options: input as FfmpegData['input_options'], output_maps: maps };
    },
  };
}

/**
 * Check every file reference with the worker's PathGuard and return the
 * options to build the argv from (see {@link OptionReview.apply}).
 */
export async function resolveOptionFiles(review: OptionReview, guard: Pick<PathGuard, 'check'>): Promise<ReviewedOptions> {
  const resolved = new Map<string, string>();
  for (const ref of review.files) resolved.set(ref.field, await guard.check(ref.path, ref.field));
  return review.apply(resolved);
}

/** What an output writes. */
export type FfmpegOutputKind = 'null' | 'file' | 'sequence' | 'segments';

/** The muxer the output maps force with `f` (the last one given, lower case), or undefined: ffmpeg picks it by the file name. */
export function outputFormat(outputMaps: readonly ResolvedOutputMap[]): string | undefined {
  let format: string | undefined;
  for (const map of outputMaps) {
    for (const [key, value] of Object.entries(map.options ?? {})) {
      if (key.split(':')[0] === 'f' && typeof value === 'string') format = value.toLowerCase();
    }
  }
  return format;
}

/**
 * What the output of the task is: `null` (format null, or /dev/null),
 * `segments` (segment/ssegment/stream_segment/hls/dash by `f`, or a .m3u8 /
 * .mpd name), `sequence` (an image2 output whose name holds a frame number
 * such as `%d` or `%03d`), else `file`.
 */
export function outputKind(data: Pick<FfmpegData, 'output_file'>, outputMaps: readonly ResolvedOutputMap[]): FfmpegOutputKind {
  const format = outputFormat(outputMaps);
  const file = data.output_file;
  if (format === 'null' || (isAbsolute(file) && posix.normalize(file) === '/dev/null')) return 'null';
  const ext = extname(file).slice(1).toLowerCase();
  if (format !== undefined ? SEGMENT_MUXERS.has(format) : ext === 'm3u8' || ext === 'mpd') return 'segments';
  const numbered = /%0?\d*d/.test(basename(file).replace(/%%/g, ''));
  if (numbered && (format === 'image2' || (format === undefined && IMAGE2_EXTENSIONS.has(ext)))) return 'sequence';
  return 'file';
}

/**
 * ffmpeg 5.1's image2 demuxer reads an input name in `glob_sequence` mode
 * by default: `%*`, `%?`, `%[...]` and `%{a,b}` in it are expanded with
 * glob(3) (braces included) after any check of the name, so
 * `%{..%}/%{..%}/x.png` walks out of the allowed roots. Those sequences are
 * refused in every path ffmpeg opens with format detection (sources, movie,
 * amovie, subtitles); `%d`/`%03d` (a numbered sequence in one folder) and
 * `%%` stay allowed.
 */
export function refuseGlobPattern(path: string, field: string): void {
  const m = /%[*?[\]{}]/.exec(path);
  if (m) fail(field, `${JSON.stringify(path)} contains "${m[0]}", which ffmpeg's image2 reader expands as a wildcard (glob); such names are refused`);
}
