import { basename, join } from 'node:path';
import { ErrorCodes, ProcessError, RunError, type ProcessRunner } from '@sisyphus/core';
import { readChunkPackets, type ChunkPackets } from './chunk-packets.js';
import { CHUNK_FORMAT, chunkFileName } from './chunk-encode.js';
import type { OutputStreamSource } from './chunk-join.js';
import type { ChunkPlan, PlannedChunk } from './chunk-plan.js';
import { scanPackets, ticksToUs, type PacketScan, type ScannedStream } from './packet-scan.js';
import { CHUNK_TS_OFFSET_US } from './seek-point.js';

const unverified = (message: string, details: Record<string, unknown>) =>
  new RunError(message, { code: ErrorCodes.OUTPUT_UNVERIFIED, details: { field: 'output_file', ...details } });

const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
const describe = (chunk: PlannedChunk) => `chunk ${chunk.index} (frames ${chunk.start_frame}-${chunk.start_frame + chunk.frames - 1})`;

/** Slack for container timestamp rounding on top of "one frame": Matroska's 1 ms ticks. */
const ROUNDING_US = 1000;

/**
 * Check every chunk file before the join: it exists, holds exactly its
 * planned frame count, starts with a keyframe, and starts at its first
 * frame's time (a chunk keeps the source's timestamps plus
 * `CHUNK_TS_OFFSET_US`: a seek that landed elsewhere shows). The packets
 * of all chunks are read by one ffmpeg (`readChunkPackets`); when that
 * fails, each file is read alone with ffprobe to name the one at fault.
 * Returns each chunk's first frame's time in its own file (µs), for
 * `concatList`. Throws a RunError `SIS_OUTPUT_UNVERIFIED` naming the chunk.
 */
export async function verifyChunks(runner: ProcessRunner, ffmpeg: string, ffprobe: string, folder: string, plan: ChunkPlan): Promise<number[]> {
  const files = plan.chunks.map((chunk) => join(folder, chunkFileName(chunk.index)));
  let read: ChunkPackets[];
  try {
    read = await readChunkPackets(runner, ffmpeg, files);
  } catch (error) {
    if (error instanceof ProcessError && (error.isCanceled || error.timedOut)) throw error;
    read = [];
    for (const [i, chunk] of plan.chunks.entries()) read.push(await readAlone(runner, ffprobe, files[i]!, chunk));
  }
  const starts: number[] = [];
  for (const [i, chunk] of plan.chunks.entries()) {
    const file = files[i]!;
    const { packets: got, firstPts, firstKey, timeBase } = read[i]!;
    if (got !== chunk.frames) throw unverified(`chunking: ${describe(chunk)} holds ${got} frames, not ${chunk.frames} (${basename(file)})`, { chunk: chunk.index, frames: got, expected: chunk.frames });
    if (firstPts === undefined || !firstKey) throw unverified(`chunking: ${describe(chunk)} does not start with a keyframe (${basename(file)})`, { chunk: chunk.index });
    starts.push(Math.round(ticksToUs(firstPts, timeBase)));
    const startUs = ticksToUs(firstPts, timeBase) - CHUNK_TS_OFFSET_US;
    const plannedUs = chunk.start_pts_time * 1e6;
    if (Math.abs(startUs - plannedUs) > plan.frame_us / 2) {
      throw unverified(`chunking: ${describe(chunk)} starts at ${(startUs / 1e6).toFixed(3)} s of the source, not at its first frame's ${chunk.start_pts_time.toFixed(3)} s (${basename(file)})`, {
        chunk: chunk.index,
        startUs,
        plannedUs,
      });
    }
  }
  return starts;
}

/** One chunk file's {@link ChunkPackets} by its own ffprobe scan; a file that cannot be read is named. */
async function readAlone(runner: ProcessRunner, ffprobe: string, file: string, chunk: PlannedChunk): Promise<ChunkPackets> {
  let scan: PacketScan;
  try {
    scan = await scanPackets(runner, ffprobe, file, 'run', CHUNK_FORMAT);
  } catch (error) {
    throw unverified(`chunking: ${describe(chunk)} cannot be read (${basename(file)}): ${(error as Error).message}`, { chunk: chunk.index, path: file });
  }
  const video = [...scan.streams.values()].find((s) => s.codecType === 'video');
  if (!video?.pts?.length) return { packets: video?.packets ?? 0, timeBase: video?.timeBase ?? [1, 1], firstKey: false };
  return { packets: video.packets, timeBase: video.timeBase, firstPts: video.pts[0]!, firstKey: video.keyframes?.includes(0) ?? false };
}

/** What the joined file must be, from the plan and the source. */
export interface JoinExpectation {
  /** Output index of the video. */
  video: number;
  /**
   * For each other stream whose end is checked (audio): its output index,
   * and how far its end is from the video's end in the source, in µs
   * (positive: it ends later). The joined file must keep that distance.
   */
  ends: ReadonlyArray<{ index: number; deltaUs: number }>;
}

/**
 * The `ends` of a {@link JoinExpectation}: for every audio stream of the
 * output, how far its end was from the video's end in the sources, on
 * ffmpeg's timeline (each input counted from its own start time, as ffmpeg
 * reads it). `streams` are the output's streams ({@link expandSourceMaps}),
 * `scans` the packet scans of the sources they come from, by source index.
 */
export function sourceEnds(streams: readonly OutputStreamSource[], video: number, scans: ReadonlyMap<number, PacketScan>): JoinExpectation['ends'] {
  const from = streams[video]!;
  const scan = scans.get(from.source);
  const v = scan?.streams.get(from.stream);
  if (!scan || !v?.pts?.length) return [];
  const videoEnd = ticksToUs(v.pts.at(-1)! + (v.lastDuration ?? 0), v.timeBase) - scan.startUs;
  const ends: Array<{ index: number; deltaUs: number }> = [];
  for (const [i, s] of streams.entries()) {
    if (s.codecType !== 'audio') continue;
    const other = scans.get(s.source);
    const end = other?.streams.get(s.stream)?.endUs;
    if (other && end !== undefined) ends.push({ index: i, deltaUs: end - other.startUs - videoEnd });
  }
  return ends;
}

/** End of a stream's last frame, in µs, from its first frame. */
function span(video: ScannedStream & { pts: number[] }, frameUs: number): number {
  const pts = video.pts;
  const last = video.lastDuration ? ticksToUs(video.lastDuration, video.timeBase) : frameUs;
  return ticksToUs(pts.at(-1)! - pts[0]!, video.timeBase) + last;
}

/**
 * Check the joined file before it is promoted: the video holds exactly the
 * source's frame count; its timestamps strictly increase (dts in decode
 * order, no two frames at one pts); it lasts as long as the source's video
 * within one frame; each checked stream (audio) ends where it ended
 * relative to the video in the source, within one frame (in the usual
 * source, where they end together: audio and video end within one frame of
 * each other). A demux, no decoding. Throws a RunError
 * `SIS_OUTPUT_UNVERIFIED` naming the fault.
 */
export async function verifyJoin(runner: ProcessRunner, ffprobe: string, file: string, plan: ChunkPlan, expect: JoinExpectation): Promise<void> {
  const name = basename(file);
  let scan: PacketScan;
  try {
    scan = await scanPackets(runner, ffprobe, file, 'run');
  } catch (error) {
    throw unverified(`output_file: the joined file (${name}) cannot be read: ${(error as Error).message}; not promoted`, { path: file });
  }
  const video = scan.streams.get(expect.video);
  if (!video || video.codecType !== 'video' || !video.pts) throw unverified(`output_file: the joined file (${name}) has no video stream at index ${expect.video}; not promoted`, { path: file });
  const withPts = video as ScannedStream & { pts: number[] };
  if (video.packets !== plan.total_frames) {
    throw unverified(`output_file: the joined file holds ${video.packets} video frames but the source has ${plan.total_frames}; not promoted`, { path: file, frames: video.packets, expected: plan.total_frames });
  }
  if (video.missingPts) throw unverified(`output_file: ${video.missingPts} video frames of the joined file have no timestamp; not promoted`, { path: file });
  if (video.dtsNotIncreasing || video.duplicatePts) {
    throw unverified(`output_file: the joined file's video timestamps do not strictly increase (${video.dtsNotIncreasing} packets not after the one before, ${video.duplicatePts} frames sharing a time); not promoted`, { path: file });
  }
  const frameUs = plan.frame_us;
  const duration = span(withPts, frameUs);
  if (Math.abs(duration - plan.duration_us) > frameUs + ROUNDING_US) {
    throw unverified(`output_file: the joined video lasts ${ms(duration)} but the source's ${ms(plan.duration_us)} (more than one frame apart); not promoted`, { path: file, durationUs: duration, expectedUs: plan.duration_us });
  }
  const videoEnd = ticksToUs(video.pts.at(-1)!, video.timeBase) + (video.lastDuration ? ticksToUs(video.lastDuration, video.timeBase) : frameUs);
  for (const { index, deltaUs } of expect.ends) {
    const stream = scan.streams.get(index);
    if (stream?.endUs === undefined) throw unverified(`output_file: stream ${index} of the joined file has no packets; not promoted`, { path: file, stream: index });
    const delta = stream.endUs - videoEnd;
    if (Math.abs(delta - deltaUs) > frameUs + ROUNDING_US) {
      const where = (d: number) => (Math.abs(d) < 500 ? 'with the video' : `${ms(Math.abs(d))} ${d > 0 ? 'after' : 'before'} the video`);
      throw unverified(`output_file: stream ${index} (${stream.codecType}) of the joined file ends ${where(delta)}, in the source ${where(deltaUs)}: more than one frame apart; not promoted`, {
        path: file,
        stream: index,
        deltaUs: delta,
        expectedUs: deltaUs,
      });
    }
  }
}
