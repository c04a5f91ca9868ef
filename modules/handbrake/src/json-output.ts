import type { Progress } from '@sisyphus/core';

/** One `Label: {...}` block HandBrakeCLI prints on stdout with `--json` (`Version`, `Progress`, `JSON Title Set`). */
export interface JsonBlock {
  label: string;
  value: Record<string, unknown>;
}

/** What {@link HandbrakeOutputReader.push} made of a stdout line. */
export type StdoutItem = { kind: 'block'; block: JsonBlock } | { kind: 'text'; text: string } | { kind: 'pending' };

/**
 * Reads HandBrakeCLI's `--json` stdout line by line: multi-line
 * `Label: {` ... `}` blocks become parsed objects; anything else (libdvdread
 * chatter, messages) comes back as text.
 */
export class HandbrakeOutputReader {
  #label?: string;
  #lines: string[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;

  push(line: string): StdoutItem {
    if (this.#label === undefined) {
      const start = /^([A-Za-z][A-Za-z ]*): (\{.*)$/.exec(line);
      if (!start) return { kind: 'text', text: line };
      this.#label = start[1]!;
      this.#lines = [];
      this.#depth = 0;
      line = start[2]!;
    }
    this.#lines.push(line);
    this.#scan(line);
    if (this.#depth > 0) return { kind: 'pending' };
    const label = this.#label;
    const text = this.#lines.join('\n');
    this.#label = undefined;
    try {
      return { kind: 'block', block: { label, value: JSON.parse(text) as Record<string, unknown> } };
    } catch {
      return { kind: 'text', text: `${label}: ${text}` };
    }
  }

  /** Count braces outside JSON strings (titles and names may hold braces). */
  #scan(line: string): void {
    for (const ch of line) {
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (ch === '\\') this.#escaped = true;
        else if (ch === '"') this.#inString = false;
      } else if (ch === '"') this.#inString = true;
      else if (ch === '{') this.#depth++;
      else if (ch === '}') this.#depth--;
    }
  }
}

interface Working {
  Progress?: number;
  Rate?: number;
  RateAvg?: number;
  ETASeconds?: number;
  Hours?: number;
  Pass?: number;
  PassCount?: number;
  PassID?: number;
}

/**
 * The progress a `Progress` block tells, or undefined when it tells none
 * (scanning, muxing, done). Percent spans every pass (a two-pass encode is
 * at 50 % when pass 2 starts) and stays below 100: 100 is reported only
 * once the result is checked and in place. `fps` is HandBrake's current
 * rate once it has measured one; `eta` only in the last pass, once
 * HandBrake knows it (it sends `Hours: -1` until then).
 */
export function progressFrom(block: JsonBlock): Progress | undefined {
  if (block.label !== 'Progress' || block.value.State !== 'WORKING') return undefined;
  const w = block.value.Working as Working | undefined;
  if (!w || typeof w.Progress !== 'number') return undefined;
  const passes = Math.max(1, w.PassCount ?? 1);
  const pass = Math.min(passes, Math.max(1, w.Pass ?? 1));
  const percent = Math.min(99.9, ((pass - 1 + Math.min(1, Math.max(0, w.Progress))) / passes) * 100);
  const out: Progress = { percent };
  // HandBrake reports tiny nonsense rates (1e-7) before it has measured one.
  if (typeof w.Rate === 'number' && w.Rate >= 0.01) out.fps = Math.round(w.Rate * 100) / 100;
  if (pass === passes && (w.Hours ?? -1) >= 0 && typeof w.ETASeconds === 'number' && w.ETASeconds >= 0) out.eta = w.ETASeconds;
  const info: Record<string, unknown> = { pass, passes };
  if (typeof w.RateAvg === 'number' && w.RateAvg >= 0.01) info.average_fps = Math.round(w.RateAvg * 100) / 100;
  out.info = info;
  return out;
}

/** The `Error` of the final `WORKDONE` block (0: no error), when this block is it. */
export function workDoneError(block: JsonBlock): number | undefined {
  if (block.label !== 'Progress' || block.value.State !== 'WORKDONE') return undefined;
  const done = block.value.WorkDone as { Error?: number } | undefined;
  return typeof done?.Error === 'number' ? done.Error : 0;
}

/** HandBrake's error codes (libhb `hb_error_code`), as its exit code and `WorkDone.Error`. */
export const HANDBRAKE_ERRORS: Record<number, string> = {
  1: 'cancelled',
  2: 'wrong input',
  3: 'initialisation failed',
  4: 'unknown error',
  5: 'read error',
};

/** Lines HandBrake prints on every run that say nothing about the job (disc probing of a plain file, missing GPU libraries). */
const NOISE = [
  /^libdvd(read|nav)/, /^udfread/, /^disc\.c:/, /^\*+$/, /^\*\*/, /not a (bd|dvd) - trying/, /libnvidia/i, /qsv: not available/,
  /Intel Quick Sync/, /decoder errors/, /^HandBrake has exited/, /Compile-time hardening/, /^\s*$/, /Skipping (vfr|crop\/scale) filter/,
];
const TELLING = /\b(error|invalid|unknown option|no title|could not|cannot|can't|failed|failure|unrecognized|unsupported|not found|skipped|abort)/i;

/** `[10:07:43] scan: x` -> `scan: x`. */
const untimed = (line: string) => line.replace(/^\[\d\d:\d\d:\d\d\]\s*/, '').trim();

/**
 * HandBrake's own reason for a failure, from the last lines it printed:
 * the telling lines (errors, warnings, "No title found.") without the
 * disc-probing chatter every run prints, the last `max` of them.
 */
export function handbrakeReason(lines: readonly string[], max = 3): string[] {
  const useful = lines.map(untimed).filter((l) => l && !NOISE.some((n) => n.test(l)));
  const telling = useful.filter((l) => TELLING.test(l));
  return (telling.length ? telling : useful).slice(-max);
}
