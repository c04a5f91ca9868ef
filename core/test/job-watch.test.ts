import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { PlainJobWatch, TtyJobWatch, endLine, failureReason, liveDetails, workerName, type WatchedJob } from '../src/cli/reporters/job-watch.js';

// What `submit --wait` prints of a followed job: job and worker data never reach the terminal raw.
// eslint-disable-next-line no-control-regex
const RAW_EXCEPT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function sink(): PassThrough & { text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += String(d)));
  return Object.assign(stream, { text: () => text });
}

const evil: WatchedJob = {
  job_id: 'j1',
  job_title: 'EVIL\u001b[31mRED\u001b]0;owned-title\u0007',
  state: 'running',
  worker_id: 'W1',
  worker_hostname: 'h\u001b[2K\rEVILHOST',
  live: { task: 't\u001b]0;x\u0007\nSECOND LINE', progress: 250, info: { fps: 30, eta: -12 }, at: '2026-01-01T00:00:00Z' },
};

describe('following a job: untrusted text is made printable, numbers are kept sane', () => {
  it('plain lines: title, host and task are escaped; one line per event; progress clamped; no negative ETA', () => {
    const out = sink();
    const watch = new PlainJobWatch(out);
    watch.update(evil);
    watch.update({ ...evil, live: { ...evil.live!, progress: -30, at: 'b' } });
    const lines = out.text().split('\n').filter(Boolean);
    expect(lines).toEqual([
      'EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07: running on h\\x1b[2K\\x0dEVILHOST: t\\x1b]0;x\\x07\\x0aSECOND LINE',
      'EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07: t\\x1b]0;x\\x07\\x0aSECOND LINE 100% (fps 30)',
    ]);
    expect(out.text()).not.toMatch(RAW_EXCEPT_LF);
    expect(out.text()).not.toContain('eta');
  });

  it('the terminal bar: the same escapes, the gauge and percent never beyond 100', () => {
    const out = sink();
    Object.assign(out, { isTTY: true, columns: 400, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const watch = new TtyJobWatch(out as unknown as NodeJS.WriteStream);
    watch.update(evil);
    watch.stop();
    // The bar's own cursor control is fine; the job's and the worker's text must come out escaped.
    const text = out.text();
    expect(text).toContain('running on h\\x1b[2K\\x0dEVILHOST: t\\x1b]0;x\\x07\\x0aSECOND LINE');
    expect(text).not.toContain('\u001b]0;');
    expect(text).not.toContain('EVILHOST: t\u001b');
    expect(text).toContain('100%');
    expect(text).not.toContain('250%');
    expect(text).not.toContain('eta');
  });

  it('the end line and the failure reason from a worker\'s report are escaped', () => {
    const failed: WatchedJob = {
      ...evil,
      state: 'failed',
      live: undefined,
      worker_hostname: undefined,
      result: { worker: 'w\u009b2J', module: 'mod\u001b[8m', message: 'bad\r\u202eforged\nstack line', runtime: 1 },
    };
    expect(workerName(failed)).toBe('w\\x9b2J');
    expect(failureReason(failed)).toBe('mod\\x1b[8m: bad\\x0d\\u202eforged');
    expect(endLine(failed)).toBe('EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07: failed on w\\x9b2J: mod\\x1b[8m: bad\\x0d\\u202eforged');
    expect(failureReason({ reason: 'lease\u001b[2Kexpired\nmore' })).toBe('lease\\x1b[2Kexpired');
    expect(failureReason({ result: { message: 42 as unknown as string } })).toBeUndefined();
  });

  it('live details drop a negative ETA and keep a real one', () => {
    expect(liveDetails({ fps: 24, speed: 1.5, eta: -3 })).toBe('fps 24 | 1.50x');
    expect(liveDetails({ eta: 12 })).toBe('eta 12 s');
    expect(liveDetails({ eta: 0 })).toBe('eta 0.0 s');
  });
});
