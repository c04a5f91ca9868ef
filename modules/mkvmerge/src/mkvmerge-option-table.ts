/**
 * Every option mkvmerge v74 knows, from its man page (doc/man/mkvmerge.xml,
 * section "Options") and its parser (src/merge/mkvmerge.cpp `parse_args`,
 * src/common/command_line.cpp `handle_common_args`, which also give the old
 * spellings kept as aliases). The job's option objects are checked against
 * this table: a name not in it is refused (deny by default).
 */

/**
 * Where an option may be written in task data: `global` = `options`,
 * `source` = `sources[].options` (before that file), `track` =
 * `tracks[].options` (the module writes `--KEY TID:VALUE`).
 */
export type MkvOptionScope = 'global' | 'source' | 'track';

/**
 * The shape of an option's argument.
 * - `none`: a bare flag (`--no-cues`).
 * - `value`: one required argument (`--title T`).
 * - `tid`: a track id only (`--reduce-to-core 2`).
 * - `tid-bool`: a track id and an optional boolean (`--default-track-flag 2[:no]`).
 * - `tid-value`: a track id and a required value (`--language 2:jpn`).
 */
export type MkvValueKind = 'none' | 'value' | 'tid' | 'tid-bool' | 'tid-value';

/** How an option's argument names a file mkvmerge opens. */
export interface MkvFileRole {
  access: 'read' | 'write';
  kind: 'file' | 'folder';
  /**
   * Where the name sits in the argument: `path` = the whole value (after
   * `TID:` for TID options); `uid-or-file` = a segment UID, or `=FILE`;
   * `uid-list` = a comma-separated list of UIDs and `=FILE`s.
   */
  form: 'path' | 'uid-or-file' | 'uid-list';
  /** An XML file in which mkvmerge reads further files named `@NAME` in binary elements. */
  xml?: boolean;
}

/** One mkvmerge option. */
export interface MkvOptionSpec {
  /** Long name without dashes, as in `mkvmerge --help`. */
  name: string;
  /** Other long spellings mkvmerge accepts (old names). */
  aliases?: readonly string[];
  /** One-letter spelling (`-q`); task data must use the long name. */
  short?: string;
  value: MkvValueKind;
  /** Where it may appear; empty when refused. */
  scopes: readonly MkvOptionScope[];
  /** Set when the argument names a file or folder mkvmerge opens. */
  file?: MkvFileRole;
  /** Why the module refuses it; refused options are never passed on. */
  refused?: string;
}

const GLOBAL = ['global'] as const;
/** Per-file options written in `options` apply to the first source, as on mkvmerge's command line. */
const PER_FILE = ['global', 'source'] as const;
const PER_TRACK = ['global', 'source', 'track'] as const;
const NOWHERE = [] as const;

const read = (xml = false): MkvFileRole => ({ access: 'read', kind: 'file', form: 'path', ...(xml ? { xml } : {}) });
const refuse = (name: string, value: MkvValueKind, reason: string, more: Partial<MkvOptionSpec> = {}): MkvOptionSpec => ({
  name,
  value,
  scopes: NOWHERE,
  refused: reason,
  ...more,
});

const TRACK_SELECTION = 'the module selects tracks from `tracks` (a `_copy-TYPE-tracks` source option keeps every track of a type)';
const EXITS_EARLY = 'mkvmerge prints information and exits 0 without writing the output';

/** man: "Global options". */
const GLOBAL_OPTIONS: MkvOptionSpec[] = [
  { name: 'verbose', short: 'v', value: 'none', scopes: GLOBAL },
  refuse('quiet', 'none', 'it silences the progress lines the module reads', { short: 'q' }),
  refuse('output', 'value', 'the module writes output_file itself', { short: 'o', file: { access: 'write', kind: 'file', form: 'path' } }),
  { name: 'webm', short: 'w', value: 'none', scopes: GLOBAL },
  // mkvmerge takes `--title ""` as "no title"; the module refuses empty values (a template that rendered empty is the usual cause).
  { name: 'title', value: 'value', scopes: GLOBAL },
  { name: 'default-language', value: 'value', scopes: GLOBAL },
];

/** man: "Segment info handling (global options)". */
const SEGMENT_INFO: MkvOptionSpec[] = [
  { name: 'segmentinfo', value: 'value', scopes: GLOBAL, file: read(true) },
  // "If SID starts with = then its rest is interpreted as the name of a Matroska file whose segment UID is read."
  { name: 'segment-uid', value: 'value', scopes: GLOBAL, file: { access: 'read', kind: 'file', form: 'uid-list' } },
];

/** man: "Chapter and tag handling (global options)". */
const CHAPTERS_AND_TAGS: MkvOptionSpec[] = [
  // Both may be given only once and before --chapters, so not per source.
  { name: 'chapter-language', value: 'value', scopes: GLOBAL },
  { name: 'chapter-charset', value: 'value', scopes: GLOBAL },
  // Applies to --chapters, or else to the chapters of the following source file.
  { name: 'chapter-sync', value: 'value', scopes: PER_FILE },
  { name: 'generate-chapters', value: 'value', scopes: GLOBAL },
  // A chapter name template (<NUM>, <START>, <FILE_NAME>), not a path.
  { name: 'generate-chapters-name-template', value: 'value', scopes: GLOBAL },
  { name: 'cue-chapter-name-format', value: 'value', scopes: GLOBAL },
  // XML, simple (OGM) chapters, a cue sheet, an MPLS play list, or (with libdvdread) a DVD folder or IFO with an optional `:TITLE`.
  { name: 'chapters', value: 'value', scopes: GLOBAL, file: read(true) },
  { name: 'global-tags', value: 'value', scopes: GLOBAL, file: read(true) },
];

/** man: "General output control (advanced global options)". */
const OUTPUT_CONTROL: MkvOptionSpec[] = [
  refuse('track-order', 'value', 'the module writes it from the order of `tracks`'),
  { name: 'cluster-length', value: 'value', scopes: GLOBAL },
  { name: 'clusters-in-meta-seek', value: 'none', scopes: GLOBAL },
  { name: 'timestamp-scale', aliases: ['timecode-scale'], value: 'value', scopes: GLOBAL },
  { name: 'enable-durations', value: 'none', scopes: GLOBAL },
  { name: 'no-cues', value: 'none', scopes: GLOBAL },
  { name: 'no-date', value: 'none', scopes: GLOBAL },
  { name: 'disable-lacing', value: 'none', scopes: GLOBAL },
  { name: 'disable-track-statistics-tags', value: 'none', scopes: GLOBAL },
  { name: 'disable-language-ietf', value: 'none', scopes: GLOBAL },
  { name: 'normalize-language-ietf', value: 'value', scopes: GLOBAL },
];

/** man: "File splitting, linking, appending and concatenation (more global options)". */
const SPLITTING: MkvOptionSpec[] = [
  // Writes several files named from the output (see outputKind).
  { name: 'split', value: 'value', scopes: GLOBAL },
  { name: 'split-max-files', value: 'value', scopes: GLOBAL },
  { name: 'link', value: 'none', scopes: GLOBAL },
  { name: 'link-to-previous', value: 'value', scopes: GLOBAL, file: { access: 'read', kind: 'file', form: 'uid-or-file' } },
  { name: 'link-to-next', value: 'value', scopes: GLOBAL, file: { access: 'read', kind: 'file', form: 'uid-or-file' } },
  refuse('append-mode', 'value', 'the module never appends sources (no `+`), so there is nothing for it to act on'),
  refuse('append-to', 'value', 'the module never appends sources (no `+`), so there is nothing for it to act on'),
];

/** man: "Attachment support (more global options)". The three attachment-* options apply to the attach-file that follows them. */
const ATTACHMENTS: MkvOptionSpec[] = [
  { name: 'attachment-description', value: 'value', scopes: GLOBAL },
  { name: 'attachment-mime-type', value: 'value', scopes: GLOBAL },
  { name: 'attachment-name', value: 'value', scopes: GLOBAL },
  { name: 'attach-file', value: 'value', scopes: GLOBAL, file: read() },
  { name: 'attach-file-once', value: 'value', scopes: GLOBAL, file: read() },
  { name: 'enable-legacy-font-mime-types', value: 'none', scopes: GLOBAL },
];

/** man: "Options that can be used for each input file" (file-level part). */
const PER_FILE_OPTIONS: MkvOptionSpec[] = [
  refuse('audio-tracks', 'value', TRACK_SELECTION, { short: 'a', aliases: ['atracks'] }),
  refuse('video-tracks', 'value', TRACK_SELECTION, { short: 'd', aliases: ['vtracks'] }),
  refuse('subtitle-tracks', 'value', TRACK_SELECTION, { short: 's', aliases: ['stracks', 'sub-tracks'] }),
  refuse('button-tracks', 'value', TRACK_SELECTION, { short: 'b', aliases: ['btracks'] }),
  refuse('no-audio', 'none', TRACK_SELECTION, { short: 'A', aliases: ['noaudio'] }),
  refuse('no-video', 'none', TRACK_SELECTION, { short: 'D', aliases: ['novideo'] }),
  refuse('no-subtitles', 'none', TRACK_SELECTION, { short: 'S', aliases: ['nosubs', 'no-subs'] }),
  refuse('no-buttons', 'none', TRACK_SELECTION, { short: 'B', aliases: ['nobuttons'] }),
  { name: 'track-tags', value: 'value', scopes: PER_FILE },
  { name: 'attachments', short: 'm', value: 'value', scopes: PER_FILE },
  { name: 'no-track-tags', short: 'T', value: 'none', scopes: PER_FILE },
  { name: 'no-chapters', value: 'none', scopes: PER_FILE },
  { name: 'no-attachments', short: 'M', value: 'none', scopes: PER_FILE },
  { name: 'no-global-tags', value: 'none', scopes: PER_FILE },
];

/** man: "Options that can be used for each input file" (track-level part: TID forms). */
const PER_TRACK_OPTIONS: MkvOptionSpec[] = [
  { name: 'sync', short: 'y', value: 'tid-value', scopes: PER_TRACK },
  { name: 'cues', value: 'tid-value', scopes: PER_TRACK },
  { name: 'default-track-flag', aliases: ['default-track'], value: 'tid-bool', scopes: PER_TRACK },
  { name: 'track-enabled-flag', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'forced-display-flag', aliases: ['forced-track'], value: 'tid-bool', scopes: PER_TRACK },
  { name: 'hearing-impaired-flag', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'visual-impaired-flag', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'text-descriptions-flag', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'original-flag', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'commentary-flag', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'blockadd', value: 'tid-value', scopes: PER_TRACK },
  // mkvmerge takes `TID:` (empty) as "no name"; refused like every empty value.
  { name: 'track-name', value: 'tid-value', scopes: PER_TRACK },
  { name: 'language', value: 'tid-value', scopes: PER_TRACK },
  { name: 'tags', short: 't', value: 'tid-value', scopes: PER_TRACK, file: read(true) },
  { name: 'aac-is-sbr', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'audio-emphasis', value: 'tid-value', scopes: PER_TRACK },
  { name: 'reduce-to-core', value: 'tid', scopes: PER_TRACK },
  { name: 'remove-dialog-normalization-gain', value: 'tid', scopes: PER_TRACK },
  { name: 'timestamps', aliases: ['timecodes'], value: 'tid-value', scopes: PER_TRACK, file: read() },
  { name: 'default-duration', value: 'tid-value', scopes: PER_TRACK },
  { name: 'fix-bitstream-timing-information', value: 'tid-bool', scopes: PER_TRACK },
  { name: 'compression', value: 'tid-value', scopes: PER_TRACK },
];

/** man: "Options that only apply to video tracks". */
const VIDEO_TRACK_OPTIONS: MkvOptionSpec[] = [
  { name: 'fourcc', short: 'f', value: 'tid-value', scopes: PER_TRACK },
  { name: 'display-dimensions', value: 'tid-value', scopes: PER_TRACK },
  { name: 'aspect-ratio', value: 'tid-value', scopes: PER_TRACK },
  { name: 'aspect-ratio-factor', value: 'tid-value', scopes: PER_TRACK },
  { name: 'cropping', value: 'tid-value', scopes: PER_TRACK },
  { name: 'color-matrix-coefficients', aliases: ['color-matrix', 'colour-matrix', 'colour-matrix-coefficients'], value: 'tid-value', scopes: PER_TRACK },
  { name: 'color-bits-per-channel', aliases: ['colour-bits-per-channel'], value: 'tid-value', scopes: PER_TRACK },
  { name: 'chroma-subsample', value: 'tid-value', scopes: PER_TRACK },
  { name: 'cb-subsample', value: 'tid-value', scopes: PER_TRACK },
  { name: 'chroma-siting', value: 'tid-value', scopes: PER_TRACK },
  { name: 'color-range', aliases: ['colour-range'], value: 'tid-value', scopes: PER_TRACK },
  { name: 'color-transfer-characteristics', aliases: ['colour-transfer-characteristics'], value: 'tid-value', scopes: PER_TRACK },
  { name: 'color-primaries', aliases: ['colour-primaries'], value: 'tid-value', scopes: PER_TRACK },
  { name: 'max-content-light', value: 'tid-value', scopes: PER_TRACK },
  { name: 'max-frame-light', value: 'tid-value', scopes: PER_TRACK },
  { name: 'chromaticity-coordinates', value: 'tid-value', scopes: PER_TRACK },
  { name: 'white-color-coordinates', aliases: ['white-colour-coordinates'], value: 'tid-value', scopes: PER_TRACK },
  { name: 'max-luminance', value: 'tid-value', scopes: PER_TRACK },
  { name: 'min-luminance', value: 'tid-value', scopes: PER_TRACK },
  { name: 'projection-type', value: 'tid-value', scopes: PER_TRACK },
  { name: 'projection-private', value: 'tid-value', scopes: PER_TRACK },
  { name: 'projection-pose-yaw', value: 'tid-value', scopes: PER_TRACK },
  { name: 'projection-pose-pitch', value: 'tid-value', scopes: PER_TRACK },
  { name: 'projection-pose-roll', value: 'tid-value', scopes: PER_TRACK },
  { name: 'field-order', value: 'tid-value', scopes: PER_TRACK },
  { name: 'stereo-mode', value: 'tid-value', scopes: PER_TRACK },
];

/** man: "Options that only apply to text subtitle tracks". */
const SUBTITLE_TRACK_OPTIONS: MkvOptionSpec[] = [{ name: 'sub-charset', aliases: ['subtitle-charset'], value: 'tid-value', scopes: PER_TRACK }];

/** man: "Other options". */
const OTHER_OPTIONS: MkvOptionSpec[] = [
  refuse('identify', 'value', 'identification mode replaces muxing (the module runs `mkvmerge -J` itself)', { short: 'i' }),
  refuse('J', 'value', 'identification mode replaces muxing (the module runs `mkvmerge -J` itself)'),
  refuse('identification-format', 'value', 'it only applies to identification mode', { short: 'F' }),
  { name: 'probe-range-percentage', value: 'value', scopes: GLOBAL },
  refuse('list-audio-emphasis', 'none', EXITS_EARLY),
  refuse('list-languages', 'none', EXITS_EARLY),
  refuse('list-stereo-modes', 'none', EXITS_EARLY),
  refuse('list-types', 'none', EXITS_EARLY, { short: 'l' }),
  { name: 'priority', value: 'value', scopes: GLOBAL },
  refuse('command-line-charset', 'value', 'the module passes arguments as UTF-8 in a JSON option file, where mkvmerge ignores it'),
  refuse('output-charset', 'value', 'the module reads mkvmerge\'s messages as UTF-8'),
  refuse('redirect-output', 'value', 'it writes a file and hides mkvmerge\'s messages (progress, warnings, errors) from the module', {
    short: 'r',
    file: { access: 'write', kind: 'file', form: 'path' },
  }),
  { name: 'flush-on-close', value: 'none', scopes: GLOBAL },
  refuse('ui-language', 'value', 'the module reads mkvmerge\'s messages in English (and `--ui-language list` exits without muxing)'),
  { name: 'abort-on-warnings', value: 'none', scopes: GLOBAL },
  { name: 'deterministic', value: 'value', scopes: GLOBAL },
  refuse('debug', 'value', 'a developer switch: debugging output mixes into the messages the module reads'),
  refuse('engage', 'value', 'a developer switch for unsupported experimental behaviour'),
  refuse('gui-mode', 'none', 'the module sets it and reads its `#GUI#` lines'),
  refuse('capabilities', 'none', EXITS_EARLY),
  refuse('help', 'none', EXITS_EARLY, { short: 'h', aliases: ['?'] }),
  refuse('version', 'none', EXITS_EARLY, { short: 'V' }),
];

/** Not in the man page any more; mkvmerge still swallows them with their argument (src/merge/mkvmerge.cpp). */
const OBSOLETE: MkvOptionSpec[] = [
  refuse('meta-seek-size', 'value', 'no longer supported by mkvmerge (it only warns)'),
  refuse('nalu-size-length', 'value', 'removed from mkvmerge (it is ignored)'),
];

/** The whole table, one entry per option. */
export const MKVMERGE_OPTIONS: readonly MkvOptionSpec[] = [
  ...GLOBAL_OPTIONS,
  ...SEGMENT_INFO,
  ...CHAPTERS_AND_TAGS,
  ...OUTPUT_CONTROL,
  ...SPLITTING,
  ...ATTACHMENTS,
  ...PER_FILE_OPTIONS,
  ...PER_TRACK_OPTIONS,
  ...VIDEO_TRACK_OPTIONS,
  ...SUBTITLE_TRACK_OPTIONS,
  ...OTHER_OPTIONS,
  ...OBSOLETE,
];

const BY_NAME = new Map<string, MkvOptionSpec>();
for (const spec of MKVMERGE_OPTIONS) {
  for (const name of [spec.name, ...(spec.aliases ?? [])]) BY_NAME.set(name, spec);
}
const BY_SHORT = new Map<string, MkvOptionSpec>(MKVMERGE_OPTIONS.filter((s) => s.short).map((s) => [s.short!, s]));

/** The option spelled `key` in task data (a long name or alias, without dashes); undefined when mkvmerge has none. */
export function findMkvOption(key: string): MkvOptionSpec | undefined {
  return BY_NAME.get(key);
}

/** The option whose one-letter spelling is `letter` (`q` for `-q`). */
export function findMkvShortOption(letter: string): MkvOptionSpec | undefined {
  return BY_SHORT.get(letter);
}

/**
 * Every command-line spelling of every option (`--title`, `-q`, `-J`,
 * `--timecodes`, `-?`). mkvmerge scans the whole argument list for some of
 * them before it pairs options with values, so a value equal to one of
 * these would be taken as that option.
 */
export const MKVMERGE_OPTION_SPELLINGS: ReadonlySet<string> = new Set(
  MKVMERGE_OPTIONS.flatMap((s) => [
    s.name.length === 1 ? `-${s.name}` : `--${s.name}`,
    ...(s.aliases ?? []).map((a) => (a.length === 1 ? `-${a}` : `--${a}`)),
    ...(s.short ? [`-${s.short}`] : []),
  ]),
);
