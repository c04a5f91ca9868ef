import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RunError, ValidationError } from '@sisyphus/core';
import type { MkvOptions, MkvmergeData } from './mkvmerge-schema.js';
import {
  MKVMERGE_OPTION_SPELLINGS,
  findMkvOption,
  findMkvShortOption,
  type MkvOptionScope,
  type MkvOptionSpec,
} from './mkvmerge-option-table.js';

/** A file or folder that an option of the job makes mkvmerge open. */
export interface MkvFileReference {
  /**
   * Where it is written: `options.chapters`, `tracks[1].options.tags`,
   * `options["segment-uid"][1]` (the 2nd comma-separated part). Also the key
   * of its resolved path in the map given to `buildMkvmergeArgs`.
   */
  field: string;
  /** The path as the job wrote it (without `TID:` or `=`); relative paths are relative to the worker's workdir. */
  value: string;
  access: 'read' | 'write';
  kind: 'file' | 'folder';
  /** The option, by its long name. */
  option: string;
  /**
   * The file is XML (chapters, tags, segment info) in which mkvmerge also
   * reads files named `@NAME`: call {@link checkEmbeddedFiles} on it once
   * it exists, before mkvmerge runs.
   */
  xml: boolean;
}

/** What {@link reviewMkvmergeOptions} found. */
export interface MkvOptionReview {
  /** Every file the options name, to be checked like path fields. */
  files: MkvFileReference[];
}

/** A piece of an argument: literal text, or the resolved path of the file reference `field`. */
export type ArgPiece = string | { file: string };

/** One option as it goes to mkvmerge: `flag` and, when it takes one, its argument. */
export interface PlannedOption {
  field: string;
  flag: string;
  arg?: ArgPiece[];
}

/** Every option of the job, checked, grouped by where it goes on the command line. */
export interface PlannedOptions {
  global: PlannedOption[];
  sources: PlannedOption[][];
  tracks: PlannedOption[][];
  files: MkvFileReference[];
}

const SCOPE_WORDS: Record<MkvOptionScope, string> = {
  global: 'a global option (options)',
  source: 'a source-file option (sources[].options)',
  track: 'a track option (tracks[].options)',
};
const POSITION: Record<MkvOptionScope, string> = { global: '', source: ' for a source file', track: ' for a track' };

/** `options.title`, `sources[0].options["no-chapters"]`: JavaScript notation. */
export function optionField(prefix: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(key)}]`;
}

function fail(message: string): never {
  throw new ValidationError(message);
}

function whereAllowed(spec: MkvOptionSpec): string {
  const spots = spec.scopes.map((s) => SCOPE_WORDS[s]);
  return spots.length > 1 ? `${spots.slice(0, -1).join(', ')} or ${spots.at(-1)}` : spots[0]!;
}

/** The spec for `key` in `scope`, or a ValidationError saying why not. */
function specFor(key: string, scope: MkvOptionScope, field: string): MkvOptionSpec {
  const spec = findMkvOption(key);
  if (!spec) {
    const short = key.length === 1 ? findMkvShortOption(key) : undefined;
    if (short?.refused) fail(`${field} is not allowed: ${short.refused}`);
    if (short) fail(`${field}: write mkvmerge's long option name (${short.name}), not -${key}`);
    fail(`${field} is not an mkvmerge option${POSITION[scope]}`);
  }
  if (spec.refused) fail(`${field} is not allowed: ${spec.refused}`);
  if (!spec.scopes.includes(scope)) fail(`${field} is not an mkvmerge option${POSITION[scope]}: --${spec.name} is ${whereAllowed(spec)}`);
  return spec;
}

/** A value as text; a NUL cannot pass through an argument. */
function text(value: string | number, field: string): string {
  const s = String(value);
  if (s.includes('\0')) fail(`${field} contains a NUL character`);
  return s;
}

/**
 * mkvmerge scans all arguments for some options (`--list-types`, `-J`,
 * `--redirect-output`, `--webm`...) before it pairs options with values, so
 * an argument equal to an option's spelling is taken as that option.
 */
function checkArgument(option: PlannedOption): PlannedOption {
  if (option.arg?.every((piece) => typeof piece === 'string')) {
    const arg = option.arg.join('');
    if (MKVMERGE_OPTION_SPELLINGS.has(arg)) fail(`${option.field}: the value ${JSON.stringify(arg)} is an mkvmerge option name, and mkvmerge would read it as one`);
  }
  return option;
}

function needsValue(field: string, hint = ''): never {
  fail(`${field} needs a value${hint}`);
}

const TID = /^\s*(-?\d+)\s*$/;
const TID_AND_REST = /^\s*(-?\d+)\s*:([\s\S]*)$/;

interface Context {
  files: MkvFileReference[];
}

/** The argument pieces for a file-naming value `raw` (already without `TID:`). */
function filePieces(spec: MkvOptionSpec, raw: string, field: string, ctx: Context): ArgPiece[] {
  const role = spec.file!;
  const add = (value: string, refField: string): ArgPiece => {
    if (value === '') fail(`${refField} needs a file name`);
    if (value !== value.trim()) fail(`${refField}: the file name ${JSON.stringify(value)} starts or ends with white space`);
    if (value.includes('\0')) fail(`${refField} contains a NUL character`);
    ctx.files.push({ field: refField, value, access: role.access, kind: role.kind, option: spec.name, xml: role.xml === true });
    return { file: refField };
  };
  if (role.form === 'path') {
    // With libdvdread mkvmerge reads `PATH:N` as title N of the DVD at PATH: a different file from the one checked.
    if (spec.name === 'chapters' && /:\d+$/.test(raw)) fail(`${field}: a DVD title suffix (${/:\d+$/.exec(raw)![0]}) is not supported`);
    return [add(raw, field)];
  }
  // `=FILE` reads the segment UID from a Matroska file; anything else is a UID.
  const part = (p: string, refField: string): ArgPiece[] => (p.length >= 2 && p.startsWith('=') ? ['=', add(p.slice(1), refField)] : [p]);
  if (role.form === 'uid-or-file') return part(raw, field);
  const parts = raw.split(',');
  return parts.flatMap((p, i) => [...(i ? [','] : []), ...part(p, `${field}[${i}]`)]);
}

/** Plan one option of a global or source options object. */
function planFileLevel(spec: MkvOptionSpec, key: string, given: string | number | true | null, field: string, ctx: Context): PlannedOption {
  const flag = `--${key}`;
  // null (an empty YAML value) and true ask for a bare flag; only options without a value may be one.
  const value = given === null || given === true ? undefined : given;
  const bare = value === undefined;
  switch (spec.value) {
    case 'none':
      if (!bare) fail(`${field} takes no value; write null or true (false leaves it out)`);
      return { field, flag };
    case 'value': {
      if (bare) needsValue(field);
      const s = text(value, field);
      if (s.trim() === '') needsValue(field);
      return { field, flag, arg: spec.file ? filePieces(spec, s, field, ctx) : [s] };
    }
    case 'tid':
      if (bare || !TID.test(String(value))) fail(`${field} needs a track id (e.g. 2): --${spec.name} TID`);
      return { field, flag, arg: [TID.exec(String(value))![1]!] };
    case 'tid-bool': {
      if (bare) fail(`${field} needs a track id (e.g. 2 or 2:0): --${spec.name} TID[:bool]`);
      const s = text(value, field);
      const m = TID_AND_REST.exec(s);
      if (!TID.test(s) && !(m && m[2]!.trim() !== '')) fail(`${field} needs a track id (e.g. 2 or 2:0): --${spec.name} TID[:bool]`);
      return { field, flag, arg: [s] };
    }
    case 'tid-value': {
      if (bare) needsValue(field, ` (TID:VALUE): --${spec.name}`);
      const s = text(value, field);
      const m = TID_AND_REST.exec(s);
      if (!m) fail(`${field} needs a track id and a value (TID:VALUE, e.g. 1:${spec.file ? 'FILE' : 'VALUE'})`);
      if (m[2]!.trim() === '') needsValue(field, ` after the track id (TID:VALUE)`);
      return { field, flag, arg: spec.file ? [`${m[1]}:`, ...filePieces(spec, m[2]!, field, ctx)] : [s] };
    }
  }
}

/** Plan one option of a track's options: the module writes the track id. */
function planTrackLevel(spec: MkvOptionSpec, key: string, given: string | number | true | null, field: string, tid: number, ctx: Context): PlannedOption {
  const flag = `--${key}`;
  const value = given === null || given === true ? undefined : given;
  const bare = value === undefined;
  switch (spec.value) {
    case 'tid':
      if (!bare) fail(`${field} takes no value (the module adds the track id); write null or true`);
      return { field, flag, arg: [String(tid)] };
    case 'tid-bool': {
      if (bare) return { field, flag, arg: [String(tid)] };
      const s = text(value, field);
      if (s.trim() === '') needsValue(field, ' (or null for the bare flag)');
      return { field, flag, arg: [`${tid}:${s}`] };
    }
    case 'tid-value': {
      if (bare) needsValue(field);
      const s = text(value, field);
      if (s.trim() === '') needsValue(field);
      return { field, flag, arg: spec.file ? [`${tid}:`, ...filePieces(spec, s, field, ctx)] : [`${tid}:${s}`] };
    }
    default:
      // The table gives track scope only to TID options.
      throw new Error(`mkvmerge option table: --${spec.name} has track scope but no TID form`);
  }
}

const ATTACHMENT_PROPS = new Set(['attachment-description', 'attachment-mime-type', 'attachment-name']);
const ATTACH = new Set(['attach-file', 'attach-file-once']);
/** mkvmerge requires these before --chapters / --generate-chapters (it exits 2 otherwise). */
const BEFORE_CHAPTERS = new Set(['chapter-language', 'chapter-charset', 'cue-chapter-name-format']);

/** Order rules inside the global options object (JSON and YAML keep key order). */
function checkOrder(kept: Array<{ spec: MkvOptionSpec; field: string }>): void {
  for (const [i, { spec, field }] of kept.entries()) {
    if (ATTACHMENT_PROPS.has(spec.name) && !kept.slice(i + 1).some((k) => ATTACH.has(k.spec.name))) {
      fail(`${field} applies to the attach-file that follows it, and none follows; list attachments in attachments[] instead`);
    }
    if (BEFORE_CHAPTERS.has(spec.name)) {
      const chapters = kept.slice(0, i).find((k) => k.spec.name === 'chapters' || (spec.name === 'chapter-language' && k.spec.name === 'generate-chapters'));
      if (chapters) fail(`${field} must come before ${chapters.field} (mkvmerge reads options in order)`);
    }
  }
}

/** Check one options object; `tid` is set for a track's options. */
function planObject(options: MkvOptions | undefined, prefix: string, scope: MkvOptionScope, ctx: Context, tid?: number): PlannedOption[] {
  const planned: PlannedOption[] = [];
  const kept: Array<{ spec: MkvOptionSpec; field: string }> = [];
  const seen = new Map<MkvOptionSpec, string>();
  for (const [key, value] of Object.entries(options ?? {})) {
    if (key.startsWith('_')) continue; // Sisyphus' own keys (`_copy-video-tracks`, notes): never passed on.
    const field = optionField(prefix, key);
    const spec = specFor(key, scope, field);
    const twin = seen.get(spec);
    if (twin) fail(`${twin} and ${field} are the same mkvmerge option (--${spec.name}); give it once`);
    seen.set(spec, field);
    if (value === false) continue; // false leaves an option out
    planned.push(checkArgument(scope === 'track' ? planTrackLevel(spec, key, value, field, tid!, ctx) : planFileLevel(spec, key, value, field, ctx)));
    kept.push({ spec, field });
  }
  if (scope === 'global') checkOrder(kept);
  return planned;
}

/** Is `arg` one of mkvmerge's option spellings (so mkvmerge would take it for that option wherever it stands)? */
export function isMkvmergeOptionName(arg: string): boolean {
  return MKVMERGE_OPTION_SPELLINGS.has(arg);
}

/** Attachment names and descriptions go to mkvmerge as arguments too (`--attachment-name NAME`). */
function checkAttachments(data: MkvmergeData): void {
  for (const [i, a] of (data.attachments ?? []).entries()) {
    const name = a.name ?? basename(a.filename);
    if (isMkvmergeOptionName(name)) {
      fail(`attachments[${i}]${a.name === undefined ? ': the file name' : '.name: the value'} ${JSON.stringify(name)} is an mkvmerge option name, and mkvmerge would read it as one${a.name === undefined ? '; give a name' : ''}`);
    }
    if (a.description !== undefined && isMkvmergeOptionName(a.description)) {
      fail(`attachments[${i}].description: the value ${JSON.stringify(a.description)} is an mkvmerge option name, and mkvmerge would read it as one`);
    }
  }
}

/**
 * Check every option of the job against mkvmerge's option table and plan
 * the arguments. Throws a {@link ValidationError} naming the field for an
 * unknown or refused option, an option in the wrong place, a missing or
 * superfluous value, or a value mkvmerge would misread.
 */
export function planMkvmergeOptions(data: MkvmergeData): PlannedOptions {
  const ctx: Context = { files: [] };
  const global = planObject(data.options, 'options', 'global', ctx);
  const sources = data.sources.map((s, i) => planObject(s.options, `sources[${i}].options`, 'source', ctx));
  const tracks = data.tracks.map((t, i) => planObject(t.options, `tracks[${i}].options`, 'track', ctx, t.track));
  checkAttachments(data);
  return { global, sources, tracks, files: ctx.files };
}

/**
 * Check the job's mkvmerge options (global, per source, per track) against
 * mkvmerge's option table and list every file they name.
 *
 * Throws a one-line {@link ValidationError} naming the field (`options.title
 * needs a value`, `tracks[1].options.title is not an mkvmerge option for a
 * track: ...`). The caller checks each returned file like a path field
 * (PathGuard), and passes the resolved paths, keyed by `field`, to
 * `buildMkvmergeArgs`; XML files (`xml: true`) also go through
 * {@link checkEmbeddedFiles} once they exist.
 */
export function reviewMkvmergeOptions(data: MkvmergeData): MkvOptionReview {
  return { files: planMkvmergeOptions(data).files };
}

/**
 * `segments` when the options make mkvmerge write several files named from
 * the output name (`--split`): `out-001.mkv`, `out-002.mkv`..., or with
 * `%d`, `%02d`, `%c` (chapter name) in the name, those replaced. `file`
 * otherwise, also for a `--split parts:` spec that keeps one range or
 * appends every later range (`+`) to the first: then mkvmerge writes the
 * output name itself.
 */
export function outputKind(data: MkvmergeData): 'file' | 'segments' {
  const split = data.options?.['split'];
  if (split === undefined || split === false || split === null || split === true) return 'file';
  const spec = String(split).trim();
  const parts = /^parts(?:-frames)?:(.*)$/s.exec(spec);
  if (parts) {
    const newFiles = parts[1]!.split(',').filter((range) => range.trim() !== '' && !range.trim().startsWith('+'));
    if (newFiles.length <= 1) return 'file';
  }
  return 'segments';
}

// ---- Files named inside XML files -------------------------------------------------------

/** Encodings in which `@`, `<`, `>`, `=`, quotes and `&#` are the ASCII bytes, so a byte scan finds them. */
const ASCII_COMPATIBLE =
  /^(utf-?8|us-ascii|ascii|iso[-_]?8859[-_]?\d+|iso[-_]?latin[-_]?\d|latin-?\d|l\d|(windows|cp)-?125\d|shift[-_]jis|sjis|cp932|euc-?(jp|kr|cn)|gb(k|2312|18030)|big5(-hkscs)?|koi8-?[ru]|utf-?(16|32)(le|be)?)$/i;

function decodeUtf32(bytes: Buffer, littleEndian: boolean): string {
  let out = '';
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    out += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return out;
}

function decodeCharRefs(s: string): string {
  return s.replace(/&#(x[0-9a-f]+|\d+);?/gi, (whole, n: string) => {
    const cp = n[0] === 'x' || n[0] === 'X' ? parseInt(n.slice(1), 16) : parseInt(n, 10);
    return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}

/**
 * The names mkvmerge would read through `@NAME` in the XML file `bytes`
 * (chapters, tags, segment info: a binary element or attribute whose value
 * starts with `@` is replaced by that file's content), or the declared
 * encoding when it is one this scan cannot read. Errs on the side of
 * finding too much: any element text or attribute value that starts with
 * `@` counts, in every byte order the XML parser might pick.
 */
export function findEmbeddedFileNames(bytes: Buffer): { names: string[] } | { encoding: string } {
  const head = bytes.subarray(0, 4);
  const hasUnicodeBom =
    head.subarray(0, 2).equals(Buffer.from([0xff, 0xfe])) || head.subarray(0, 2).equals(Buffer.from([0xfe, 0xff])) || head.equals(Buffer.from([0, 0, 0xfe, 0xff]));
  const latin1 = bytes.toString('latin1');
  if (!hasUnicodeBom) {
    // mkvmerge (xml.cpp load_file) recodes a file without BOM from the charset its XML declaration names.
    const declared = /^[ \t]*<\?xml[^?]+?encoding[ \t]*=[ \t]*"([^"]+)/i.exec(latin1.replace(/^\xef\xbb\xbf/, ''));
    if (declared && !ASCII_COMPATIBLE.test(declared[1]!.trim())) return { encoding: declared[1]! };
  }
  const texts = [latin1];
  if (bytes.includes(0)) {
    const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
    texts.push(new TextDecoder('utf-16le').decode(even), new TextDecoder('utf-16be').decode(even), decodeUtf32(bytes, true), decodeUtf32(bytes, false));
  }
  const names = new Set<string>();
  for (const raw of texts) {
    const s = decodeCharRefs(raw);
    const patterns = [/>[\s\0]*(?:<!\[CDATA\[[\s\0]*)?@([^<\]]*)/g, /=[\s\0]*["'][\s\0]*@([^"'<>]*)/g];
    for (const re of patterns) for (const m of s.matchAll(re)) names.add(m[1]!.replace(/\0/g, '').trim().slice(0, 200));
  }
  return { names: [...names] };
}

/**
 * Refuse an XML file (chapters, tags, segment info) in which mkvmerge would
 * read further files through `@NAME`: those names escape the path checks.
 * `phase` picks the error class (ValidationError or RunError). Call it for
 * every reference with `xml: true` once the file exists: at validation for
 * files that exist then, otherwise at run time before mkvmerge starts.
 */
export async function checkEmbeddedFiles(path: string, field: string, phase: 'validate' | 'run'): Promise<void> {
  const E = phase === 'validate' ? ValidationError : RunError;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new E(`${field}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const found = findEmbeddedFileNames(bytes);
  if ('encoding' in found) {
    throw new E(`${field}: ${path} declares the encoding ${JSON.stringify(found.encoding)}; use UTF-8 (or UTF-16 with a byte order mark)`);
  }
  if (found.names.length) {
    const shown = found.names.slice(0, 3).map((n) => JSON.stringify(`@${n}`)).join(', ');
    throw new E(`${field}: ${path} makes mkvmerge read other files (${shown}${found.names.length > 3 ? ', ...' : ''}); files named inside XML files are not allowed`);
  }
}
