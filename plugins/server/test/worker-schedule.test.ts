import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sisyphus/core';
import { activeAt, checkSchedule, combinedState, compileSchedule, scheduleState, type WorkerSchedule } from '../src/queue/worker-schedule.js';
import { nextOffsetChange, zoneOffset } from '../src/queue/zoned-time.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** `scheduleState` with ISO times, for readable expectations. */
const state = (schedule: WorkerSchedule, when: string) => {
  const s = scheduleState(schedule, at(when));
  return { active: s.active, next_change: iso(s.next_change) };
};
const refusal = (value: unknown, path = 'schedules[0]') => {
  try {
    checkSchedule(value, path, 'UTC');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('schedule grammar', () => {
  it('names the field and the value of each refusal, on one line', () => {
    const window = { from: '22:00', to: '07:00' };
    expect(refusal({ windows: [window, { from: '25:00', to: '07:00' }] })).toBe('schedules[0].windows[1].from must be HH:MM, 00:00 to 23:59 (got "25:00")');
    expect(refusal({ windows: [{ from: '7:00', to: '08:00' }] })).toBe('schedules[0].windows[0].from must be HH:MM, 00:00 to 23:59 (got "7:00")');
    expect(refusal({ windows: [{ from: '24:00', to: '08:00' }] })).toMatch(/^schedules\[0\]\.windows\[0\]\.from must be HH:MM/);
    expect(refusal({ windows: [{ from: '22:00', to: '12:60' }] })).toBe('schedules[0].windows[0].to must be HH:MM, 00:00 to 24:00 (got "12:60")');
    expect(refusal({ windows: [{ from: '22:00' }] })).toBe('schedules[0].windows[0].to must be HH:MM, 00:00 to 24:00 (got nothing)');
    expect(refusal({ windows: [{ ...window, days: ['mon', 'funday'] }] })).toBe(
      'schedules[0].windows[0].days[1] must be a day (mon, tue, wed, thu, fri, sat, sun) or a range such as mon-fri (got "funday")',
    );
    expect(refusal({ windows: [{ ...window, days: ['mon-'] }] })).toMatch(/days\[0\] must be a day/);
    expect(refusal({ windows: [{ ...window, days: [] }] })).toMatch(/^schedules\[0\]\.windows\[0\]\.days must be a list of 1 to 7 days/);
    expect(refusal({ windows: [] })).toMatch(/^schedules\[0\]\.windows must be a non-empty list/);
    expect(refusal({})).toMatch(/^schedules\[0\]\.windows must be a non-empty list .* \(got nothing\)$/);
    expect(refusal({ windows: [{ ...window, start: '10:00' }] })).toBe('schedules[0].windows[0].start is not a window field (use days, from and to)');
    expect(refusal({ windows: [window], 'time zone': 'UTC' })).toBe('schedules[0]["time zone"] is not a schedule field (use timezone and windows)');
    expect(refusal({ timezone: 'Mars/Olympus_Mons', windows: [window] })).toBe(
      'schedules[0].timezone must be an IANA time zone such as Europe/Berlin or UTC (got "Mars/Olympus_Mons")',
    );
    expect(refusal({ timezone: 5, windows: [window] })).toMatch(/timezone must be an IANA time zone .* \(got 5\)$/);
    expect(refusal('weekdays 22-07', 'schedule')).toBe('schedule must be an object {timezone?, windows: [{days?, from, to}]} (got "weekdays 22-07")');
    expect(refusal({ windows: Array.from({ length: 101 }, () => window) })).toBe('schedules[0].windows has 101 windows; at most 100');
    for (const message of [refusal({ windows: [{ from: 'x\ny', to: '07:00' }] })]) expect(message).not.toContain('\n');
  });

  it('normalises: canonical zone, the default zone when none, day names lower case', () => {
    expect(checkSchedule({ timezone: 'europe/berlin', windows: [{ days: ['Mon - Fri'], from: '22:00', to: '07:00' }] }, 's')).toEqual({
      timezone: 'Europe/Berlin',
      windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }],
    });
    expect(checkSchedule({ windows: [{ from: '00:00', to: '24:00' }] }, 's', 'America/New_York').timezone).toBe('America/New_York');
    expect(checkSchedule({ windows: [{ from: '00:00', to: '24:00' }] }, 's').timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe('windows in UTC', () => {
  const weekdayNights: WorkerSchedule = { timezone: 'UTC', windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }] };

  it('a window past midnight runs into the next day: Fri 22:00 -> Sat 07:00 is active, Sun 22:00 is not', () => {
    // 2025-03-07 is a Friday.
    expect(state(weekdayNights, '2025-03-07T21:59:59Z')).toEqual({ active: false, next_change: '2025-03-07T22:00:00.000Z' });
    expect(state(weekdayNights, '2025-03-07T22:00:00Z')).toEqual({ active: true, next_change: '2025-03-08T07:00:00.000Z' });
    expect(state(weekdayNights, '2025-03-08T06:59:59Z')).toEqual({ active: true, next_change: '2025-03-08T07:00:00.000Z' });
    // Saturday and Sunday nights are off: next start Monday 22:00.
    expect(state(weekdayNights, '2025-03-08T07:00:00Z')).toEqual({ active: false, next_change: '2025-03-10T22:00:00.000Z' });
    expect(state(weekdayNights, '2025-03-09T22:30:00Z')).toEqual({ active: false, next_change: '2025-03-10T22:00:00.000Z' });
    // Monday 03:00 belongs to Sunday's (absent) window.
    expect(state(weekdayNights, '2025-03-10T03:00:00Z').active).toBe(false);
    // Thursday night runs into Friday morning.
    expect(state(weekdayNights, '2025-03-07T06:00:00Z')).toEqual({ active: true, next_change: '2025-03-07T07:00:00.000Z' });
  });

  it('weekday boundaries: a day window ends at midnight, ranges wrap past Sunday', () => {
    const mondays: WorkerSchedule = { timezone: 'UTC', windows: [{ days: ['mon'], from: '00:00', to: '00:00' }] };
    expect(state(mondays, '2025-03-09T23:59:59Z')).toEqual({ active: false, next_change: '2025-03-10T00:00:00.000Z' });
    expect(state(mondays, '2025-03-10T12:00:00Z')).toEqual({ active: true, next_change: '2025-03-11T00:00:00.000Z' });
    const weekend: WorkerSchedule = { timezone: 'UTC', windows: [{ days: ['fri-mon'], from: '08:00', to: '24:00' }] };
    expect(state(weekend, '2025-03-10T23:00:00Z')).toEqual({ active: true, next_change: '2025-03-11T00:00:00.000Z' }); // Monday
    expect(state(weekend, '2025-03-11T09:00:00Z')).toEqual({ active: false, next_change: '2025-03-14T08:00:00.000Z' }); // Tuesday -> Friday
    // Friday to Monday, 08:00-24:00 each: Saturday 00:00 closes and 08:00 opens again.
    expect(state(weekend, '2025-03-14T23:00:00Z')).toEqual({ active: true, next_change: '2025-03-15T00:00:00.000Z' });
  });

  it('always active: never changes (next_change null)', () => {
    expect(state({ timezone: 'UTC', windows: [{ from: '00:00', to: '24:00' }] }, '2025-03-10T12:00:00Z')).toEqual({ active: true, next_change: null });
    expect(state({ timezone: 'UTC', windows: [{ from: '06:00', to: '06:00' }] }, '2025-03-10T12:00:00Z')).toEqual({ active: true, next_change: null });
    // Overlapping windows merge: 20-08 and 07-21 cover the day.
    const overlapping: WorkerSchedule = { timezone: 'UTC', windows: [{ from: '20:00', to: '08:00' }, { from: '07:00', to: '21:00' }] };
    expect(state(overlapping, '2025-03-10T12:00:00Z')).toEqual({ active: true, next_change: null });
  });

  it('tag schedules combine: active only while all are', () => {
    const nights = compileSchedule({ timezone: 'UTC', windows: [{ from: '20:00', to: '08:00' }] });
    const days = compileSchedule({ timezone: 'UTC', windows: [{ from: '06:00', to: '22:00' }] });
    const both = (when: string) => {
      const s = combinedState([nights, days], at(when));
      return { active: s.active, next_change: iso(s.next_change) };
    };
    expect(both('2025-03-10T07:00:00Z')).toEqual({ active: true, next_change: '2025-03-10T08:00:00.000Z' });
    expect(both('2025-03-10T12:00:00Z')).toEqual({ active: false, next_change: '2025-03-10T20:00:00.000Z' });
    expect(both('2025-03-10T23:00:00Z')).toEqual({ active: false, next_change: '2025-03-11T06:00:00.000Z' });
    // Disjoint: never active.
    const mornings = compileSchedule({ timezone: 'UTC', windows: [{ from: '09:00', to: '10:00' }] });
    expect(combinedState([nights, mornings], at('2025-03-10T12:00:00Z'))).toEqual({ active: false, next_change: null });
  });
});

describe('DST', () => {
  it('zoneOffset and nextOffsetChange come from the platform: Berlin springs forward at 01:00Z on 2025-03-30', () => {
    expect(zoneOffset('Europe/Berlin', at('2025-03-30T00:59:59Z'))).toBe(3_600_000);
    expect(zoneOffset('Europe/Berlin', at('2025-03-30T01:00:00Z'))).toBe(7_200_000);
    expect(iso(nextOffsetChange('Europe/Berlin', at('2025-03-28T00:00:00Z'), at('2025-04-05T00:00:00Z'))!)).toBe('2025-03-30T01:00:00.000Z');
    expect(nextOffsetChange('Europe/Berlin', at('2025-04-01T00:00:00Z'), at('2025-04-09T00:00:00Z'))).toBeUndefined();
  });

  it('Europe/Berlin: weekday nights keep their wall-clock hours across the spring-forward weekend', () => {
    const s: WorkerSchedule = { timezone: 'Europe/Berlin', windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }] };
    // Fri 28 Mar 22:00 CET = 21:00Z until Sat 07:00 CET = 06:00Z; next Mon 31 Mar 22:00 CEST = 20:00Z.
    expect(state(s, '2025-03-28T20:59:00Z')).toEqual({ active: false, next_change: '2025-03-28T21:00:00.000Z' });
    expect(state(s, '2025-03-28T21:00:00Z')).toEqual({ active: true, next_change: '2025-03-29T06:00:00.000Z' });
    expect(state(s, '2025-03-29T12:00:00Z')).toEqual({ active: false, next_change: '2025-03-31T20:00:00.000Z' });
    // Sunday 22:00 (CEST) is not active.
    expect(state(s, '2025-03-30T20:30:00Z').active).toBe(false);
  });

  it('Europe/Berlin: a window starting in the skipped hour opens when the clock jumps past its start', () => {
    const s: WorkerSchedule = { timezone: 'Europe/Berlin', windows: [{ from: '02:30', to: '05:00' }] };
    // 02:00 CET (01:00Z) becomes 03:00 CEST: 02:30 never shows, the window opens at 03:00 CEST.
    expect(state(s, '2025-03-30T00:00:00Z')).toEqual({ active: false, next_change: '2025-03-30T01:00:00.000Z' });
    expect(state(s, '2025-03-30T01:00:00Z')).toEqual({ active: true, next_change: '2025-03-30T03:00:00.000Z' });
    // The day after: 02:30 CEST = 00:30Z.
    expect(state(s, '2025-03-30T12:00:00Z')).toEqual({ active: false, next_change: '2025-03-31T00:30:00.000Z' });
  });

  it('Europe/Berlin: the repeated hour of a fall-back counts each time the clock shows it', () => {
    const s: WorkerSchedule = { timezone: 'Europe/Berlin', windows: [{ from: '02:00', to: '02:30' }] };
    // 26 Oct: 02:00-02:30 CEST = 00:00-00:30Z; at 01:00Z (03:00 CEST) the clock goes back to 02:00 CET: 01:00-01:30Z again.
    expect(state(s, '2025-10-25T23:59:00Z')).toEqual({ active: false, next_change: '2025-10-26T00:00:00.000Z' });
    expect(state(s, '2025-10-26T00:10:00Z')).toEqual({ active: true, next_change: '2025-10-26T00:30:00.000Z' });
    expect(state(s, '2025-10-26T00:45:00Z')).toEqual({ active: false, next_change: '2025-10-26T01:00:00.000Z' });
    expect(state(s, '2025-10-26T01:00:00Z')).toEqual({ active: true, next_change: '2025-10-26T01:30:00.000Z' });
    expect(state(s, '2025-10-26T01:30:00Z')).toEqual({ active: false, next_change: '2025-10-27T01:00:00.000Z' });
  });

  it('America/New_York: a night window is an hour shorter in spring and ends on time', () => {
    const s: WorkerSchedule = { timezone: 'America/New_York', windows: [{ from: '22:00', to: '07:00' }] };
    // Sat 8 Mar 22:00 EST = 03:00Z; Sun 9 Mar 07:00 EDT = 11:00Z (8 real hours).
    expect(state(s, '2025-03-09T02:59:00Z')).toEqual({ active: false, next_change: '2025-03-09T03:00:00.000Z' });
    expect(state(s, '2025-03-09T03:00:00Z')).toEqual({ active: true, next_change: '2025-03-09T11:00:00.000Z' });
    // Sun 22:00 EDT = Mon 02:00Z.
    expect(state(s, '2025-03-09T11:00:00Z')).toEqual({ active: false, next_change: '2025-03-10T02:00:00.000Z' });
  });

  it('America/New_York: the fall-back hour leaves and re-enters a window that starts at 01:30', () => {
    const s: WorkerSchedule = { timezone: 'America/New_York', windows: [{ from: '01:30', to: '03:00' }] };
    // 2 Nov: 01:30 EDT = 05:30Z; at 06:00Z (02:00 EDT) the clock goes back to 01:00 EST (before 01:30): closed
    // until 01:30 EST = 06:30Z, then open until 03:00 EST = 08:00Z.
    expect(state(s, '2025-11-02T05:30:00Z')).toEqual({ active: true, next_change: '2025-11-02T06:00:00.000Z' });
    expect(state(s, '2025-11-02T06:00:00Z')).toEqual({ active: false, next_change: '2025-11-02T06:30:00.000Z' });
    expect(state(s, '2025-11-02T06:30:00Z')).toEqual({ active: true, next_change: '2025-11-02T08:00:00.000Z' });
  });

  it('a week of minutes agrees with a brute-force walk (Berlin, NY across their changes)', () => {
    const schedules: WorkerSchedule[] = [
      { timezone: 'Europe/Berlin', windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }, { days: ['sun'], from: '02:15', to: '03:15' }] },
      { timezone: 'America/New_York', windows: [{ days: ['sat', 'sun'], from: '01:00', to: '02:30' }, { from: '12:00', to: '12:01' }] },
    ];
    for (const [schedule, start] of [
      [schedules[0]!, '2025-03-28T00:00:00Z'],
      [schedules[0]!, '2025-10-24T00:00:00Z'],
      [schedules[1]!, '2025-03-07T00:00:00Z'],
      [schedules[1]!, '2025-10-31T00:00:00Z'],
    ] as const) {
      const compiled = compileSchedule(schedule);
      // Minute by minute: each flip of activeAt is where next_change said it would be.
      let current = scheduleState(compiled, at(start));
      const end = at(start) + 4 * 86_400_000;
      let flips = 0;
      for (let minute = at(start); minute < end; minute += 60_000) {
        if (activeAt(compiled, minute) === current.active) {
          // No flip before the predicted change.
          expect(current.next_change === null || minute < current.next_change, iso(minute)!).toBe(true);
          continue;
        }
        expect(iso(minute)).toBe(iso(current.next_change));
        current = scheduleState(compiled, minute);
        flips++;
      }
      expect(flips).toBeGreaterThan(3);
    }
  });
});
