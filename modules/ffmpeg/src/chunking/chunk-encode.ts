import { join } from 'node:path';
import { buildFfmpegArgs, type ResolvedOutputMap } from '../build-args.js';
import type { FfmpegData } from '../ffmpeg-schema.js';
import type { PlannedChunk } from './chunk-plan.js';

/**
 * The chunk files' container: NUT, ffmpeg's own. It keeps every packet's
 * timestamp exactly (its time base is a multiple of the encoder's: Matroska
 * would round to 1 ms, which the join would copy into an MP4 output), keeps
 * B-frame timing (pts and dts), holds any codec, and the concat demuxer
 * reads it back without edit lists or in-band parameter sets.
 */
export const CHUNK_EXTENSION = 'nut';

/** ffmpeg's name of that format: chunk files are read as it and nothing else (`-f nut`), so a file put in a chunk's place cannot make ffmpeg open others (a playlist). */
export const CHUNK_FORMAT = 'nut';

/** Encoder threads per chunk when the task sets none: a fixed count, so every worker encodes a chunk to the same bytes. */
export const DEFAULT_CHUNK_THREADS = 1;

/** `chunk-00003.nut` */
export const chunkFileName = (index: number) => `chunk-${String(index).padStart(5, '0')}.${CHUNK_EXTENSION}`;

/** What every chunk of one task shares. */
export interface ChunkEncodeSpec {
  /** The source as the job names it (each child checks it against its own worker's roots), and the video stream's absolute index in it. */
  source: string;
  stream: number;
  /** The task's input options when the video comes from `sources[0]` (input options belong to the first input). */
  inputOptions?: FfmpegData['input_options'];
  /** The video's options, addressed to the chunk's only stream (`SplitMaps.chunk`). */
  maps: ResolvedOutputMap[];
}

/**
 * The data of the ordinary `ffmpeg` task that encodes one chunk into
 * `folder`: with the source's own timestamps (`copyts`), a seek to the
 * keyframe it decodes from (`input_options.ss` with `noaccurate_seek`), exactly from
 * its first frame (output `ss`) and exactly `frames` frames (`frames:v:0`),
 * on the source's timeline (`output_ts_offset`; see `frameSeek`); only the
 * video stream, the task's video options, a fixed thread count unless the
 * options set one; into `chunk-NNNNN.nut`. A fresh encode starts with a
 * keyframe. The child job is checked and run like any ffmpeg task (paths,
 * options).
 */
export function chunkTaskData(spec: ChunkEncodeSpec, chunk: PlannedChunk, folder: string): FfmpegData {
  const setsThreads = spec.maps.some((m) => Object.keys(m.options ?? {}).some((k) => k === 'threads'));
  const { seek } = chunk;
  const timing: ResolvedOutputMap = { options: { ...(seek.output !== undefined ? { ss: seek.output } : {}), output_ts_offset: seek.offset } };
  const video: ResolvedOutputMap = { specifier: 'v', stream: 0, options: { frames: chunk.frames, ...(setsThreads ? {} : { threads: DEFAULT_CHUNK_THREADS }) } };
  const input = { ...(spec.inputOptions ?? {}), copyts: true, ...(seek.input !== undefined ? { noaccurate_seek: true, ss: seek.input } : {}) };
  return {
    input_options: input,
    sources: [spec.source],
    source_maps: [{ source: 0, stream: spec.stream }],
    output_maps: [...spec.maps, timing, video],
    output_file: join(folder, chunkFileName(chunk.index)),
    overwrite: true,
  };
}

/** The ffmpeg argv (program first) of a chunk's encode, as the ffmpeg task builds it (without its progress flags), writing `outputFile`. */
export function chunkArgs(ffmpeg: string, data: FfmpegData, outputFile = data.output_file): string[] {
  return [ffmpeg, ...buildFfmpegArgs(data, data.output_maps ?? [], outputFile)];
}
