import type { PacketScan, TimeBase } from './packet-scan.js';

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
 * How much earlier than asked ffmpeg's input `-ss` may aim (µs): in a
 * format without `AVFMT_SEEK_TO_PTS` whose file has a stream with a
 * decoding delay (B-frames), fftools subtracts 3/23 s from the seek target
 * (its "dts heuristic", `3*AV_TIME_BASE/23`), so a seek to a keyframe's own
 * time lands one keyframe earlier and decodes a whole GOP more. Matroska is
 * such a format and its index is by pts, so the seek aims up to this much
 * after the keyframe (see `frameSeek`); MP4/MOV seek by pts as asked.
 */
export const SEEK_BACKOFF_US = 130_434;

/** Formats whose demuxer lands on the last keyframe whose pts is at or before the target, and that fftools seeks {@link SEEK_BACKOFF_US} early. */
const BACKOFF_FORMATS = new Set(['matroska,webm']);

/** How ffmpeg's input seek behaves on one file: see {@link frameSeek}. */
export interface SeekHow {
  /** See {@link PREROLL_US}; {@link PREROLL_US} when absent. */
  prerollUs?: number;
  /** See {@link SEEK_BACKOFF_US}; 0 when absent. */
  backoffUs?: number;
  /**
   * Display indices of keyframes a decoder can start from with nothing
   * before them (H.264 IDR, HEVC IRAP: see `clean-starts.ts`). A chunk
   * that starts at one decodes from it; every other chunk decodes from the
   * keyframe before its first frame.
   */
  cleanStarts?: ReadonlySet<number>;
}

/**
 * The {@link SeekHow} of a file of `formatName` (ffprobe's `format_name`),
 * with its clean starts. `ownIndex`: the seek goes by this stream's
 * keyframes (see {@link seeksBy}); when it does not, no seek aims past a
 * keyframe of this stream, as another stream's keyframe there would be
 * where the demuxer lands.
 */
export function seekHowFor(formatName: string | undefined, cleanStarts?: ReadonlySet<number>, ownIndex = true): SeekHow {
  const backoff = ownIndex && formatName !== undefined && BACKOFF_FORMATS.has(formatName);
  return { prerollUs: prerollFor(formatName), backoffUs: backoff ? SEEK_BACKOFF_US : 0, ...(cleanStarts ? { cleanStarts } : {}) };
}

/**
 * Does ffmpeg's input `-ss` (which seeks with stream index -1) land by
 * `stream`'s keyframes? The demuxer seeks in the default stream: the first
 * video stream that is not a cover picture (one packet) in `scan`.
 */
export function seeksBy(scan: PacketScan, stream: number): boolean {
  let first: number | undefined;
  for (const s of scan.streams.values()) if (s.codecType === 'video' && s.packets > 1 && (first === undefined || s.index < first)) first = s.index;
  return first === stream;
}

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
 * - `input` (`-ss` before `-i`, with `-noaccurate_seek`): where the
 *   demuxer lands, counted from the file's start as ffmpeg counts it: the
 *   chunk's first frame itself when it is a clean start (see
 *   {@link SeekHow.cleanStarts}), else the last keyframe strictly before
 *   it (a container's keyframe flag does not promise a clean start: an
 *   intra-refresh stream flags its recovery points, from which ffmpeg's
 *   decoder drops the frames until the picture is whole; an open GOP's
 *   frames refer to the GOP before). Less the preroll of files without an
 *   index ({@link PREROLL_US}); plus up to {@link SEEK_BACKOFF_US} in
 *   Matroska (never more than half the way to the next keyframe, so a seek
 *   that is not moved back still lands on this one). Absent when decoding
 *   from the start is the same. `-noaccurate_seek`: the input seek only
 *   picks where decoding starts; the output `-ss` cuts (ffmpeg's accurate
 *   seek would drop the frames before the target, which may be after the
 *   first frame here).
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

/** Does a chunk starting at display frame `frame` decode from that frame itself: a flagged keyframe among `how`'s clean starts? */
export const startsClean = (keyframes: readonly number[], frame: number, how: SeekHow): boolean => (how.cleanStarts?.has(frame) ?? false) && keyframes.includes(frame);

/**
 * The {@link FrameSeek} that starts at display frame `frame` of a video
 * stream (sorted pts in ticks of `tb`, keyframe display indices) in a file
 * whose start time is `startUs`, seeking as `how` says. Exact (BigInt)
 * arithmetic.
 */
export function frameSeek(pts: readonly number[], keyframes: readonly number[], tb: TimeBase, startUs: number, frame: number, how: SeekHow = {}): FrameSeek {
  const prerollUs = how.prerollUs ?? PREROLL_US;
  let key = -1;
  if (startsClean(keyframes, frame, how)) key = frame;
  else for (const k of keyframes) if (k < frame && k > key) key = k;
  const seek: FrameSeek = { offset: secondsText(BigInt(CHUNK_TS_OFFSET_US)) };
  if (key >= 0) {
    const keyUs = ticksToWholeUs(pts[key]!, tb);
    const input = keyUs - BigInt(Math.round(startUs)) - BigInt(prerollUs);
    // From the stream's first keyframe, decoding from the start is the same.
    if (input > 0n && keyframes.some((k) => pts[k]! < pts[key]!)) {
      let margin = 0n;
      if (how.backoffUs && prerollUs === 0) {
        margin = BigInt(how.backoffUs) + 1n;
        for (const k of keyframes) {
          if (pts[k]! <= pts[key]!) continue;
          const half = (ticksToWholeUs(pts[k]!, tb) - keyUs) / 2n;
          if (half < margin) margin = half;
        }
      }
      seek.input = secondsText(input + margin);
    }
  }
  const output = ticksToWholeUs(pts[frame]!, tb) - 1n;
  if (output >= 0n) {
    seek.output = secondsText(output);
    seek.offset = secondsText(output + BigInt(CHUNK_TS_OFFSET_US));
  }
  return seek;
}

/** The input arguments of `seek` (before `-i`): `-noaccurate_seek -ss T`, or none. */
export const inputSeekArgs = (seek: FrameSeek): string[] => (seek.input !== undefined ? ['-noaccurate_seek', '-ss', seek.input] : []);
