import { optionArgs, optionField, streamSuffix, type ResolvedOutputMap } from '../build-args.js';
import type { FfmpegData } from '../ffmpeg-schema.js';
import { selectStreams, type ProbeResult } from '../probe.js';
import { chunkFileName } from './chunk-encode.js';
import type { ChunkPlan } from './chunk-plan.js';
import { parseTimeBase, ticksToUs } from './packet-scan.js';

/** One stream of the output: which source, which stream of it (absolute index). */
export interface OutputStreamSource {
  source: number;
  stream: number;
  codecType: string;
  attachedPic: boolean;
}

/**
 * The output's streams in order, each with the source stream it comes from:
 * every source map expanded with the probes (an optional map that finds
 * nothing gives nothing), as ffmpeg would map them.
 */
export function expandSourceMaps(data: Pick<FfmpegData, 'source_maps'>, probes: ReadonlyMap<number, ProbeResult>): OutputStreamSource[] {
  const out: OutputStreamSource[] = [];
  for (const map of data.source_maps) {
    const probed = probes.get(map.source);
    if (!probed) throw new Error(`source ${map.source} was not probed`);
    for (const s of selectStreams(probed.streams, map.specifier, map.stream)) {
      out.push({ source: map.source, stream: s.index, codecType: s.codec_type, attachedPic: s.disposition?.attached_pic === 1 });
    }
  }
  return out;
}

/**
 * The concat demuxer's list of the chunks (ffconcat, names relative to the
 * list's own folder, which is the chunk folder: its `safe` mode accepts
 * them). Each chunk's `inpoint` is its first frame's time in its own file
 * (µs, `starts`, as `verifyChunks` read them): the demuxer counts the
 * chunk's timestamps from there (a NUT file of a few frames has no start
 * time of its own, and the demuxer would count from 0). Its `duration` is
 * its exact length on the source's timeline (µs, from the plan): the
 * demuxer starts each chunk where the one before ends by it, so the joined
 * timestamps are the source's.
 */
export function concatList(plan: ChunkPlan, starts: readonly number[]): string {
  const lines = ['ffconcat version 1.0'];
  for (const [i, chunk] of plan.chunks.entries()) {
    const start = starts[i];
    if (start === undefined) throw new Error(`concatList: no start for chunk ${chunk.index}`);
    lines.push(`file ${chunkFileName(chunk.index)}`, `inpoint ${(start / 1e6).toFixed(6)}`, `duration ${(chunk.duration_us / 1e6).toFixed(6)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** What the join needs besides the plan. */
export interface JoinSpec {
  /** The sources as ffmpeg opens them (checked real paths). */
  sources: readonly string[];
  /** The task's input options (they belong to `sources[0]`), after the option review. */
  inputOptions?: FfmpegData['input_options'];
  /** The output's streams in order ({@link expandSourceMaps}). */
  streams: readonly OutputStreamSource[];
  /** Index of the chunked video among `streams`. */
  video: number;
  /** Path of the list written from {@link concatList}. */
  list: string;
  /** The task's maps for the join (`SplitMaps.join`: ends with `codec: copy` for the video). */
  maps: readonly ResolvedOutputMap[];
  output: string;
  overwrite: boolean;
}

/**
 * Where the video's first frame sits on the output's timeline, in seconds:
 * ffmpeg starts every input at its own start time, so in the unchunked
 * encode the video's first frame is (its pts - its file's start time) after
 * 0, e.g. after an audio stream that starts earlier. The chunks start at 0;
 * `-itsoffset` puts them back.
 */
export function videoOffsetSeconds(plan: ChunkPlan): number {
  const tb = parseTimeBase(plan.time_base) ?? [1, 1];
  return Math.max(0, Math.round(ticksToUs(plan.first_pts, tb) - plan.start_us)) / 1e6;
}

/**
 * The join's ffmpeg argv (without the program and the progress flags):
 * the sources first, as in the task (so global metadata and chapters come
 * from `sources[0]` as before, and input options stay with it), then the
 * chunks through the concat demuxer, read as they are (`-auto_convert 0`:
 * no H.264 Annex B conversion, which would put parameter sets into every
 * keyframe). The output's streams in the task's order, the video from the
 * chunks, copied; every other stream from its source, with the task's
 * options (audio is encoded once, here).
 *
 * Why the concat demuxer and not mkvmerge's append: the output container
 * is whatever the task's output_file is (MP4, MOV, MKV, WebM...), not only
 * Matroska; it takes exact per-chunk durations so timestamps come out as
 * the source's; and the audio can be encoded in the same pass.
 */
export function joinArgs(plan: ChunkPlan, spec: JoinSpec): string[] {
  const args: string[] = [spec.overwrite ? '-y' : '-n'];
  for (const [key, value] of Object.entries(spec.inputOptions ?? {})) args.push(...optionArgs(key, '', value, optionField('input_options', key)));
  for (const source of spec.sources) args.push('-i', source);
  const offset = videoOffsetSeconds(plan);
  args.push('-f', 'concat', '-safe', '1', '-auto_convert', '0', ...(offset > 0 ? ['-itsoffset', offset.toFixed(6)] : []), '-i', spec.list);
  const chunks = spec.sources.length;
  for (const [i, s] of spec.streams.entries()) args.push('-map', i === spec.video ? `${chunks}:0` : `${s.source}:${s.stream}`);
  for (const [i, map] of spec.maps.entries()) {
    const suffix = streamSuffix(map);
    for (const [key, value] of Object.entries(map.options ?? {})) args.push(...optionArgs(key, suffix, value, optionField(`output_maps[${i}].options`, key)));
  }
  args.push(spec.output);
  return args;
}
