import type { Engine } from '../../engine/engine.js';
import type { JobResult } from '../../engine/job-result.js';
import { ErrorCodes } from '../../module/error-codes.js';

/** Shows a running job: attached to an engine's events, told the result at the end. */
export interface Reporter {
  attach(engine: Engine): void;
  finish(result: JobResult): void;
  /** A line from the CLI itself (e.g. "cancelling..."). */
  note(message: string): void;
}

/** `12.3 s`, `4 min 05 s`, `1 h 02 min` */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** `fps 120 | 4.1x | eta 12 s` from the optional progress fields. */
export function progressDetails(p: { fps?: number; speed?: number; eta?: number; frames?: number; totalFrames?: number }): string {
  const parts: string[] = [];
  if (p.frames !== undefined) parts.push(p.totalFrames ? `frame ${p.frames}/${p.totalFrames}` : `frame ${p.frames}`);
  if (p.fps !== undefined) parts.push(`fps ${Math.round(p.fps)}`);
  if (p.speed !== undefined) parts.push(`${p.speed.toFixed(2)}x`);
  if (p.eta !== undefined) parts.push(`eta ${formatDuration(p.eta)}`);
  return parts.join(' | ');
}

/** `42%`, or `--%` when the total is unknown (undefined percent). */
export function formatPercent(percent: number | undefined): string {
  return percent === undefined ? '--%' : `${Math.floor(percent)}%`;
}

/**
 * A text gauge `width` characters wide: filled to `percent`, or, when the
 * total is unknown, a `<=>` marker that moves one step per `tick` (one per
 * progress report) across an empty bar: work goes on, how much is done is
 * not claimed.
 */
export function gauge(percent: number | undefined, tick: number, width = 30): string {
  const full = '\u2588';
  const empty = '\u2591';
  if (percent !== undefined) {
    const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
    return full.repeat(filled) + empty.repeat(width - filled);
  }
  // A marker, not a fill: nothing claims how much is done.
  const marker = '<=>'.slice(0, width);
  const span = width - marker.length;
  const step = span > 0 ? Math.abs(tick) % (2 * span) : 0;
  const at = step > span ? 2 * span - step : step;
  return empty.repeat(at) + marker + empty.repeat(width - marker.length - at);
}

/** How a task's run ended without success, from its `failed` phase event: `cancelled`, `timed out` or `failed`. */
export function failureWord(error: { code?: string } | undefined): string {
  if (error?.code === ErrorCodes.CANCELLED) return 'cancelled';
  if (error?.code === ErrorCodes.TIMEOUT) return 'timed out';
  return 'failed';
}

/** Milliseconds between two log lines for a task whose total is unknown (no percent steps to log by). */
export const UNKNOWN_TOTAL_LOG_INTERVAL_MS = 30_000;
