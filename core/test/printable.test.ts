import { describe, expect, it } from 'vitest';
import { printable, printableJson, shownPercent } from '../src/cli/printable.js';

// Every character that can steer a terminal or reorder a line: C0, DEL, C1, bidi controls, line/paragraph separators.
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('printable: untrusted text made safe for a terminal', () => {
  it('shows escape sequences, CR, LF, BEL, TAB, DEL visibly instead of sending them', () => {
    expect(printable('EVIL\u001b[31mRED\u001b]0;owned-title\u0007')).toBe('EVIL\\x1b[31mRED\\x1b]0;owned-title\\x07');
    expect(printable('h\u001b[2K\rEVILHOST')).toBe('h\\x1b[2K\\x0dEVILHOST');
    expect(printable('t\nSECOND LINE\tx\u007f\u0000')).toBe('t\\x0aSECOND LINE\\x09x\\x7f\\x00');
  });

  it('C1 controls (a one-byte CSI), bidi overrides and isolates, line separators become \\xNN / \\uNNNN', () => {
    expect(printable('a\u009b31mb\u0085c')).toBe('a\\x9b31mb\\x85c');
    expect(printable('invoice\u202egpj.exe')).toBe('invoice\\u202egpj.exe');
    expect(printable('\u2066x\u2069\u200e\u200f\u061c')).toBe('\\u2066x\\u2069\\u200e\\u200f\\u061c');
    expect(printable('one\u2028two\u2029')).toBe('one\\u2028two\\u2029');
  });

  it('leaves every other character alone, and is idempotent', () => {
    const fine = 'Tom & Jerry: "été" 日本語 🎬 C:\\dir\\x41 ~`!@#$%^&*()';
    expect(printable(fine)).toBe(fine);
    const once = printable('x\u001b[1m\u202e\r\n');
    expect(printable(once)).toBe(once);
    expect(once).not.toMatch(RAW);
    // Every code point of the classes, one by one.
    for (let c = 0; c <= 0x2069; c++) {
      const ch = String.fromCharCode(c);
      if (RAW.test(ch)) expect(printable(ch), `U+${c.toString(16)}`).not.toMatch(RAW);
    }
  });

  it('undefined and null stay undefined; other values become strings', () => {
    expect(printable(undefined)).toBeUndefined();
    expect(printable(null)).toBeUndefined();
    expect(printable(42)).toBe('42');
  });

  it('printableJson: the same value to a parser, no raw C1/bidi/separator on the terminal, layout kept', () => {
    const value = { title: 'a\u009b2Jb\u202ec\u2028d\u001be\u007f', n: [1, 'x'] };
    const json = printableJson(JSON.stringify(value, null, 2));
    expect(json).not.toMatch(/[\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual(value);
    expect(json.split('\n').length).toBe(JSON.stringify(value, null, 2).split('\n').length);
  });

  it('shownPercent clamps to 0-100 and drops what is not a finite number', () => {
    expect(shownPercent(42.5)).toBe(42.5);
    expect(shownPercent(250)).toBe(100);
    expect(shownPercent(-7)).toBe(0);
    expect(shownPercent(Number.NaN)).toBeUndefined();
    expect(shownPercent(Infinity)).toBeUndefined();
    expect(shownPercent('50')).toBeUndefined();
    expect(shownPercent(undefined)).toBeUndefined();
  });
});
