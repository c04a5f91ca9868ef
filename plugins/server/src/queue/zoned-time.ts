/**
 * Wall-clock time in an IANA time zone, from the platform's own time-zone
 * data (`Intl.DateTimeFormat` with `timeZone`): the offset in force at an
 * instant and the next instant it changes (a DST switch). Nothing here
 * knows any zone's rules; Node's ICU does.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Formatters by zone: building one costs far more than formatting with it. */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 1000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    // Throws a RangeError for a zone ICU does not know.
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, found);
  }
  return found;
}

/**
 * The canonical name of IANA time zone `name` (`europe/berlin` ->
 * `Europe/Berlin`, `UTC`), or undefined when the platform does not know it.
 */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The time zone of this process (the `TZ` environment variable, else the system's). */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Offset of `timeZone` from UTC at epoch ms `at`, in ms (Berlin in summer: +7,200,000). */
export function zoneOffset(timeZone: string, at: number): number {
  const second = Math.floor(at / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(second)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  // Years 0-99: Date.UTC reads them as 1900-1999.
  const fixed = parts.year! < 100 ? new Date(wall).setUTCFullYear(parts.year!) : wall;
  return fixed - second;
}

/**
 * Wall-clock time of `timeZone` at epoch ms `at`, as epoch ms of the same
 * reading in UTC: its `getUTCDay()`, `getUTCHours()`... are the local ones.
 */
export function wallClock(timeZone: string, at: number): number {
  return at + zoneOffset(timeZone, at);
}

/** How far apart {@link nextOffsetChange} samples the offset: no zone changes twice within it. */
const SAMPLE_MS = 6 * HOUR;

/**
 * The first instant after `from` and at most `until` (epoch ms) at which
 * the offset of `timeZone` differs from the one at `from`; undefined when
 * it stays the same.
 */
export function nextOffsetChange(timeZone: string, from: number, until: number): number | undefined {
  const offset = zoneOffset(timeZone, from);
  for (let low = from; low < until; ) {
    const high = Math.min(low + SAMPLE_MS, until);
    if (zoneOffset(timeZone, high) === offset) {
      low = high;
      continue;
    }
    // The change lies in (low, high]: halve down to the millisecond.
    let lo = low;
    let hi = high;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (zoneOffset(timeZone, mid) === offset) lo = mid;
      else hi = mid;
    }
    return hi;
  }
  return undefined;
}
