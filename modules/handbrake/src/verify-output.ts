import { basename } from 'node:path';
import { ErrorCodes, RunError, type ProcessRunner } from '@sisyphus/core';
import type { EncodeRange, ExpectedTracks } from './handbrake-args.js';
import { describeStreams, probe, type Probed } from './probe.js';

/** What the encode should have produced. */
export interface ExpectedEncode extends Omit<ExpectedTracks, 'audioTracks' | 'subtitleTracks'> {
  /** Seconds the video should last, when the source and the options tell. */
  seconds?: number;
  /** Frame rate of the source, for the tolerance. */
  fps?: number;
}

/** Seconds of the source that `range` encodes, when known. */
export function expectedSeconds(range: EncodeRange, source: Probed | undefined): number | undefined {
  if (range.partial || !source) return undefined;
  const video = source.streams.find((s) => s.type === 'video');
  const total = video?.seconds ?? source.seconds;
  if (total === undefined) return undefined;
  const toSeconds = (n: number | undefined) => {
    if (n === undefined) return 0;
    if (range.unit === 'frames') return source.fps ? n / source.fps : Number.NaN;
    if (range.unit === 'pts') return n / 90_000;
    return n;
  };
  const start = toSeconds(range.start);
  let seconds = Math.max(0, total - start);
  if (range.stop !== undefined) seconds = Math.min(seconds, toSeconds(range.stop));
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** How far the video's length may be from the expected one: half a second or three frames, plus 1 %. */
export function durationTolerance(expected: number, fps?: number): number {
  return Math.max(0.5, fps ? 3 / fps : 0) + expected * 0.01;
}

const unverified = (message: string, details: Record<string, unknown>) =>
  new RunError(message, { code: ErrorCodes.OUTPUT_UNVERIFIED, details: { field: 'output_file', ...details } });

/**
 * Check an encode before it is promoted: ffprobe must read it; it holds one
 * video stream, of the encoder's codec; as many audio and subtitle tracks
 * as the options ask for (when they make that certain); and its video
 * lasts more than 0 s and, when the source and `start_at`/`stop_at` tell,
 * as long as expected. `said` is what HandBrake printed that may explain a
 * difference (a track it skipped), added to the message.
 */
export async function verifyEncode(runner: ProcessRunner, ffprobe: string, file: string, expected: ExpectedEncode, said: readonly string[] = []): Promise<Probed> {
  const why = said.length ? ` (HandBrakeCLI said: ${said.join('; ')})` : '';
  const name = basename(file);
  let found: Probed;
  try {
    found = await probe(runner, ffprobe, file);
  } catch (error) {
    const detail = (error as { stderrTail?: string[] }).stderrTail?.join('; ') || (error as Error).message;
    throw unverified(`output_file: the encode (${name}) cannot be read back: ${detail}; not promoted`, { path: file });
  }
  const count = (type: string) => found.streams.filter((s) => s.type === type).length;
  const videos = found.streams.filter((s) => s.type === 'video');
  if (videos.length !== 1) throw unverified(`output_file: the encode (${name}) holds ${describeStreams(found.streams, 'video')} instead of one video stream; not promoted${why}`, { path: file });
  const video = videos[0]!;
  if (expected.videoCodec && video.codec !== expected.videoCodec) {
    throw unverified(`output_file: the encode's video is ${video.codec}, not ${expected.videoCodec} as the encoder writes; not promoted${why}`, { path: file });
  }
  for (const [type, want] of [['audio', expected.audio], ['subtitle', expected.subtitles]] as const) {
    if (want === undefined || count(type) === want) continue;
    throw unverified(`output_file: the encode holds ${describeStreams(found.streams, type)} instead of ${want} ${type} track${want === 1 ? '' : 's'}; not promoted${why}`, { path: file });
  }
  const seconds = video.seconds ?? found.seconds;
  if (!seconds) throw unverified(`output_file: the encode's video has no duration (nothing was encoded); not promoted${why}`, { path: file });
  if (expected.seconds !== undefined) {
    const tolerance = durationTolerance(expected.seconds, expected.fps);
    if (Math.abs(seconds - expected.seconds) > tolerance) {
      throw unverified(`output_file: the encode's video lasts ${seconds.toFixed(3)} s instead of ${expected.seconds.toFixed(3)} s; not promoted${why}`, { path: file, seconds, expected: expected.seconds });
    }
  }
  return found;
}
