import { ValidationError } from '@sisyphus/core';
import { describeStreams, selectStreams, type ProbeResult, type ProbedStream } from './probe.js';
import { mapSpec, streamSuffix, type ResolvedOutputMap } from './build-args.js';
import type { FfmpegData, FfmpegOptions } from './ffmpeg-schema.js';

/**
 * Check the source maps against what ffprobe found. A non-optional map that
 * selects nothing is a ValidationError listing the streams the file has.
 * Returns the output's streams in order when every source was probed.
 */
export function checkSourceMaps(data: FfmpegData, probes: ReadonlyMap<number, ProbeResult>): ProbedStream[] | undefined {
  const mapped: ProbedStream[] = [];
  let complete = true;
  for (const [i, map] of data.source_maps.entries()) {
    const probed = probes.get(map.source);
    if (!probed) {
      complete = false;
      continue;
    }
    const hits = selectStreams(probed.streams, map.specifier, map.stream);
    if (!hits.length && !map.optional) {
      throw new ValidationError(
        `source_maps[${i}] (${mapSpec(map)}) matches no stream: ${data.sources[map.source]} has ${describeStreams(probed.streams)}`,
        { details: { field: `source_maps[${i}]`, streams: probed.streams.map((s) => ({ index: s.index, type: s.codec_type, codec: s.codec_name })) } },
      );
    }
    mapped.push(...hits);
  }
  return complete ? mapped : undefined;
}

/** Check that each output map addresses a stream the output will have (known only when every source was probed). */
export function checkOutputMaps(maps: readonly ResolvedOutputMap[], output: readonly ProbedStream[]): void {
  for (const [i, map] of maps.entries()) {
    if (map.stream === undefined) continue;
    if (!selectStreams(output.map((s, index) => ({ ...s, index })), map.specifier, map.stream).length) {
      throw new ValidationError(
        `output_maps[${i}] (${streamSuffix(map).slice(1)}) addresses no stream: the source maps give the output ${describeStreams(output)}`,
      );
    }
  }
}

/** Seconds of `0:10:00`, `01:02:03.5`, `90`, `1.5s`, `1500ms`, `250000us`; undefined when unparsable. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  const unit = /^(-?\d+(?:\.\d+)?)(s|ms|us)$/.exec(v);
  if (unit) return Number(unit[1]) / (unit[2] === 'ms' ? 1000 : unit[2] === 'us' ? 1e6 : 1);
  const clock = /^(-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(v);
  if (clock) return (clock[1] ? -1 : 1) * (Number(clock[2] ?? 0) * 3600 + Number(clock[3]) * 60 + Number(clock[4]));
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
}

/**
 * What an encode is expected to produce, for progress (see {@link expectedOutput}).
 * Every field may be unknown: a source without a known duration gives no `seconds`.
 */
export interface OutputTotals {
  /** Expected duration of the output in seconds (its `out_time` at the end). */
  seconds?: number;
  /** Expected frames of the first video output stream: a frame limit, or duration × frame rate. */
  frames?: number;
  /** The output ends at a frame limit (`frames`, `frames:v`, `vframes`): percent is frames done / `frames`. */
  byFrames?: boolean;
}

/**
 * The value of the first of `keys` set on an output map that addresses every
 * stream (no specifier, no stream) or, with `video`, the first video stream
 * (`v`/`V`, stream 0 or none); a later map wins, as ffmpeg takes the last one.
 */
function outputOption(maps: readonly Pick<ResolvedOutputMap, 'specifier' | 'stream' | 'options'>[], keys: readonly string[], video = false): FfmpegOptions[string] | undefined {
  let found: FfmpegOptions[string] | undefined;
  for (const map of maps) {
    const everyStream = map.specifier === undefined && map.stream === undefined;
    const firstVideo = video && (map.specifier === 'v' || map.specifier === 'V') && (map.stream === undefined || map.stream === 0);
    if (!everyStream && !firstVideo) continue;
    for (const key of keys) if (map.options?.[key] !== undefined && map.options[key] !== false) found = map.options[key];
  }
  return found;
}

const NAMED_RATES: Record<string, number> = { ntsc: 30000 / 1001, pal: 25, film: 24, 'ntsc-film': 24000 / 1001, qntsc: 30000 / 1001, qpal: 25 };

/** Frames per second of `24`, `23.976`, `24000/1001`, `ntsc`; undefined for `0/0` and nonsense. */
export function parseFrameRate(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 0 && Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  const ratio = /^(\d+(?:\.\d+)?)(?:[/:](\d+(?:\.\d+)?))?$/.exec(v);
  const rate = ratio ? Number(ratio[1]) / Number(ratio[2] ?? 1) : NAMED_RATES[v];
  return rate !== undefined && Number.isFinite(rate) && rate > 0 ? rate : undefined;
}

/** Seconds one probed stream lasts: its own duration, Matroska's DURATION tag, else the file's. */
function streamSeconds(stream: ProbedStream, probed: ProbeResult): number | undefined {
  for (const candidate of [stream.duration, stream.tags?.DURATION, stream.tags?.duration, probed.format.duration]) {
    const seconds = parseTime(candidate);
    if (seconds !== undefined && Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return undefined;
}

/**
 * How much of an input of `length` seconds (undefined: unknown) is read
 * with the input options `ss`, `sseof`, `t`, `to` (ffmpeg applies them to
 * the first input only: they stand before its `-i`).
 */
function inputLength(length: number | undefined, options: FfmpegData['input_options']): number | undefined {
  const opts = options ?? {};
  const ss = parseTime(opts.ss);
  const sseof = parseTime(opts.sseof);
  const t = parseTime(opts.t);
  const to = parseTime(opts.to);
  let start: number | undefined = Math.max(0, ss ?? 0);
  let read: number | undefined;
  if (sseof !== undefined) {
    start = length !== undefined ? Math.max(0, length + sseof) : undefined;
    read = length !== undefined ? length - start! : Math.max(0, -sseof);
  } else if (length !== undefined) read = Math.max(0, length - start);
  // ffmpeg takes -t over -to when both are given.
  const limit = t !== undefined ? t : to !== undefined && start !== undefined ? to - start : undefined;
  if (limit !== undefined) read = read === undefined ? limit : Math.min(read, limit);
  return read;
}

/** How much of `length` seconds of mapped input the output keeps with the output options `ss`, `t`, `to`. */
function outputLength(length: number | undefined, maps: readonly ResolvedOutputMap[]): number | undefined {
  const ss = Math.max(0, parseTime(outputOption(maps, ['ss'])) ?? 0);
  const t = parseTime(outputOption(maps, ['t']));
  const to = parseTime(outputOption(maps, ['to']));
  let end = length;
  const stop = t !== undefined ? ss + t : to;
  if (stop !== undefined) end = end === undefined ? stop : Math.min(end, stop);
  return end !== undefined ? end - ss : undefined;
}

const positive = (n: number | undefined) => (n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined);

/**
 * The output an encode is expected to produce, for honest progress:
 * its duration from the mapped streams of the probed sources, trimmed by
 * the input options `ss`, `sseof`, `t`, `to` (first source) and the output
 * options `ss`, `t`, `to`, `shortest` (output maps without specifier and
 * stream); its frame count from a frame limit (`frames`/`vframes`, or
 * `frames` of a `v` map) or duration × frame rate (`r`, else the first
 * mapped video stream's, unless a filter may change it). With `copyts` and
 * a trim, only a frame limit gives them. Pass the output maps with their
 * option sets merged; `data.output_maps` is the default.
 */
export function expectedOutput(
  data: FfmpegData,
  probes: ReadonlyMap<number, ProbeResult>,
  outputMaps: readonly ResolvedOutputMap[] = data.output_maps ?? [],
): OutputTotals {
  const lengths: (number | undefined)[] = [];
  let video: { seconds?: number; fps?: number; nbFrames?: number } | undefined;
  for (const map of data.source_maps) {
    const probed = probes.get(map.source);
    if (!probed) return {};
    for (const stream of selectStreams(probed.streams, map.specifier, map.stream)) {
      if (stream.codec_type === 'attachment' || stream.disposition?.attached_pic) continue;
      const seconds = streamSeconds(stream, probed);
      const read = map.source === 0 ? inputLength(seconds, data.input_options) : seconds;
      lengths.push(read);
      if (stream.codec_type === 'video' && !video) {
        video = { seconds: read, fps: parseFrameRate(stream.avg_frame_rate), nbFrames: positive(Number(stream.nb_frames)) };
      }
    }
  }
  const shortest = outputOption(outputMaps, ['shortest']) !== undefined;
  const known = lengths.filter((l): l is number => l !== undefined);
  // Without -shortest the output lasts as long as its longest stream: one unknown length makes it unknown.
  const mapped = shortest ? (known.length ? Math.min(...known) : undefined) : known.length && known.length === lengths.length ? Math.max(...known) : undefined;
  // With copyts an output ss/t/to count on the input's own timeline, not from the output's start: trims are not modelled
  // then, and only a frame limit gives the total (as in a chunk's encode: copyts, input and output ss, frames).
  const copyts = data.input_options?.copyts !== undefined && data.input_options.copyts !== false;
  const trimmed = [data.input_options?.ss, data.input_options?.sseof, data.input_options?.t, data.input_options?.to, outputOption(outputMaps, ['ss']), outputOption(outputMaps, ['t']), outputOption(outputMaps, ['to'])].some((v) => v !== undefined);
  const unmodelled = copyts && trimmed;
  let seconds = unmodelled ? undefined : positive(outputLength(mapped, outputMaps));
  if (!video) return seconds !== undefined ? { seconds } : {};

  const filtered = outputOption(outputMaps, ['vf', 'filter', 'filter_complex', 'filter_complex_script', 'filter_script', 'lavfi'], true) !== undefined;
  const rate = outputOption(outputMaps, ['r'], true);
  const fps = rate !== undefined ? parseFrameRate(rate) : filtered ? undefined : video.fps;
  const videoSeconds = positive(outputLength(shortest ? mapped : video.seconds, outputMaps));
  const untouched = rate === undefined && !filtered && !data.input_options?.ss && !data.input_options?.sseof && !data.input_options?.t && !data.input_options?.to && videoSeconds === video.seconds;
  let frames = unmodelled ? undefined : untouched && video.nbFrames ? video.nbFrames : fps !== undefined && videoSeconds !== undefined ? Math.round(videoSeconds * fps) : undefined;

  const limit = positive(Math.floor(Number(outputOption(outputMaps, ['frames', 'vframes'], true))));
  if (limit === undefined || (frames !== undefined && frames < limit)) return { ...(seconds !== undefined ? { seconds } : {}), ...(frames !== undefined ? { frames } : {}) };
  // The frame limit ends the output (ffmpeg then closes all its streams).
  frames = limit;
  if (fps !== undefined) seconds = Math.min(seconds ?? Infinity, limit / fps);
  return { ...(seconds !== undefined ? { seconds } : {}), frames, byFrames: true };
}

/** Expected output duration in seconds (see {@link expectedOutput}). */
export function expectedDuration(data: FfmpegData, probes: ReadonlyMap<number, ProbeResult>, outputMaps?: readonly ResolvedOutputMap[]): number | undefined {
  return expectedOutput(data, probes, outputMaps).seconds;
}

/** Expected frames of the first video output stream (see {@link expectedOutput}). */
export function expectedFrames(data: FfmpegData, probes: ReadonlyMap<number, ProbeResult>, outputMaps?: readonly ResolvedOutputMap[]): number | undefined {
  return expectedOutput(data, probes, outputMaps).frames;
}
