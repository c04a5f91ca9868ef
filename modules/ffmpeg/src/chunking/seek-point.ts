import type { TimeBase } from './packet-scan.js';

/**
 * How far before the keyframe ahead of a cut the input seek aims in a file
 * without an index (MPEG-TS, MPEG-PS...): more than any B-frame reordering,
 * so a seek by timestamp search lands before that keyframe.
 */
export const PREROLL_US = 3_000_000;

/** Demuxers that seek with an index to a keyframe at or before the target (ffprobe's `format_name`): no preroll needed. */
const INDEXED_FORMATS = new Set(['matroska,webm', 'mov,mp4,m4a,3gp,3g2,mj2', 'nut', 'avi', 'flv']);

/** The preroll for a file of `formatName` (see {@link PREROLL_US}). */
export const prerollFor = (formatName: string | undefined) => (formatName !== undefined && INDEXED_FORMATS.has(formatName) ? 0 : PREROLL_US);

/**
 * Added to a chunk's timestamps (µs): each chunk keeps the source's own
 * times plus this, so `verifyChunks` can tell which frame it starts with;
 * large enough that no decode delay makes a timestamp negative (which the
 * muxer would shift, hiding the start). The join re-times every chunk.
 */
export const CHUNK_TS_OFFSET_US = 10_000_000;

/**
 * How one ffmpeg run starts exactly at a frame (seconds, 6 decimals). Used
 * with `-copyts`, so every timestamp is the source's own:
 * - `input` (`-ss` before `-i`): a seek to the last keyframe strictly
 *   before the frame (less the preroll of files without an index, see
 *   {@link PREROLL_US}), counted from the file's start as ffmpeg counts it;
 *   absent when there is no such keyframe (decode from the start). The
 *   demuxer lands at or before it, the decoder starts at a keyframe at or
 *   before that keyframe, so the frame and the frames it refers to (an
 *   open GOP's included) decode right. Even a cut at a keyframe starts one
 *   keyframe earlier: a container's keyframe flag does not promise a clean
 *   start (an intra-refresh stream flags its recovery points, from which
 *   ffmpeg's decoder drops the frames until the picture is whole).
 * - `output` (`-ss` after `-i`): the frame's own time minus 1 µs, on the
 *   source's timeline: ffmpeg drops every frame before it (an exact
 *   comparison of timestamps, after decoding) and starts the output's
 *   timestamps there, so the frame is at 0. Absent for a frame at or before 0 (nothing to drop).
 *   (A margin of half a frame would put the first frame half a frame after
 *   0, where the encoder's rounding to its 1/fps time base goes either
 *   way.)
 * - `offset` (`-output_ts_offset`): puts the output back on the source's
 *   timeline, plus {@link CHUNK_TS_OFFSET_US}.
 */
export interface FrameSeek {
  input?: string;
  output?: string;
  offset: string;
}

/** floor(ticks × tb) in µs, exact. */
export function ticksToWholeUs(ticks: number, tb: TimeBase): bigint {
  const numerator = BigInt(ticks) * BigInt(tb[0]) * 1_000_000n;
  const den = BigInt(tb[1]);
  let us = numerator / den;
  if (numerator % den !== 0n && numerator < 0n) us -= 1n;
  return us;
}

/** `12.345678` from µs. */
export function secondsText(us: bigint): string {
  const sign = us < 0n ? '-' : '';
  const abs = us < 0n ? -us : us;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

/**
 * The {@link FrameSeek} that starts at display frame `frame` of a video
 * stream (sorted pts in ticks of `tb`, keyframe display indices) in a file
 * whose start time is `startUs`, with `prerollUs` (see {@link prerollFor}).
 * Exact (BigInt) arithmetic.
 */
export function frameSeek(pts: readonly number[], keyframes: readonly number[], tb: TimeBase, startUs: number, frame: number, prerollUs = PREROLL_US): FrameSeek {
  let key = -1;
  for (const k of keyframes) if (k < frame && k > key) key = k;
  const seek: FrameSeek = { offset: secondsText(BigInt(CHUNK_TS_OFFSET_US)) };
  if (key >= 0) {
    const input = ticksToWholeUs(pts[key]!, tb) - BigInt(Math.round(startUs)) - BigInt(prerollUs);
    if (input > 0n) seek.input = secondsText(input);
  }
  const output = ticksToWholeUs(pts[frame]!, tb) - 1n;
  if (output >= 0n) {
    seek.output = secondsText(output);
    seek.offset = secondsText(output + BigInt(CHUNK_TS_OFFSET_US));
  }
  return seek;
}
