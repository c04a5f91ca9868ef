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
