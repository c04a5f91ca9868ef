import { ValidationError } from '@sisyphus/core';
import type { HandbrakeData } from './handbrake-schema.js';

/** A file that a value of the job makes HandBrakeCLI (or its encoder) open. */
export interface HandbrakeFileReference {
  /** Where it is written: `subtitles_options.srt_file[1]`, `video_options.encopts.stats`. */
  field: string;
  /** The path as the job wrote it (relative paths are relative to the worker's workdir). */
  value: string;
  access: 'read' | 'write' | 'read+write';
  /**
   * Files the encoder makes from this path by adding these suffixes (x264's
   * and x265's `stats`: `PATH.temp`, `PATH.mbtree.temp`..., written and then
   * renamed over `PATH`, `PATH.mbtree`...): each is checked like an output.
   */
  derived?: readonly string[];
}

/** What {@link reviewHandbrakeData} found out about the job's data. */
export interface HandbrakeReview {
  /** Files option values name (besides `source` and `output_file`), to check like path fields. */
  files: HandbrakeFileReference[];
  /** Output tracks the result must hold, when the options make that certain. */
  expect: ExpectedTracks;
  /** The source part that is encoded, when the options say (`start_at` / `stop_at`). */
  range: EncodeRange;
}

/** Track counts the output must have (undefined: HandBrake's own selection decides, not checked). */
export interface ExpectedTracks {
  audio?: number;
  subtitles?: number;
  /** ffprobe's codec name of the video the encoder writes. */
  videoCodec?: string;
  /** Audio track numbers (1-based) the job names: the source must have them. */
  audioTracks: number[];
  /** Subtitle track numbers (1-based) the job names. */
  subtitleTracks: number[];
}

/** `start_at` / `stop_at`, and whether the whole of title 1 is encoded (so the output's length is known). */
export interface EncodeRange {
  unit?: 'seconds' | 'frames' | 'pts';
  start?: number;
  /** A duration counted from `start`. */
  stop?: number;
  /** Chapters, another title, a preview start or the main feature: the length is not known beforehand. */
  partial: boolean;
}

/** ffprobe codec names of HandBrake's video encoders. */
const VIDEO_CODECS: Record<string, string> = {
  svt_av1: 'av1', svt_av1_10bit: 'av1', x264: 'h264', x264_10bit: 'h264', nvenc_h264: 'h264', x265: 'hevc', x265_10bit: 'hevc',
  x265_12bit: 'hevc', nvenc_h265: 'hevc', nvenc_h265_12bit: 'hevc', mpeg2: 'mpeg2video', mpeg4: 'mpeg4', VP8: 'vp8', VP9: 'vp9', theora: 'theora',
};

/**
 * Encoder option keys (`video_options.encopts`) whose values name files, by
 * encoder library: x264's `x264_param_parse` and x265's `x265_param_parse`
 * (the ones HandBrake hands `--encopts` to). Checked like path fields.
 */
const ENCOPTS_FILES: Record<string, HandbrakeFileReference['access']> = {
  stats: 'read+write',
  cqmfile: 'read',
  'dump-yuv': 'write',
  csv: 'write',
  'analysis-save': 'write',
  'analysis-load': 'read',
  'analysis-reuse-file': 'read+write',
  'scaling-list': 'read',
  'lambda-file': 'read',
  'dhdr10-info': 'read',
  'film-grain': 'read',
  'aom-film-grain': 'read',
  'film-grain-table': 'read',
  zonefile: 'read',
  qpfile: 'read',
};
/**
 * What x264 and x265 write beside `stats` in a first pass: the statistics
 * under `.temp`, x264's macroblock-tree data (`.mbtree`) and x265's cutree
 * data (`.cutree`) under `.temp` too; each `.temp` is renamed over the name
 * without it when the pass ends (x264 `encoder/ratecontrol.c`, x265
 * `encoder/ratecontrol.cpp`). A symlink at any of them would be written
 * through and then renamed into place.
 */
export const STATS_DERIVED: readonly string[] = ['.temp', '.mbtree', '.mbtree.temp', '.cutree', '.cutree.temp'];
/** Encoder option keys that load code: refused. */
const ENCOPTS_REFUSED: Record<string, string> = { 'opencl-clbin': 'loads a compiled OpenCL program' };
/** `scaling-list` values that are not files. */
const SCALING_LIST_WORDS = new Set(['default', 'off', 'flat']);

type Group = Record<string, unknown>;
type Arg = string | { file: string; prefix?: string };

/** `subtitles_options.srt_file[1]` style field names. */
const at = (group: string, key: string, index?: number) => `${group}.${key}${index === undefined ? '' : `[${index}]`}`;

function fail(message: string): never {
  throw new ValidationError(message);
}

const isAbsoluteOrParent = (value: string) => value.startsWith('/') || value.split('/').includes('..');

/**
 * Review the task data beyond its schema: what the original's schema let
 * through but HandBrakeCLI cannot run (or would run differently from what
 * the data says) is a ValidationError naming the field; values that name
 * files are listed for the path guard. Pure (no file access).
 */
export function reviewHandbrakeData(data: HandbrakeData): HandbrakeReview {
  const files: HandbrakeFileReference[] = [];
  if (!data.source.trim()) fail('source must not be empty');
  if (!data.output_file.trim()) fail('output_file must not be empty');
  for (const [group, options] of Object.entries(data)) {
    if (typeof options !== 'object' || options === null) continue;
    for (const [key, v] of Object.entries(options as Group)) if (typeof v === 'string' && !v.trim()) fail(`${at(group, key)} must not be empty`);
  }
  const range = reviewSource(data);
  const video = data.video_options ?? {};
  if (video.encoder === 'nvenv_h265_10bit') {
    fail('video_options.encoder "nvenv_h265_10bit" is not a HandBrakeCLI encoder (a misspelling of nvenc_h265_10bit in the original schema; HandBrakeCLI stops with "Invalid video encoder")');
  }
  if (video.rate !== undefined && (video.rate < 1 || video.rate > 1000)) fail(`video_options.rate must be between 1 and 1000 (HandBrakeCLI refuses ${video.rate})`);
  const frameModes = (['vfr', 'cfr', 'pfr'] as const).filter((k) => video[k] === true);
  if (frameModes.length > 1) fail(`video_options: choose one of ${frameModes.join(', ')} (HandBrakeCLI would use the last one only)`);
  for (const [key, value] of Object.entries(video.encopts ?? {})) {
    const field = `video_options.encopts${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(key)) fail(`${field}: not an encoder option name`);
    if (ENCOPTS_REFUSED[key]) fail(`${field} is refused: it ${ENCOPTS_REFUSED[key]}`);
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) fail(`${field} must be a string, a number, a boolean or null`);
    if (typeof value === 'string' && /[:=]/.test(value)) fail(`${field}: a value cannot contain ":" or "=" (HandBrakeCLI splits --encopts on them)`);
    if (typeof value === 'string' && !value.trim()) fail(`${field} needs a value (null for an option without one)`);
    const access = ENCOPTS_FILES[key];
    if (access && typeof value === 'string' && !(key === 'scaling-list' && SCALING_LIST_WORDS.has(value))) files.push({ field, value, access, ...(key === 'stats' ? { derived: STATS_DERIVED } : {}) });
    else if (access && value !== null && typeof value !== 'string') fail(`${field} names a file: give a path`);
    // The safety net: any other value that looks like a path is a path.
    else if (!access && typeof value === 'string' && isAbsoluteOrParent(value)) files.push({ field, value, access: 'read+write' });
  }
  const audio = reviewAudio(data);
  const subtitles = reviewSubtitles(data, files);
  reviewPicture(data);
  reviewFilters(data);
  const videoCodec = VIDEO_CODECS[video.encoder ?? 'x264'];
  return {
    files,
    range,
    expect: { ...(audio.count !== undefined ? { audio: audio.count } : {}), ...(subtitles.count !== undefined ? { subtitles: subtitles.count } : {}), ...(videoCodec ? { videoCodec } : {}), audioTracks: audio.tracks, subtitleTracks: subtitles.tracks },
  };
}

function reviewSource(data: HandbrakeData): EncodeRange {
  const s = data.source_options ?? {};
  if (s.title !== undefined && s.title < 1) fail(`source_options.title must be 1 or more (title ${s.title} makes HandBrakeCLI scan titles and exit without encoding)`);
  if (s.chapters !== undefined && !/^\d+(-\d+)?$/.test(s.chapters)) fail(`source_options.chapters must be "N" or "N-M" (got ${JSON.stringify(s.chapters)})`);
  if (s.previews !== undefined && s.previews < 1) fail('source_options.previews must be 1 or more');
  let unit: EncodeRange['unit'];
  let start: number | undefined;
  let stop: number | undefined;
  if (s.start_at) {
    const [k, v] = Object.entries(s.start_at)[0]!;
    if ((v as number) < 0) fail(`source_options.start_at.${k} must not be negative`);
    unit = k as EncodeRange['unit'];
    start = v as number;
  }
  if (s.stop_at) {
    const keys = Object.keys(s.stop_at);
    const unknown = keys.filter((k) => !['frames', 'seconds', 'pts'].includes(k));
    if (unknown.length) fail(`source_options.stop_at.${unknown[0]} is not a unit (frames, seconds or pts)`);
    if (keys.length !== 1) fail(`source_options.stop_at needs exactly one of frames, seconds, pts (it has ${keys.length ? keys.join(', ') : 'none'})`);
    const k = keys[0] as 'frames' | 'seconds' | 'pts';
    const v = s.stop_at[k]!;
    if (v <= 0) fail(`source_options.stop_at.${k} must be more than 0`);
    if (unit && unit !== k) fail(`source_options.stop_at.${k}: the unit must be start_at's (${unit}); HandBrakeCLI does not convert between them`);
    unit = k;
    stop = v;
  }
  const partial = s.chapters !== undefined || s.start_at_preview !== undefined || (s.title !== undefined && s.title !== 1) || s.main_feature === true || s.angle !== undefined;
  return { ...(unit ? { unit } : {}), ...(start !== undefined ? { start } : {}), ...(stop !== undefined ? { stop } : {}), partial };
}

/** A comma list item must not hold a comma (HandBrakeCLI splits on every one, escaped or not). */
function noCommas(values: readonly unknown[], field: string): void {
  for (const [i, v] of values.entries()) {
    if (typeof v === 'string' && v.includes(',')) fail(`${field}[${i}] cannot contain "," (HandBrakeCLI splits its lists on commas)`);
    if (typeof v === 'string' && !v.trim()) fail(`${field}[${i}] must not be empty`);
  }
}

/** Sample rates HandBrakeCLI 1.6.1 knows, in kHz. */
const SAMPLE_RATES = [8, 11.025, 12, 16, 22.05, 24, 32, 44.1, 48];

/** Lists HandBrakeCLI pairs with `audio` (or, without it, with `aencoder`). */
const AUDIO_PAIRED = ['aencoder', 'ab', 'ac', 'mixdown', 'normalize_mix', 'arate', 'drc', 'gain', 'adither', 'aname'] as const;

function reviewAudio(data: HandbrakeData): { count?: number; tracks: number[] } {
  const a = data.audio_options ?? {};
  for (const key of ['audio_lang_list', 'audio_copy_mask', 'aname'] as const) if (a[key]) noCommas(a[key]!, `audio_options.${key}`);
  for (const key of ['audio_lang_list', 'audio_copy_mask', ...AUDIO_PAIRED] as const) {
    if (a[key] && !a[key]!.length) fail(`audio_options.${key} must not be empty`);
  }
  for (const [i, r] of (a.arate ?? []).entries()) {
    // HandBrakeCLI takes any other rate silently as "the input's rate".
    if (!SAMPLE_RATES.includes(r)) fail(`audio_options.arate[${i}] must be one of ${SAMPLE_RATES.join(', ')} (kHz); HandBrakeCLI would use the source's rate instead of ${r}`);
  }
  const tracks = Array.isArray(a.audio) ? a.audio : [];
  if (Array.isArray(a.audio)) {
    if (!a.audio.length) fail('audio_options.audio must not be empty (null for no audio)');
    for (const [i, t] of a.audio.entries()) if (t < 1) fail(`audio_options.audio[${i}] must be 1 or more (tracks are numbered from 1)`);
  }
  if (a.audio === null) {
    const given = AUDIO_PAIRED.filter((k) => a[k] !== undefined);
    if (given.length) fail(`audio_options.${given[0]} has nothing to apply to: audio is null (no audio)`);
    return { count: 0, tracks };
  }
  // HandBrakeCLI pairs these lists by position: a shorter one repeats its last value, a longer one loses the rest, silently.
  const [pairKey, pairLength] = Array.isArray(a.audio) ? ['audio', a.audio.length] : a.aencoder ? ['aencoder', a.aencoder.length] : [undefined, undefined];
  for (const key of AUDIO_PAIRED) {
    const values = a[key];
    if (!values || key === pairKey) continue;
    if (pairLength !== undefined && values.length !== pairLength) {
      fail(`audio_options.${key} has ${values.length} value${values.length === 1 ? '' : 's'} but ${pairKey} has ${pairLength}: give one per output track`);
    }
  }
  if (pairLength === undefined) {
    const lengths = AUDIO_PAIRED.filter((k) => a[k]).map((k) => [k, a[k]!.length] as const);
    const odd = lengths.find(([, n]) => n !== lengths[0]![1]);
    if (odd) fail(`audio_options.${odd[0]} has ${odd[1]} values but ${lengths[0]![0]} has ${lengths[0]![1]}: give one per output track`);
  }
  const selecting = a.audio_lang_list || a.all_audio || a.first_audio;
  if (!Array.isArray(a.audio) || selecting) return { tracks };
  const dropped = (a.aencoder ?? []).filter((e) => e === 'none').length;
  return { count: a.audio.length - dropped, tracks };
}

function reviewSubtitles(data: HandbrakeData, files: HandbrakeFileReference[]): { count?: number; tracks: number[] } {
  const s = data.subtitles_options ?? {};
  const g = 'subtitles_options';
  for (const key of ['subtitle_lang_list', 'subname', 'srt_codeset', 'srt_lang', 'ssa_lang', 'srt_file', 'ssa_file'] as const) if (s[key]) noCommas(s[key]!, `${g}.${key}`);
  if (s.subtitle === true) fail(`${g}.subtitle: true names no track; give a list of tracks (or false for none)`);
  const tracks: number[] = [];
  let list: Array<string | number> | undefined;
  if (Array.isArray(s.subtitle)) {
    list = s.subtitle;
    for (const [i, t] of list.entries()) {
      const n = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : undefined;
      if (n !== undefined) {
        if (n < 1) fail(`${g}.subtitle[${i}] must be 1 or more (tracks are numbered from 1)`);
        tracks.push(n);
      } else if (t === 'none') {
        if (list.length > 1) fail(`${g}.subtitle[${i}]: "none" cannot be combined with tracks`);
      } else if (t !== 'scan') {
        fail(`${g}.subtitle[${i}] must be a track number, "scan" or "none" (got ${JSON.stringify(t)})`);
      }
    }
  }
  const listed = list && !(list.length === 1 && list[0] === 'none') ? list.length : 0;
  if (s.subname && s.subname.length !== listed) {
    fail(`${g}.subname has ${s.subname.length} name${s.subname.length === 1 ? '' : 's'} but subtitle lists ${listed} track${listed === 1 ? '' : 's'}: give one per track`);
  }
  const index = (value: number, field: string, of: string, length: number) => {
    if (value < 1 || value > length) fail(`${g}.${field} is ${value} but ${of} lists ${length === 0 ? 'nothing' : `${length} (it is a 1-based index into it)`}`);
  };
  if (Array.isArray(s.subtitle_forced)) for (const [i, n] of s.subtitle_forced.entries()) index(n, `subtitle_forced[${i}]`, 'subtitle', listed);
  for (const key of ['subtitle_burned', 'subtitle_default'] as const) {
    const v = s[key];
    if (v === undefined) continue;
    if (typeof v === 'number' || /^\d+$/.test(v)) index(Number(v), key, 'subtitle', listed);
    else if (!(v === 'none' || (key === 'subtitle_burned' && v === 'native'))) fail(`${g}.${key} must be a track index${key === 'subtitle_burned' ? ', "native"' : ''} or "none" (got ${JSON.stringify(v)})`);
  }
  for (const kind of ['srt', 'ssa'] as const) {
    const fileKey = `${kind}_file` as const;
    const names = s[fileKey] ?? [];
    for (const [i, f] of names.entries()) files.push({ field: at(g, fileKey, i), value: f, access: 'read' });
    const paired = kind === 'srt' ? (['srt_codeset', 'srt_offset', 'srt_lang'] as const) : (['ssa_offset', 'ssa_lang'] as const);
    for (const key of paired) {
      const values = s[key as keyof typeof s] as unknown[] | undefined;
      if (values && values.length !== names.length) fail(`${g}.${key} has ${values.length} value${values.length === 1 ? '' : 's'} but ${fileKey} has ${names.length}: give one per file`);
    }
    for (const key of [`${kind}_default`, `${kind}_burn`] as const) {
      const v = s[key];
      if (v === undefined || v === false) continue;
      if (!names.length) fail(`${g}.${key} needs ${fileKey}`);
      if (typeof v === 'number') index(v, key, fileKey, names.length);
    }
  }
  if (s.native_language !== undefined && !s.native_language.trim()) fail(`${g}.native_language must not be empty`);
  // The number of subtitle tracks is certain only when the job lists them all itself.
  const selecting = s.subtitle_lang_list || s.all_subtitles || s.first_subtitles || s.native_language || list?.includes('scan');
  const format = data.destination_options?.format ?? data.output_file.toLowerCase().replace(/^.*\./, '');
  if (selecting || !['av_mkv', 'av_mp4', 'mkv', 'mp4', 'm4v'].includes(format)) return { tracks };
  if (s.subtitle_burned !== undefined && !list) return { tracks };
  const burned = (v: unknown) => (v !== undefined && v !== false && v !== 'none' ? 1 : 0);
  const count = listed - burned(s.subtitle_burned) + (s.srt_file?.length ?? 0) - burned(s.srt_burn) + (s.ssa_file?.length ?? 0) - burned(s.ssa_burn);
  return { count, tracks };
}

function reviewPicture(data: HandbrakeData): void {
  const p = data.picture_options ?? {};
  const modes = (['non_anamorphic', 'auto_anamorphic', 'loose_anamorphic', 'custom_anamorphic'] as const).filter((k) => p[k] === true);
  if (modes.length > 1) fail(`picture_options: choose one of ${modes.join(', ')} (HandBrakeCLI would use the last one only)`);
  if (p.crop) {
    const unknown = Object.keys(p.crop).filter((k) => !['top', 'bottom', 'left', 'right'].includes(k));
    if (unknown.length) fail(`picture_options.crop.${unknown[0]} is not a side: use top, bottom, left, right (a side left out is 0)`);
  }
  if (p.pixel_aspect !== undefined && !/^\d+:\d+$/.test(p.pixel_aspect)) fail(`picture_options.pixel_aspect must be "X:Y" (got ${JSON.stringify(p.pixel_aspect)})`);
  if (p.pixel_aspect !== undefined && p.display_width !== undefined) fail('picture_options: display_width and pixel_aspect exclude each other (HandBrakeCLI)');
}

const DECOMB_KEYS = ['mode', 'magnitude_thresh', 'laplacian_thresh', 'variance_thresh', 'dilation_thresh', 'erosion_thresh', 'noise_thresh', 'search_distance', 'postproc', 'parity'];
const DETELECINE_KEYS = ['skip_left', 'skip_right', 'skip_top', 'skip_bottom', 'strict_breaks', 'plane', 'parity', 'disable'];

function reviewFilters(data: HandbrakeData): void {
  const f = (data.filters_options ?? {}) as Group;
  const decomb = f.decomb as { custom?: Group } | undefined;
  if (decomb?.custom) {
    const keys = Object.keys(decomb.custom);
    if (!keys.length) fail('filters_options.decomb.custom is empty: give at least one setting (or use a preset)');
    const unknown = keys.find((k) => !DECOMB_KEYS.includes(k));
    if (unknown) fail(`filters_options.decomb.custom.${unknown} is not a decomb setting (${DECOMB_KEYS.join(', ')})`);
    for (const [k, v] of Object.entries(decomb.custom)) if (typeof v !== 'number') fail(`filters_options.decomb.custom.${k} must be a number`);
  }
  if (f.detelecine && typeof f.detelecine === 'object') {
    const unknown = Object.keys(f.detelecine).find((k) => !DETELECINE_KEYS.includes(k));
    if (unknown) fail(`filters_options.detelecine.${unknown} is not a detelecine setting (${DETELECINE_KEYS.join(', ')})`);
  }
  for (const [name, value] of Object.entries(f)) {
    const custom = value && typeof value === 'object' ? ((value as Group).custom as Group | undefined) ?? (name === 'pad' || name === 'detelecine' ? (value as Group) : undefined) : undefined;
    for (const [k, v] of Object.entries(custom ?? {})) {
      if (typeof v === 'string' && (/[:=]/.test(v) || !v.trim())) fail(`filters_options.${name}${name === 'pad' || name === 'detelecine' ? '' : '.custom'}.${k}: ${v.trim() ? 'a value cannot contain ":" or "="' : 'must not be empty'}`);
    }
  }
}

/** A boolean option: `true` is `--FLAG`; `false` is `--no-FLAG` where HandBrakeCLI 1.6.1 has one, else left out. */
interface FlagSpec {
  kind: 'flag';
  flag: string;
  no?: boolean;
}
/** `--FLAG VALUE`. */
interface ValueSpec {
  kind: 'value';
  flag: string;
}
/** A per-track list: `--FLAG a,b,c` (booleans as 1/0). */
interface ListSpec {
  kind: 'list';
  flag: string;
}
/** An optional argument: `true` is `--FLAG`, a number or list `--FLAG=VALUE` (getopt takes an optional argument only after `=`). */
interface OptionalSpec {
  kind: 'optional';
  flag: string;
}
/** A filter: `true` `--FLAG`, `false` `--no-FLAG`, a preset `--FLAG=NAME`, custom settings `--FLAG=k=v:k=v`. */
interface FilterSpec {
  kind: 'filter';
  flag: string;
  no: boolean;
}
/** Built by its own rule. */
interface SpecialSpec {
  kind: 'special';
}
type Spec = FlagSpec | ValueSpec | ListSpec | OptionalSpec | FilterSpec | SpecialSpec;

const flag = (f: string, no = false): FlagSpec => ({ kind: 'flag', flag: f, no });
const value = (f: string): ValueSpec => ({ kind: 'value', flag: f });
const listOf = (f: string): ListSpec => ({ kind: 'list', flag: f });
const optional = (f: string): OptionalSpec => ({ kind: 'optional', flag: f });
const filter = (f: string, no = true): FilterSpec => ({ kind: 'filter', flag: f, no });
const special: SpecialSpec = { kind: 'special' };

/**
 * Every option of the data, by group, and how it is written for
 * HandBrakeCLI 1.6.1 (names from `HandBrakeCLI --help`; `--no-` forms only
 * where 1.6.1 has them).
 */
export const HANDBRAKE_OPTIONS: Record<string, Record<string, Spec>> = {
  source_options: {
    title: value('--title'), min_duration: value('--min-duration'), main_feature: flag('--main-feature'), chapters: value('--chapters'),
    angle: value('--angle'), previews: value('--previews'), start_at_preview: value('--start-at-preview'), start_at: special, stop_at: special,
  },
  destination_options: {
    format: value('--format'), markers: flag('--markers', true), optimize: flag('--optimize', true), ipod_atom: flag('--ipod-atom', true),
    align_av: flag('--align-av'), inline_parameter_sets: flag('--inline-parameter-sets'),
  },
  video_options: {
    encoder: value('--encoder'), encoder_preset: value('--encoder-preset'), encoder_tune: value('--encoder-tune'), encopts: special,
    encoder_profile: value('--encoder-profile'), encoder_level: value('--encoder-level'), quality: value('--quality'), vb: value('--vb'),
    two_pass: flag('--two-pass', true), turbo: flag('--turbo', true), rate: value('--rate'), vfr: flag('--vfr'), cfr: flag('--cfr'), pfr: flag('--pfr'),
    enable_hw_decoding: special, disable_hw_decoding: flag('--disable-hw-decoding'),
  },
  audio_options: {
    audio_lang_list: listOf('--audio-lang-list'), all_audio: flag('--all-audio'), first_audio: flag('--first-audio'), audio: special,
    aencoder: listOf('--aencoder'), audio_copy_mask: listOf('--audio-copy-mask'), audio_fallback: value('--audio-fallback'), ab: listOf('--ab'),
    ac: listOf('--ac'), mixdown: listOf('--mixdown'), normalize_mix: listOf('--normalize-mix'), arate: listOf('--arate'), drc: listOf('--drc'),
    gain: listOf('--gain'), adither: listOf('--adither'), aname: listOf('--aname'),
  },
  picture_options: {
    width: value('--width'), height: value('--height'), crop_mode: value('--crop-mode'), crop: special,
    crop_threshold_pixels: value('--crop-threshold-pixels'), crop_threshold_frames: value('--crop-threshold-frames'),
    max_height: value('--maxHeight'), max_width: value('--maxWidth'), non_anamorphic: flag('--non-anamorphic'), auto_anamorphic: flag('--auto-anamorphic'),
    loose_anamorphic: flag('--loose-anamorphic'), custom_anamorphic: flag('--custom-anamorphic'), display_width: value('--display-width'),
    keep_display_aspect: flag('--keep-display-aspect', true), pixel_aspect: value('--pixel-aspect'), itu_par: flag('--itu-par', true),
    modulus: value('--modulus'), color_matrix: value('--color-matrix'),
  },
  filters_options: {
    comb_detect: filter('--comb-detect'), deinterlace: filter('--deinterlace'), bwdif: filter('--bwdif'), decomb: filter('--decomb'),
    detelecine: filter('--detelecine'), hqdn3d: filter('--hqdn3d'), nlmeans: filter('--nlmeans'), nlmeans_tune: value('--nlmeans-tune'),
    chroma_smooth: filter('--chroma-smooth'), chroma_smooth_tune: value('--chroma-smooth-tune'), unsharp: filter('--unsharp'),
    unsharp_tune: value('--unsharp-tune'), lapsharp: filter('--lapsharp'), lapsharp_tune: value('--lapsharp-tune'), deblock: filter('--deblock'),
    deblock_tune: value('--deblock-tune'), rotate: filter('--rotate', false), pad: special, colorspace: value('--colorspace'),
    grayscale: flag('--grayscale', true),
  },
  subtitles_options: {
    subtitle_lang_list: listOf('--subtitle-lang-list'), all_subtitles: flag('--all-subtitles'), first_subtitles: flag('--first-subtitle'),
    subtitle: special, subname: listOf('--subname'), subtitle_forced: optional('--subtitle-forced'), subtitle_burned: optional('--subtitle-burned'),
    subtitle_default: optional('--subtitle-default'), native_language: value('--native-language'), native_dub: flag('--native-dub'),
    srt_file: special, srt_codeset: listOf('--srt-codeset'), srt_offset: listOf('--srt-offset'), srt_lang: listOf('--srt-lang'),
    srt_default: optional('--srt-default'), srt_burn: optional('--srt-burn'), ssa_file: special, ssa_offset: listOf('--ssa-offset'),
    ssa_lang: listOf('--ssa-lang'), ssa_default: optional('--ssa-default'), ssa_burn: optional('--ssa-burn'),
  },
};

const scalar = (v: unknown) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
/** `{y_strength: 1, cb_size: 7}` -> `y-strength=1:cb-size=7` (HandBrake's custom filter format). */
const settingsString = (values: Group) => Object.entries(values).map(([k, v]) => `${k.replace(/_/g, '-')}=${scalar(v)}`).join(':');

/** Resolved paths of the files the data names, by field (`source`, `output` and every {@link HandbrakeFileReference}). */
export type ResolvedFiles = Record<string, string>;

/**
 * The HandBrakeCLI argv (without the program) for `data`: `--json`,
 * `--input SOURCE`, `--output OUTPUT`, then every option group in the
 * data's order. `files` holds the checked, real paths by field
 * (`source`, `output_file`, `subtitles_options.srt_file[0]`, ...): the job's
 * own text is never passed. Call {@link reviewHandbrakeData} first.
 */
export function buildHandbrakeArgs(data: HandbrakeData, files: ResolvedFiles): string[] {
  const path = (field: string) => files[field] ?? fail(`${field}: not checked`);
  const args: Arg[] = ['--json', '--input', path('source'), '--output', path('output_file')];
  for (const [group, options] of Object.entries(data)) {
    if (group === 'source' || group === 'output_file') continue;
    const table = HANDBRAKE_OPTIONS[group]!;
    for (const [key, v] of Object.entries(options as Group)) {
      if (v === undefined) continue;
      const spec = table[key]!;
      const field = at(group, key);
      args.push(...emit(spec, key, v, field, group, files));
    }
  }
  return args.map((a) => (typeof a === 'string' ? a : `${a.prefix ?? ''}${a.file}`));
}

function emit(spec: Spec, key: string, v: unknown, field: string, group: string, files: ResolvedFiles): Arg[] {
  switch (spec.kind) {
    case 'flag':
      return v === true ? [spec.flag] : spec.no ? [spec.flag.replace(/^--/, '--no-')] : [];
    case 'value':
      return [spec.flag, String(v)];
    case 'list':
      return [spec.flag, (v as unknown[]).map(scalar).join(',')];
    case 'optional':
      if (v === false) return [];
      if (v === true) return [spec.flag];
      return [`${spec.flag}=${Array.isArray(v) ? v.join(',') : String(v)}`];
    case 'filter': {
      if (v === true) return [spec.flag];
      if (v === false) return spec.no ? [spec.flag.replace(/^--/, '--no-')] : [];
      const o = v as Group;
      if (typeof o.preset === 'string' || typeof o.presets === 'string') return [`${spec.flag}=${String(o.preset ?? o.presets)}`];
      if (o.custom) return [`${spec.flag}=${settingsString(o.custom as Group)}`];
      return [`${spec.flag}=${settingsString(o)}`]; // detelecine and rotate take their settings directly
    }
    case 'special':
      return emitSpecial(key, v, field, group, files);
  }
}

function emitSpecial(key: string, v: unknown, field: string, group: string, files: ResolvedFiles): Arg[] {
  switch (key) {
    case 'start_at':
    case 'stop_at': {
      const [unit, n] = Object.entries(v as Group)[0]!;
      return [`--${key.replace('_', '-')}`, `${unit}:${String(n)}`];
    }
    case 'encopts': {
      const parts = Object.entries(v as Group).map(([k, value]) => {
        const f = `${field}${/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}`;
        if (value === null) return k;
        return `${k}=${files[f] ?? scalar(value)}`;
      });
      return parts.length ? ['--encopts', parts.join(':')] : [];
    }
    case 'enable_hw_decoding':
      // 1.6.1 takes a decoder name, and nvdec is the only one.
      return v === true ? ['--enable-hw-decoding', 'nvdec'] : [];
    case 'audio':
      return ['--audio', v === null ? 'none' : (v as number[]).join(',')];
    case 'crop': {
      const c = v as Group;
      return ['--crop', ['top', 'bottom', 'left', 'right'].map((s) => String(c[s] ?? 0)).join(':')];
    }
    case 'pad':
      return ['--pad', settingsString(v as Group)];
    case 'subtitle':
      return ['--subtitle', v === false ? 'none' : (v as unknown[]).join(',')];
    case 'srt_file':
    case 'ssa_file':
      return [`--${key.replace('_', '-')}`, (v as string[]).map((_, i) => files[at(group, key, i)] ?? fail(`${at(group, key, i)}: not checked`)).join(',')];
    default:
      return fail(`${field}: no rule to write it`);
  }
}
