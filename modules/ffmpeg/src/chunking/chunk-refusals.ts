import { basename, extname } from 'node:path';
import { ValidationError } from '@sisyphus/core';
import { optionField, type ResolvedOutputMap } from '../build-args.js';
import type { FfmpegData, FfmpegOptions } from '../ffmpeg-schema.js';
import { IMAGE2_EXTENSIONS, KV_OPTIONS, UNTIMED_MUXERS } from '../ffmpeg-option-table.js';
import { FilterGraphSyntaxError, parseFilterGraph } from '../filtergraph.js';
import { outputFormat, splitKv, type FfmpegOutputKind, type OptionFileRef } from '../option-policy.js';
import type { ProbedStream } from '../probe.js';
import type { Chunking } from './chunking-schema.js';
import { canonicalOption, optionBase, optionReach, splitOutputMaps, type SplitMaps, type VideoOption } from './option-split.js';

/**
 * Video filters a chunk may run: each makes one output frame of one input
 * frame, from that frame alone, whatever its time. Anything else is
 * refused: filters that drop, add or retime frames (fps, select, setpts,
 * yadif's field mode, telecine...), that look at neighbouring frames
 * (denoisers with a temporal part, deflicker) or that draw by time
 * (subtitles, drawtext) would give a different file at every cut, because
 * each chunk's filters start afresh at time 0.
 */
export const CHUNK_SAFE_FILTERS: ReadonlySet<string> = new Set([
  'null', 'copy', 'format', 'noformat', 'scale', 'crop', 'pad', 'setsar', 'setdar', 'setparams', 'setrange', 'setfield', 'fieldorder',
  'hflip', 'vflip', 'transpose', 'colorspace', 'colormatrix', 'zscale', 'tonemap', 'eq', 'hue', 'curves', 'lut', 'lutyuv', 'lutrgb', 'lut1d', 'lut3d',
  'colorbalance', 'colorlevels', 'colorchannelmixer', 'colortemperature', 'vibrance', 'negate', 'unsharp', 'cas', 'smartblur', 'boxblur', 'gblur', 'avgblur',
  'median', 'convolution', 'removegrain', 'nlmeans', 'gradfun', 'deband', 'deblock', 'dctdnoiz', 'fillborders', 'chromashift',
]);

/** Filter options that make a filter depend on the frame's time or number (timeline editing, per-frame evaluation). */
const TIME_OPTIONS = new Set(['enable', 'eval']);

/**
 * Expression variables of the allowed filters that give the frame's time
 * or number (crop, scale, pad: `t`, `n`, `pos`; hue: `t`, `n`, `pts`,
 * `tb`... see ffmpeg-filters), and the names other filters use for them. In
 * a chunk, `t` is the source's timestamp (not 0 at the first frame) and `n`
 * restarts at 0, so such an expression gives other pictures than the
 * unchunked encode. Matched as whole words in every filter argument's
 * value: a value that merely contains the word elsewhere (a file name, a
 * colour) is refused too; that is the price of not parsing expressions.
 * File arguments (`file`, `psfile`) are not looked at.
 */
export const TIME_VARIABLES: readonly string[] = ['t', 'T', 'n', 'N', 'pts', 'PTS', 'time', 'frame', 'frame_num', 'in_time', 'out_time', 'pos', 'prev_pts', 'prev_t', 'startpts', 'startt'];
const TIME_VARIABLE = new RegExp(`(?<![A-Za-z0-9_.])(${TIME_VARIABLES.join('|')})(?![A-Za-z0-9_])`);

/**
 * Expression functions that keep state from one frame's evaluation to the
 * next (ffmpeg-utils "Expression Evaluation": `st`/`ld` store and load
 * registers that live as long as the filter, `random`/`randomi` advance a
 * seed kept in one, `root` and `taylor` write one). A chunk's filter starts
 * them again from 0, so `x=st(0,ld(0)+1)` is a frame counter in disguise.
 * Matched as a call (`name(`), as whole words.
 */
export const STATEFUL_FUNCTIONS: readonly string[] = ['st', 'ld', 'random', 'randomi', 'root', 'taylor'];
const STATEFUL_FUNCTION = new RegExp(`(?<![A-Za-z0-9_.])(${STATEFUL_FUNCTIONS.join('|')})\\s*\\(`);

/**
 * Audio filters that change the audio's length or timing (tempo, rate,
 * trimming, padding, looping, delaying, dropping, reversing): the join
 * checks that each audio stream ends where it ended relative to the video
 * in the source, so these would fail the job after every chunk was encoded.
 */
export const AUDIO_RETIMING_FILTERS: ReadonlySet<string> = new Set([
  'atempo', 'asetpts', 'atrim', 'apad', 'asetrate', 'aloop', 'areverse', 'adelay', 'aselect', 'asegment', 'silenceremove', 'rubberband', 'aresample',
]);

/** Input options that seek, trim or retime the input: the chunks seek themselves and count frames from the source's timestamps. */
const INPUT_REFUSED: ReadonlyMap<string, string> = new Map([
  ['ss', 'seeking and trimming (ss, sseof, t, to) cannot be combined with chunking, which encodes the whole video stream'],
  ['sseof', 'seeking and trimming (ss, sseof, t, to) cannot be combined with chunking, which encodes the whole video stream'],
  ['t', 'seeking and trimming (ss, sseof, t, to) cannot be combined with chunking, which encodes the whole video stream'],
  ['to', 'seeking and trimming (ss, sseof, t, to) cannot be combined with chunking, which encodes the whole video stream'],
  ['itsoffset', 'shifts the input\'s timestamps, which chunking cuts by'],
  ['itsscale', 'scales the input\'s timestamps, which chunking cuts by'],
  ['stream_loop', 'loops the input: its frames are not the stream\'s'],
  ['r', 'forces an input frame rate: the frames would not be timed as the source is'],
  ['framerate', 'forces an input frame rate: the frames would not be timed as the source is'],
  ['accurate_seek', 'chunks rely on accurate seeking'],
  ['noaccurate_seek', 'chunks rely on accurate seeking'],
  ['seek_timestamp', 'changes what -ss means, which chunks rely on'],
]);

/** Options that change timing for the whole command, wherever they are given. */
const GLOBAL_REFUSED: ReadonlyMap<string, string> = new Map([
  ['copyts', 'keeps the input\'s timestamps, which chunks start from 0'],
  ['start_at_zero', 'keeps the input\'s timestamps, which chunks start from 0'],
  ['copytb', 'changes the time base chunks are cut in'],
  ['isync', 'changes how inputs are synchronised'],
  ['shortest', 'may cut the video at another stream\'s end; a chunked encode keeps every frame'],
  ['filter_complex', 'a complex filter graph cannot be split into chunks'],
  ['lavfi', 'a complex filter graph cannot be split into chunks'],
  ['vstats', 'every chunk would write its own statistics file'],
  ['vstats_file', 'every chunk would write its own statistics file'],
  ['output_ts_offset', 'shifts the output\'s timestamps'],
]);

/** Options of the video encode that cannot give the same file in chunks. */
const VIDEO_REFUSED: ReadonlyMap<string, string> = new Map([
  ['pass', 'two-pass encoding cannot be chunked: each chunk would make its own first pass'],
  ['passlogfile', 'two-pass encoding cannot be chunked: each chunk would make its own first pass'],
  ['minrate', 'bitrate-targeted rate control cannot be chunked: each chunk would meet the target on its own; use a quality target (crf, qp, cq)'],
  ['r', 'changes the frame rate: the output\'s frames would not be the source\'s'],
  ['fpsmax', 'changes the frame rate: the output\'s frames would not be the source\'s'],
  ['vsync', 'may drop or repeat frames'],
  ['fps_mode', 'may drop or repeat frames'],
  ['frames', 'limits the frame count; the chunks set their own'],
  ['ss', 'trims the output; chunking encodes the whole video stream'],
  ['sseof', 'trims the output; chunking encodes the whole video stream'],
  ['t', 'trims the output; chunking encodes the whole video stream'],
  ['to', 'trims the output; chunking encodes the whole video stream'],
  ['vn', 'drops the video, so there is nothing to encode in chunks'],
  ['enc_time_base', 'changes the encoder\'s time base: the chunks\' timestamps would not be the source\'s, which the join relies on'],
]);

/** Keys of encoder parameter strings (x264-params...) that chunks cannot honour. */
const PARAM_REFUSED: ReadonlyMap<string, (value: string) => string | undefined> = new Map<string, (value: string) => string | undefined>([
  ['pass', () => 'two-pass encoding cannot be chunked'],
  ['stats', () => 'two-pass statistics cannot be chunked'],
  ['bitrate', () => 'bitrate-targeted rate control cannot be chunked; use a quality target (crf)'],
  ['tbr', () => 'bitrate-targeted rate control cannot be chunked; use a quality target (crf)'],
  ['target-bitrate', () => 'bitrate-targeted rate control cannot be chunked; use a quality target (crf)'],
  ['rc', (v) => (v === '0' ? undefined : 'bitrate-targeted rate control cannot be chunked; use rc=0 with crf')],
  ['end-usage', (v) => (v === 'q' ? undefined : 'bitrate-targeted rate control cannot be chunked; use end-usage=q with cq-level')],
  ['zones', () => 'zones count frames from each chunk\'s start, not the file\'s'],
  ['qpfile', () => 'a qpfile counts frames from each chunk\'s start, not the file\'s'],
]);

/** What the refusals look at. Pure data: the checks run no program and touch no file. */
export interface ChunkingCheck {
  data: FfmpegData & { chunking?: Chunking };
  /** The output maps with their option sets merged (the task's order). */
  maps: readonly ResolvedOutputMap[];
  /** What the output is (see `outputKind`; `url`: a protocol output). */
  kind: FfmpegOutputKind | 'url';
  /** The output's streams in order, once every source is probed (see `mappedOutput`). */
  output?: readonly ProbedStream[];
  /** The source each output stream comes from (same order as `output`). */
  outputSources?: readonly number[];
  /** Sources that are URLs. */
  urls?: ReadonlySet<number>;
  /** The files the options name (`OptionReview.files`). */
  files?: readonly OptionFileRef[];
}

const fail = (field: string, why: string): never => {
  throw new ValidationError(`${field}: ${why}`, { details: { field } });
};

const isZero = (v: FfmpegOptions[string]) => v === 0 || v === '0' || v === false;

/** The entries of an encoder parameter option (object, or `k=v:k=v`). */
function paramEntries(key: string, value: FfmpegOptions[string], field: string): Array<[string, string]> {
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, String(v)]);
  const kv = KV_OPTIONS.get(optionBase(key)) ?? { pairSep: ':', escapes: true };
  return splitKv(String(value), kv, field, optionBase(key)).map((e) => [e.key, e.value]);
}

function checkVideoOption(vo: VideoOption, files: readonly OptionFileRef[]): void {
  const field = optionField(`output_maps[${vo.map}].options`, vo.key);
  const base = optionBase(vo.key);
  const refused = VIDEO_REFUSED.get(vo.canonical) ?? VIDEO_REFUSED.get(base);
  if (refused) fail(field, refused);
  if (vo.canonical === 'b' && !isZero(vo.value)) {
    fail(field, 'bitrate-targeted rate control cannot be chunked: each chunk would meet the target on its own; use a quality target (crf, qp, cq; b: 0 is fine)');
  }
  if (vo.canonical === 'force_key_frames' && vo.value !== 'source') fail(field, 'keyframe times would count from each chunk\'s start; only "source" works with chunking');
  if (vo.canonical === 'threads' && !(Number.isInteger(Number(vo.value)) && Number(vo.value) > 0)) {
    fail(field, `threads ${JSON.stringify(vo.value)} depends on the worker's cores, so chunks would differ by worker; give a fixed count (default 1 per chunk)`);
  }
  if (vo.canonical === 'profile' && vo.shared) fail(field, 'give the video\'s profile in an output map of the video stream (the join copies the video)');
  if (vo.canonical === 'filter') {
    if (vo.shared) fail(field, 'a video filter in a map of several streams; give it in an output map of the video stream');
    let filters;
    try {
      filters = parseFilterGraph(String(vo.value));
    } catch (error) {
      if (error instanceof FilterGraphSyntaxError) return fail(field, `not a filter graph ffmpeg can parse: ${error.message}`);
      throw error;
    }
    for (const f of filters) {
      if (!CHUNK_SAFE_FILTERS.has(f.filter)) {
        fail(field, `filter ${f.filter} may drop, add or retime frames or depend on other frames or on time, so it cannot run in chunks; chunking allows ${[...CHUNK_SAFE_FILTERS].join(', ')}`);
      }
      const timed = f.items.find((item) => item.key !== undefined && TIME_OPTIONS.has(item.key));
      if (timed) fail(field, `${f.filter}'s ${timed.key} depends on the frame's time or number, which restart in every chunk`);
      for (const item of f.items) {
        if (item.key === 'file' || item.key === 'psfile') continue; // a file name, never an expression
        const arg = item.key ?? `argument ${item.position + 1}`;
        const variable = TIME_VARIABLE.exec(item.value)?.[1];
        if (variable) {
          fail(field, `${f.filter}'s ${arg} (${JSON.stringify(item.value)}) uses "${variable}": filter expressions using time or frame number cannot be chunked (each chunk has its own)`);
        }
        const stateful = STATEFUL_FUNCTION.exec(item.value)?.[1];
        if (stateful) {
          fail(field, `${f.filter}'s ${arg} (${JSON.stringify(item.value)}) uses ${stateful}(): filter expressions that keep state from frame to frame (${STATEFUL_FUNCTIONS.join(', ')}) cannot be chunked (each chunk starts it again)`);
        }
      }
    }
  }
  if (KV_OPTIONS.has(base) && !KV_OPTIONS.get(base)!.nestedOptions) {
    for (const [k, v] of paramEntries(vo.key, vo.value, field)) {
      const why = PARAM_REFUSED.get(k)?.(v);
      if (why) fail(optionField(field, k), why);
    }
  }
  const prefix = field;
  const written = files.find((f) => f.access !== 'read' && (f.field === prefix || f.field.startsWith(`${prefix}.`) || f.field.startsWith(`${prefix}[`) || f.field.startsWith(`${prefix}{`)));
  if (written) fail(written.field, `names a file the encoder writes (${written.reason}); every chunk would write its own`);
}

/** Refuse an audio filter that changes the audio's length (see {@link AUDIO_RETIMING_FILTERS}); `aresample` only with its timing options. */
function refuseAudioRetiming(maps: readonly ResolvedOutputMap[], output: readonly ProbedStream[]): void {
  for (const [i, map] of maps.entries()) {
    for (const [key, value] of Object.entries(map.options ?? {})) {
      if (canonicalOption(key) !== 'filter' || value === false) continue;
      if (!optionReach(map, key, output).some((s) => output[s]?.codec_type === 'audio')) continue;
      const field = optionField(`output_maps[${i}].options`, key);
      let filters;
      try {
        filters = parseFilterGraph(String(value));
      } catch (error) {
        if (error instanceof FilterGraphSyntaxError) return fail(field, `not a filter graph ffmpeg can parse: ${error.message}`);
        throw error;
      }
      for (const f of filters) {
        if (!AUDIO_RETIMING_FILTERS.has(f.filter)) continue;
        if (f.filter === 'aresample' && !f.items.some((item) => item.key !== undefined && ARESAMPLE_TIMING.has(item.key))) continue;
        fail(field, `filter ${f.filter} changes the audio's length or timing; a chunked encode keeps every stream's end where it is in the source (the join checks it), so it cannot be used with chunking`);
      }
    }
  }
}

/** aresample options that stretch, squeeze, pad or drop audio to follow timestamps. */
const ARESAMPLE_TIMING = new Set(['async', 'first_pts', 'min_comp', 'min_hard_comp', 'comp_duration', 'max_soft_comp']);

/**
 * Refuse, with one line naming the field, a task whose `chunking` cannot
 * give the file the unchunked encode would (see docs/modules.md, "Chunked
 * encoding"): an output that is not one file, input options that seek,
 * trim or retime, not exactly one video stream, a copied or unnamed video
 * codec, two-pass or bitrate-targeted rate control, frame-rate and
 * frame-count changes, filters outside {@link CHUNK_SAFE_FILTERS}, complex
 * filter graphs, options that write files per encode, a thread count that
 * depends on the machine. Returns the split of the options and the video's
 * output index once the output's streams are known (else undefined).
 */
export function refuseUnchunkable(check: ChunkingCheck): { split: SplitMaps; video: number } | undefined {
  const { data, maps } = check;
  const chunking = data.chunking;
  if (chunking?.min_seconds !== undefined && chunking.min_seconds > chunking.seconds) {
    fail('chunking.min_seconds', `${chunking.min_seconds} is more than chunking.seconds (${chunking.seconds})`);
  }
  // Settings of the scene analysis mean nothing with keyframe cuts: say so rather than ignore them.
  for (const key of ['scene_threshold', 'scene_keyframes'] as const) {
    if (chunking?.cut === 'keyframe' && chunking[key] !== undefined) fail(`chunking.${key}`, 'applies to cut "scene" only (cut is "keyframe")');
  }
  const kinds: Record<string, string> = { null: 'a null output', sequence: 'an image sequence', segments: 'a segmented output (HLS, DASH, segment)', url: 'an output to a URL' };
  if (check.kind !== 'file') fail('output_file', `chunking writes one file; ${kinds[check.kind]} cannot be encoded in chunks`);
  // One picture (image2 without a number pattern): ffmpeg writes a single frame there, or fails on the second.
  const format = outputFormat(check.maps);
  const ext = extname(data.output_file).slice(1).toLowerCase();
  if (format === 'image2' || format === 'image2pipe' || (format === undefined && IMAGE2_EXTENSIONS.has(ext))) {
    fail('output_file', `${basename(data.output_file)} is a single image (${format ?? ext}): chunking encodes the whole video stream into one container file (mkv, mp4, mov, ts, webm...)`);
  }
  // No per-frame times (a raw stream, AVI): the join's copy would take its timing (and a raw stream's parameter sets) from the
  // chunks as it can, and the joined file's timing cannot be read back to verify it.
  const untimed = format !== undefined ? (UNTIMED_MUXERS.has(format) ? format : undefined) : [...UNTIMED_MUXERS].find(([, exts]) => exts.includes(ext))?.[0];
  if (untimed) {
    const what = untimed === 'avi' ? 'AVI keeps no presentation times' : `a raw ${untimed} stream keeps no timestamps`;
    fail('output_file', `${basename(data.output_file)}: ${what}, so a joined file's frame timing could neither be kept exactly nor verified; write Matroska, MP4, MOV, MPEG-TS or WebM`);
  }
  for (const [key, value] of Object.entries(data.input_options ?? {})) {
    const base = optionBase(key);
    const why = INPUT_REFUSED.get(base) ?? GLOBAL_REFUSED.get(base);
    if (why && value !== false) fail(optionField('input_options', key), why);
  }
  for (const [i, map] of maps.entries()) {
    for (const [key, value] of Object.entries(map.options ?? {})) {
      const why = GLOBAL_REFUSED.get(optionBase(key));
      if (why && value !== false) fail(optionField(`output_maps[${i}].options`, key), why);
    }
  }
  const output = check.output;
  if (!output) return undefined;
  const videos = output.flatMap((s, i) => (s.codec_type === 'video' && s.disposition?.attached_pic !== 1 ? [i] : []));
  if (videos.length === 0) fail('source_maps', 'chunking: the source maps give the output no video stream to encode in chunks');
  if (videos.length > 1) fail('source_maps', `chunking: the source maps give the output ${videos.length} video streams; chunked encoding encodes exactly one`);
  const video = videos[0]!;
  const from = check.outputSources?.[video];
  if (from !== undefined && check.urls?.has(from)) fail(`sources[${from}]`, 'chunking: the video comes from a URL; chunks need a file to seek in');
  refuseAudioRetiming(maps, output);
  const split = splitOutputMaps(maps, output, video);
  let codec: VideoOption | undefined;
  for (const vo of split.video) {
    if (vo.value === false) continue;
    if (vo.canonical === 'codec') codec = vo;
    checkVideoOption(vo, check.files ?? []);
  }
  if (!codec) fail('output_maps', 'chunking: the video\'s codec is not set; give it in an output map of the video stream (e.g. options.codec: "libx264"), so every chunk is encoded as the output would be');
  if (String(codec!.value) === 'copy') fail(optionField(`output_maps[${codec!.map}].options`, codec!.key), 'the video is copied, not encoded: there is nothing to encode in chunks');
  return { split, video };
}
