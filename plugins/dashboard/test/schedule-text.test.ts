import { describe, expect, it } from 'vitest';
import { scheduleText } from '../src/schedule-text.js';

// How the Workers view words a worker's active hours: the server's
// `schedule` field (`active`, `next_change`) in the schedule's own time zone.
const NOW = Date.parse('2025-03-27T12:00:00Z'); // a Thursday
const at = (iso: string) => new Date(iso).toISOString();
const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** A zone that is not this process's own (so that it is named). */
const other = local === 'Asia/Tokyo' ? 'America/New_York' : 'Asia/Tokyo';

describe('scheduleText', () => {
  it('within a day: the time; within a week: the weekday too; further: the date', () => {
    const utc = { timezone: 'UTC', windows: [{ from: '22:00', to: '07:00' }] };
    const within = (next: string, active: boolean) => scheduleText({ source: 'worker', schedule: utc, active, next_change: at(next) }, NOW).text.replace(' (UTC)', '');
    expect(within('2025-03-28T07:00:00Z', true)).toBe('active until 07:00');
    expect(within('2025-03-31T22:00:00Z', false)).toBe('off hours until Mon 22:00');
    expect(within('2025-04-05T08:30:00Z', false)).toBe('off hours until Sat 5 Apr, 08:30');
  });

  it("in the schedule's zone, named when it is not the browser's", () => {
    const view = { source: 'worker' as const, schedule: { timezone: other, windows: [{ from: '09:00', to: '17:00' }] }, active: false, next_change: at('2025-03-27T15:00:00Z') };
    const expected = new Intl.DateTimeFormat('en-GB', { timeZone: other, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse('2025-03-27T15:00:00Z'));
    expect(scheduleText(view, NOW).text).toBe(`off hours until ${expected} (${other})`);
    expect(scheduleText(view, NOW).title).toBe(`Its own schedule: 09:00–17:00 (${other})`);
  });

  it('tag schedules: each named, active only while all are; several zones read in the browser zone', () => {
    const view = {
      source: 'tags' as const,
      tags: { gpu: { timezone: 'UTC', windows: [{ days: ['mon-fri'], from: '22:00', to: '07:00' }] }, night: { timezone: other, windows: [{ from: '00:00', to: '06:00' }] } },
      active: true,
      next_change: at('2025-03-27T13:00:00Z'),
    };
    const { text, title } = scheduleText(view, NOW);
    const expected = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse('2025-03-27T13:00:00Z'));
    expect(text).toBe(`active until ${expected}`);
    expect(title.split('\n')).toEqual([`Schedule of tag gpu: mon-fri 22:00–07:00 (UTC)`, `Schedule of tag night: 00:00–06:00 (${other})`, 'Active only while all of them are.']);
  });

  it('no change ahead, schedules the server ignores, and shapes a server would not send do not break it', () => {
    expect(scheduleText({ source: 'worker', schedule: { windows: [{ from: '00:00', to: '00:00' }] }, active: true, next_change: null }, NOW).text).toBe('always active');
    expect(scheduleText({ source: 'tags', tags: {}, active: false, next_change: null }, NOW).text).toBe('off hours (no window within a week)');
    const odd = scheduleText({ source: 'worker', schedule: { timezone: 'Not/AZone', windows: 'x' as never }, active: true, next_change: at('2025-03-27T18:00:00Z'), errors: ['schedule.timezone: unknown time zone "Not/AZone"'] }, NOW);
    expect(odd.text).toMatch(/^active until \d\d:\d\d \(Not\/AZone\)$/);
    expect(odd.title).toBe('Its own schedule: no windows (Not/AZone)\nIgnored: schedule.timezone: unknown time zone "Not/AZone"');
  });
});
