import { ticksToUs, type TimeBase } from './packet-scan.js';

/** How regular a video stream's frame times are (see {@link frameCadence}). */
export interface FrameCadence {
  /** Every frame is within a quarter frame of a constant-rate grid. */
  constant: boolean;
  /** Average frame duration in µs (first to last frame over frames - 1; the last frame's own duration for one frame). */
  frameUs: number;
  /** Largest distance of a frame from the grid, in µs, and the frame (display index) where it is. */
  maxDeviationUs: number;
  worstFrame: number;
}

/**
 * Constant or variable frame rate, from the frames' pts (sorted ticks).
 * The grid is the straight line from the first to the last frame; a stream
 * is constant when no frame is more than a quarter frame off it. That
 * tolerates container rounding (Matroska's 1 ms ticks at 23.976 fps are off
 * by up to 0.5 ms of 41.7) and catches real variable rates: a dropped or
 * repeated frame, a change of rate, equal timestamps.
 */
export function frameCadence(pts: readonly number[], tb: TimeBase, lastDuration = 0): FrameCadence {
  const n = pts.length;
  if (n < 2) return { constant: true, frameUs: ticksToUs(lastDuration, tb), maxDeviationUs: 0, worstFrame: 0 };
  const first = ticksToUs(pts[0]!, tb);
  const frameUs = (ticksToUs(pts[n - 1]!, tb) - first) / (n - 1);
  let maxDeviationUs = 0;
  let worstFrame = 0;
  for (let i = 0; i < n; i++) {
    const deviation = Math.abs(ticksToUs(pts[i]!, tb) - first - i * frameUs);
    if (deviation > maxDeviationUs) {
      maxDeviationUs = deviation;
      worstFrame = i;
    }
  }
  return { constant: frameUs > 0 && maxDeviationUs <= frameUs / 4, frameUs, maxDeviationUs, worstFrame };
}

/** Where a variable-rate stream leaves its own rate (see {@link cadenceFault}). */
export interface CadenceFault {
  /** The stream's usual frame duration in µs (the mean of the frame intervals near the median). */
  frameUs: number;
  /** The first frame (display index) more than a quarter frame off the grid of that rate from frame 0, and how far off it is (µs, signed: positive is late). */
  frame: number;
  offUs: number;
}

/**
 * For a message: the stream's usual rate (the median frame interval,
 * refined by the mean of the intervals within a quarter of it, so 1 ms
 * container ticks do not skew it), and the first frame off that rate's
 * grid from frame 0. A 25 fps stream with a 0.5 s gap after frame 50:
 * frame 51 is 460 ms off the 25 fps grid. Undefined when no frame is off
 * (fewer than two frames).
 */
export function cadenceFault(pts: readonly number[], tb: TimeBase): CadenceFault | undefined {
  if (pts.length < 2) return undefined;
  const us = pts.map((p) => ticksToUs(p, tb));
  const gaps = us.slice(1).map((u, i) => u - us[i]!);
  const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  const near = gaps.filter((g) => Math.abs(g - median) <= median / 4);
  const frameUs = near.length ? near.reduce((a, b) => a + b, 0) / near.length : median;
  if (!(frameUs > 0)) return { frameUs: median, frame: 1, offUs: gaps[0]! };
  for (let i = 1; i < us.length; i++) {
    const off = us[i]! - us[0]! - i * frameUs;
    if (Math.abs(off) > frameUs / 4) return { frameUs, frame: i, offUs: off };
  }
  return undefined;
}
