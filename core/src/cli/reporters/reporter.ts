import type { Engine } from '../../engine/engine.js';
import type { JobResult } from '../../engine/job-result.js';

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
