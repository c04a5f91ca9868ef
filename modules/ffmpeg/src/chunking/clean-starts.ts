import type { ProcessRunner } from '@sisyphus/core';
import { parseFramecrcLine } from './framecrc-line.js';
import type { TimeBase } from './packet-scan.js';

/**
 * The NAL unit types of the pictures a decoder can start from with nothing
 * before them, per codec (ffprobe's `codec_name`), in the syntax of
 * ffmpeg's `filter_units` bitstream filter (`pass_types`):
 * - H.264: an IDR picture (5). It empties the decoder's buffer: no frame
 *   after it in decode order refers to one before, and none is shown before
 *   it. Not an I-picture of an open GOP nor an intra-refresh recovery point,
 *   which containers flag as keyframes too.
 * - HEVC: an IRAP picture (16-23: BLA, IDR, CRA). A CRA's leading pictures
 *   may refer to the GOP before, but they are shown before it, so they
 *   belong to the chunk before, which decodes through the CRA.
 * Other codecs have none listed: their chunks decode from the keyframe
 * before their first frame.
 */
export const CLEAN_START_NAL_TYPES: Readonly<Record<string, string>> = { h264: '5', hevc: '16-23' };

/** The video stream whose clean starts are looked for. */
export interface CleanStartSource {
  /** Path ffmpeg opens. */
  file: string;
  /** Absolute stream index, and its codec (ffprobe's `codec_name`). */
  stream: number;
  codec: string | undefined;
  /** The frames' pts (ticks of `timeBase`, display order) and the keyframes' display indices, from the packet scan. */
  pts: readonly number[];
  timeBase: TimeBase;
  keyframes: readonly number[];
}

/**
 * The display indices of `source`'s keyframes that are clean starts (see
 * {@link CLEAN_START_NAL_TYPES}): one pass over the stream's packets, copied
 * through `filter_units` keeping only those NAL units (no decoding; a packet
 * left empty is dropped), listed by the `framecrc` muxer with their own
 * timestamps (`-copyts`), matched to the packet scan's frames by pts.
 * Empty for a codec without listed types, and when ffmpeg fails or its
 * timestamps do not match (chunks then decode from the keyframe before,
 * which is always right, only slower): an answer that is not sure is no.
 */
export async function cleanStarts(runner: ProcessRunner, ffmpeg: string, source: CleanStartSource): Promise<Set<number>> {
  const types = source.codec === undefined ? undefined : CLEAN_START_NAL_TYPES[source.codec];
  const found = new Set<number>();
  if (!types || source.keyframes.length === 0) return found;
  const byPts = new Map(source.pts.map((p, i) => [p, i] as [number, number]));
  const keyframes = new Set(source.keyframes);
  const [num, den] = source.timeBase;
  let tb: TimeBase | undefined;
  const seen: number[] = [];
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-copyts', '-i', source.file,
    '-map', `0:${source.stream}`, '-c', 'copy', '-bsf:v', `filter_units=pass_types=${types}`,
    '-f', 'framecrc', '-',
  ];
  try {
    await runner.run(ffmpeg, args, {
      onStdoutLine: (text) => {
        const line = parseFramecrcLine(text);
        if (line?.kind === 'time_base') tb = line.timeBase;
        else if (line?.kind === 'packet' && line.pts !== undefined) seen.push(line.pts);
      },
    });
  } catch {
    return found;
  }
  if (!tb) return found;
  // framecrc's ticks to the scan's: exact, or no match.
  const scale = { n: BigInt(tb[0]) * BigInt(den), d: BigInt(tb[1]) * BigInt(num) };
  for (const pts of seen) {
    const ticks = BigInt(pts) * scale.n;
    if (ticks % scale.d !== 0n) continue;
    const frame = byPts.get(Number(ticks / scale.d));
    if (frame !== undefined && keyframes.has(frame)) found.add(frame);
  }
  return found;
}
