import { ConfigError } from '@sisyphus/core';
import { canonicalTimeZone, localTimeZone, nextOffsetChange, wallClock } from './zoned-time.js';

/** Days as schedules name them, in `Date.getUTCDay()` order (Sunday 0). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** A day of the week: `mon` ... `sun`. */
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * One stretch of active hours. It starts at `from` on each of its `days`
 * and ends at `to` the same day, or the next day when `to` is not after
 * `from` (`22:00`-`07:00` on `fri` runs from Friday 22:00 to Saturday
 * 07:00; `00:00`-`00:00` is the whole day). Times are wall-clock times of
 * the schedule's time zone, so a window keeps its hours across DST changes.
 */
export interface ScheduleWindow {
  /**
   * Days the window starts on: `mon`...`sun`, or ranges such as `mon-fri`
   * (`fri-mon` wraps past Sunday). Default: every day.
   */
  days?: string[];
  /** Start, `HH:MM` (24-hour, `00:00`-`23:59`). */
  from: string;
  /** End, `HH:MM`; `24:00` is midnight at the end of the day. */
  to: string;
}

/**
 * A worker's active hours: it takes jobs while any of `windows` is open and
 * no new one outside them (the job it runs goes on to the end).
 */
export interface WorkerSchedule {
  /**
   * IANA time zone of the windows' times (`Europe/Berlin`, `UTC`). When a
   * server stores a schedule without one, it writes in its own zone, so
   * every server and direct worker reads the same hours.
   */
  timezone?: string;
  /** At least one window. */
  windows: ScheduleWindow[];
}

/** Whether a schedule lets its worker take jobs now, and until when that holds. */
export interface ScheduleState {
  active: boolean;
  /** Epoch ms at which `active` next flips; null when it never does (e.g. every day `00:00`-`00:00`). */
  next_change: number | null;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** How far ahead a change is looked for: a week of wall-clock time, plus room for overnight windows and DST. */
const HORIZON_MS = 9 * DAY;
const TIME = /^(\d{2}):(\d{2})$/;

/** Most windows a schedule may have: each poll of its workers looks at them all. */
export const MAX_WINDOWS = 100;

/** `schedules[0].windows[1].from must be HH:MM (got "25:00")`: one line, naming the field (and the value, when given). */
function refuse(path: string, problem: string, ...value: [unknown?]): ConfigError {
  return new ConfigError(`${path} ${problem}${value.length ? ` (got ${shown(value[0])})` : ''}`);
}

/** `path.key`, or `path["odd key"]` when the key is not a plain name: field paths in messages stay one unambiguous line. */
export function fieldPath(path: string, key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Minutes after midnight of `HH:MM`, or undefined; `24:00` only when `endOfDay`. */
function minutesOf(value: unknown, endOfDay: boolean): number | undefined {
  const match = typeof value === 'string' ? TIME.exec(value) : null;
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59) return undefined;
  if (hours < 24) return hours * 60 + minutes;
  return endOfDay && hours === 24 && minutes === 0 ? 24 * 60 : undefined;
}

/** The day numbers (Sunday 0) an entry of `days` names: `mon`, or a range `mon-fri`. */
function daysOf(entry: unknown): number[] | undefined {
  if (typeof entry !== 'string') return undefined;
  const [first, last, extra] = entry.trim().toLowerCase().split(/\s*-\s*/);
  const start = WEEKDAYS.indexOf(first as Weekday);
  const end = last === undefined ? start : WEEKDAYS.indexOf(last as Weekday);
  if (extra !== undefined || start < 0 || end < 0) return undefined;
  const days = [start];
  for (let day = start; day !== end; ) days.push((day = (day + 1) % 7));
  return days;
}

/** A window as times are compared: day numbers and minutes after midnight. */
interface CompiledWindow {
  days: ReadonlySet<number>;
  from: number;
  to: number;
  /** `to` is on the next day. */
  overnight: boolean;
}

/** A checked schedule, ready to evaluate. */
export interface CompiledSchedule {
  /** The schedule as stored (JSON text): what it is cached and remembered by. */
  key: string;
  timezone: string;
  windows: CompiledWindow[];
  /** Minutes after midnight at which some window opens or closes, plus 0 (the day changes), sorted. */
  edges: number[];
}

/**
 * Check a schedule (API input or config, untrusted) and answer it
 * normalised: `timezone` canonical (filled with `defaultTimezone`, else this
 * process's zone, when missing), day names lower case. Throws a
 * {@link ConfigError} with one line naming the field under `path`, e.g.
 * `schedules[0].windows[1].from must be HH:MM (got "25:00")`.
 */
export function checkSchedule(value: unknown, path: string, defaultTimezone?: string): WorkerSchedule {
  return compileChecked(value, path, defaultTimezone).schedule;
}

function compileChecked(value: unknown, path: string, defaultTimezone?: string): { schedule: WorkerSchedule; compiled: CompiledSchedule } {
  if (!isObject(value)) throw refuse(path, 'must be an object {timezone?, windows: [{days?, from, to}]}', value);
  for (const key of Object.keys(value)) {
    if (key !== 'timezone' && key !== 'windows') throw refuse(fieldPath(path, key), 'is not a schedule field (use timezone and windows)');
  }
  let timezone: string;
  if (value.timezone === undefined) timezone = canonicalTimeZone(defaultTimezone ?? localTimeZone()) ?? 'UTC';
  else {
    const known = typeof value.timezone === 'string' && value.timezone !== '' ? canonicalTimeZone(value.timezone) : undefined;
    if (!known) throw refuse(`${path}.timezone`, 'must be an IANA time zone such as Europe/Berlin or UTC', value.timezone);
    timezone = known;
  }
  const windows = value.windows;
  if (!Array.isArray(windows) || windows.length === 0) {
    throw refuse(`${path}.windows`, 'must be a non-empty list of {days?, from, to} (to stop a worker altogether, disable it)', windows);
  }
  if (windows.length > MAX_WINDOWS) throw refuse(`${path}.windows`, `has ${windows.length} windows; at most ${MAX_WINDOWS}`);
  const compiled: CompiledWindow[] = [];
  const written: ScheduleWindow[] = windows.map((window: unknown, i) => {
    const at = `${path}.windows[${i}]`;
    if (!isObject(window)) throw refuse(at, 'must be an object {days?, from, to}', window);
    for (const key of Object.keys(window)) {
      if (key !== 'days' && key !== 'from' && key !== 'to') throw refuse(fieldPath(at, key), 'is not a window field (use days, from and to)');
    }
    const from = minutesOf(window.from, false);
    if (from === undefined) throw refuse(`${at}.from`, 'must be HH:MM, 00:00 to 23:59', window.from);
    const to = minutesOf(window.to, true);
    if (to === undefined) throw refuse(`${at}.to`, 'must be HH:MM, 00:00 to 24:00', window.to);
    let days = [0, 1, 2, 3, 4, 5, 6];
    if (window.days !== undefined) {
      if (!Array.isArray(window.days) || window.days.length === 0 || window.days.length > 7) throw refuse(`${at}.days`, 'must be a list of 1 to 7 days or ranges such as ["mon-fri", "sun"] (leave it out for every day)', window.days);
      days = window.days.flatMap((entry: unknown, d) => {
        const named = daysOf(entry);
        if (!named) throw refuse(`${at}.days[${d}]`, 'must be a day (mon, tue, wed, thu, fri, sat, sun) or a range such as mon-fri', entry);
        return named;
      });
    }
    compiled.push({ days: new Set(days), from, to, overnight: to <= from });
    const out: ScheduleWindow = { from: window.from as string, to: window.to as string };
    if (window.days !== undefined) out.days = (window.days as string[]).map((d) => d.trim().toLowerCase().replace(/\s+/g, ''));
    return out;
  });
  const edges = [...new Set([0, ...compiled.flatMap((w) => [w.from, w.to % (24 * 60)])])].sort((a, b) => a - b);
  const schedule = { timezone, windows: written };
  return { schedule, compiled: { key: JSON.stringify(value) ?? '', timezone, windows: compiled, edges } };
}

/** Compiled schedules by their JSON text: a poll evaluates the same few schedules again and again. */
const compiledCache = new Map<string, CompiledSchedule>();
const MAX_CACHED = 1000;

/**
 * {@link checkSchedule}, compiled for {@link scheduleState}. Stored
 * schedules are read back through this (they may have been written by
 * anything with access to the store), so it throws like `checkSchedule`.
 */
export function compileSchedule(value: unknown, path = 'schedule'): CompiledSchedule {
  const key = JSON.stringify(value) ?? '';
  const cached = compiledCache.get(key);
  if (cached) return cached;
  const { compiled } = compileChecked(value, path);
  if (compiledCache.size >= MAX_CACHED) compiledCache.clear();
  compiledCache.set(key, compiled);
  return compiled;
}

/** Is a window of `schedule` open at wall-clock time `wall` (see `wallClock`)? */
function openAtWall(schedule: CompiledSchedule, wall: number): boolean {
  const day = new Date(wall).getUTCDay();
  const minute = Math.floor((((wall % DAY) + DAY) % DAY) / MINUTE);
  const yesterday = (day + 6) % 7;
  return schedule.windows.some((w) =>
    w.overnight
      ? (w.days.has(day) && minute >= w.from) || (w.days.has(yesterday) && minute < w.to)
      : w.days.has(day) && minute >= w.from && minute < w.to,
  );
}

/** Is `schedule` active at epoch ms `at`? */
export function activeAt(schedule: CompiledSchedule, at: number): boolean {
  return openAtWall(schedule, wallClock(schedule.timezone, at));
}

/** The first wall-clock time after `wall` at which a window may open or close. */
function nextEdge(schedule: CompiledSchedule, wall: number): number {
  const midnight = wall - (((wall % DAY) + DAY) % DAY);
  for (const edge of schedule.edges) {
    if (midnight + edge * MINUTE > wall) return midnight + edge * MINUTE;
  }
  return midnight + DAY; // 0 is always an edge
}

/**
 * The first instant after `now` (epoch ms) at which {@link activeAt}
 * differs from its value at `now`, looked for up to `until`; undefined when
 * none. Between two instants where the wall clock passes an edge or jumps
 * (a DST change), nothing can change: only those are looked at.
 */
export function nextChange(schedule: CompiledSchedule, now: number, until = now + HORIZON_MS): number | undefined {
  const was = activeAt(schedule, now);
  for (let at = now; at < until; ) {
    const offset = wallClock(schedule.timezone, at) - at;
    // Where the wall clock next passes an edge, if the offset holds until then.
    const edge = nextEdge(schedule, at + offset) - offset;
    const jump = nextOffsetChange(schedule.timezone, at, Math.min(edge, until));
    at = jump ?? edge;
    if (at > until) return undefined;
    // At a jump the wall clock may skip an edge (02:30 on a spring-forward night is passed at 03:00) or go back over one.
    if (activeAt(schedule, at) !== was) return at;
  }
  return undefined;
}

/**
 * Whether `schedule` (checked as by {@link checkSchedule}; a bad one
 * throws) is active at epoch ms `now`, and when that next changes. DST-safe:
 * windows are in the schedule's wall-clock time; a window that starts in
 * the hour a spring-forward skips opens when the clock jumps past its start,
 * and the repeated hour of a fall-back counts as often as the clock shows it.
 */
export function scheduleState(schedule: WorkerSchedule | CompiledSchedule, now: number): ScheduleState {
  const compiled = 'edges' in schedule ? schedule : compileSchedule(schedule);
  return remembered(compiled.key, now, () => ({ active: activeAt(compiled, now), next_change: nextChange(compiled, now) ?? null }));
}

/**
 * The last state computed for each schedule (or set of schedules), by key:
 * it holds from the instant it was computed for until its `next_change`,
 * so the polls of a worker outside its hours (a long-poll looks every
 * 250 ms) cost a map lookup, not a walk through the week.
 */
const states = new Map<string, { at: number; state: ScheduleState }>();

function remembered(key: string, now: number, compute: () => ScheduleState): ScheduleState {
  const known = states.get(key);
  // A state that never changes is looked at again after a day (tag schedules in zones whose DST dates differ).
  if (known && now >= known.at && now < (known.state.next_change ?? known.at + DAY)) return { ...known.state };
  const state = compute();
  if (states.size >= MAX_CACHED) states.clear();
  states.set(key, { at: now, state });
  return { ...state };
}

/**
 * Several schedules that must all be active at once (a worker's tags, see
 * `applied-schedule.ts`): active when every one is; the next change is the
 * first change of any one that flips the whole.
 */
export function combinedState(schedules: readonly CompiledSchedule[], now: number): ScheduleState {
  if (schedules.length === 1) return scheduleState(schedules[0]!, now);
  return remembered(schedules.map((s) => s.key).join('\n'), now, () => combine(schedules, now));
}

function combine(schedules: readonly CompiledSchedule[], now: number): ScheduleState {
  const all = (at: number) => schedules.every((s) => activeAt(s, at));
  const was = all(now);
  const until = now + HORIZON_MS;
  for (let at = now; ; ) {
    let next: number | undefined;
    for (const s of schedules) {
      const change = nextChange(s, at, until);
      if (change !== undefined && (next === undefined || change < next)) next = change;
    }
    if (next === undefined) return { active: was, next_change: null };
    if (all(next) !== was) return { active: was, next_change: next };
    at = next;
  }
}
