import type { ScheduleView, WorkerSchedule } from './api/types.js';

const HOUR = 3_600_000;

/** The browser's time zone. */
const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The one time zone of the schedules that apply (undefined: none given, or several). */
function zoneOf(view: ScheduleView): string | undefined {
  const schedules = view.source === 'worker' ? [view.schedule] : Object.values(view.tags ?? {});
  const zones = new Set(schedules.map((s) => (typeof s?.timezone === 'string' ? s.timezone : undefined)));
  return zones.size === 1 ? [...zones][0] : undefined;
}

/** `at` as a wall-clock time of `zone`: `07:00` within a day, `Mon 22:00` within a week, else `Mon 7 Apr, 22:00`. */
function wallClock(at: number, now: number, zone: string | undefined): string {
  const ahead = at - now;
  const options: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (ahead >= 24 * HOUR) options.weekday = 'short';
  if (ahead >= 6.5 * 24 * HOUR) Object.assign(options, { day: 'numeric', month: 'short' });
  try {
    return new Intl.DateTimeFormat('en-GB', { ...options, ...(zone ? { timeZone: zone } : {}) }).format(at);
  } catch {
    // A zone this browser does not know: its own.
    return new Intl.DateTimeFormat('en-GB', options).format(at);
  }
}

/** A schedule's windows in words: `mon-fri 22:00–07:00, sat 00:00–24:00 (Europe/Berlin)`. */
function windowsText(schedule: WorkerSchedule | undefined): string {
  const windows = Array.isArray(schedule?.windows) ? schedule.windows : [];
  const text = windows.map((w) => `${Array.isArray(w.days) && w.days.length ? `${w.days.join(',')} ` : ''}${w.from}–${w.to}`).join(', ') || 'no windows';
  return `${text}${typeof schedule?.timezone === 'string' ? ` (${schedule.timezone})` : ''}`;
}

/**
 * A worker's active hours as the Workers view shows them: the text
 * (`active until 07:00`, `off hours until Mon 22:00`, in the schedule's own
 * time zone, named when it is not the browser's) and a tooltip with the
 * windows, whose schedule they are and any stored schedule the server
 * ignores as invalid.
 */
export function scheduleText(view: ScheduleView, now: number): { text: string; title: string } {
  const zone = zoneOf(view);
  const next = view.next_change ? Date.parse(view.next_change) : NaN;
  const state = view.active ? 'active' : 'off hours';
  let text: string;
  if (Number.isNaN(next)) text = view.active ? 'always active' : 'off hours (no window within a week)';
  else text = `${state} until ${wallClock(next, now, zone)}${zone && zone !== localZone() ? ` (${zone})` : ''}`;
  const whose =
    view.source === 'worker'
      ? [`Its own schedule: ${windowsText(view.schedule)}`]
      : Object.entries(view.tags ?? {}).map(([tag, schedule]) => `Schedule of tag ${tag}: ${windowsText(schedule)}`);
  const lines = [...whose, ...(view.source === 'tags' && whose.length > 1 ? ['Active only while all of them are.'] : []), ...(view.errors ?? []).map((e) => `Ignored: ${e}`)];
  return { text, title: lines.join('\n') };
}
