/** Formatting of times, durations and progress numbers for display. */

const pad = (n: number) => String(n).padStart(2, '0');

/** Seconds as `h:mm:ss` (an ETA, a runtime); `—` when unknown. */
export function hms(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * A runtime in seconds: `40 ms` below 0.1 s, `0.4 s`, `42.3 s` below a
 * minute, `h:mm:ss` from a minute on (a sub-second job is not "0:00:00");
 * `—` when unknown.
 */
export function runtime(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 0.095) return `${Math.round(seconds * 1000)} ms`;
  // 59.96 s would print as "60.0 s": from there on, h:mm:ss.
  return seconds < 59.95 ? `${seconds.toFixed(1)} s` : hms(seconds);
}

/** Milliseconds of a phase: `850 ms`, `12.3 s`, `4:05.2`. */
export function ms(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const minutes = Math.floor(value / 60_000);
  return `${minutes}:${((value % 60_000) / 1000).toFixed(1).padStart(4, '0')}`;
}

/** An ISO time in local time, `YYYY-MM-DD HH:MM:SS`; `—` when absent. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** How long ago, from milliseconds: `4 s ago`, `12 min ago`, `3 h ago`, `2 d ago`. */
export function ago(elapsedMs: number): string {
  const s = Math.max(0, Math.round(elapsedMs / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** Frames per second: `24.5`; `—` when unknown. */
export function fps(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(1) : '—';
}

/** Encoding speed: `1.25×` (a number) or the text the module sent. */
export function speed(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return `${value.toFixed(2)}×`;
  return typeof value === 'string' && value ? value : '—';
}

/** A percent with at most one decimal: `42.5%`. */
export function percent(value: number): string {
  return `${Math.round(value * 10) / 10}%`;
}

/** A `datetime-local` input's value as an ISO time (`undefined` when empty or invalid). */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An ISO time as a `datetime-local` input's value in local time (`''` when absent or invalid). */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const seconds = d.getSeconds() ? `:${pad(d.getSeconds())}` : '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}${seconds}`;
}

/** What a worker's status reads as: `in_progress` is "running", `startup` "starting"; others as they are. */
export function workerStatus(status: string): string {
  return status === 'in_progress' ? 'running' : status === 'startup' ? 'starting' : status;
}

/** What a job's state reads as: `waiting-children` is "waiting for children"; others as they are. */
export function stateLabel(state: string): string {
  return state === 'waiting-children' ? 'waiting for children' : state;
}

/** `text` cut to `max` characters with an ellipsis (a title in a confirmation). */
export function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
