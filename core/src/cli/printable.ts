/**
 * Characters that must never reach a terminal raw from text the CLI did not
 * write itself (job titles, worker host names, task names, result messages,
 * server messages): C0 controls (ESC, CR, LF, BEL, TAB, ...), DEL, C1
 * controls (U+0080-U+009F, e.g. U+009B, a one-byte CSI), the Unicode bidi
 * marks, embeddings, overrides and isolates (which reorder what follows on
 * the line), and the line and paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

// eslint-disable-next-line no-control-regex
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * `text` made safe to print on an operator's terminal: every unprintable
 * character (see above) shown visibly as an escape, `\x1b`, `\x0a`,
 * `\u202e`; everything else as it is. The one place the CLI makes untrusted
 * text printable: a worker's host name or a job's title cannot move the
 * cursor, set the window title, erase a line or start a forged one.
 * `undefined` and `null` stay `undefined`; other values are made strings.
 */
export function printable(text: string): string;
export function printable(text: unknown): string | undefined;
export function printable(text: unknown): string | undefined {
  if (text === undefined || text === null) return undefined;
  return String(text).replace(UNPRINTABLE, escape);
}

/** JSON text (from `JSON.stringify`) with the unprintable characters it leaves raw (C1, bidi, U+2028/2029) as `\uXXXX`: the same value to a parser, harmless on a terminal. */
export function printableJson(json: string): string {
  // JSON.stringify escapes C0 controls in strings itself; a raw one here is the layout's own newline.
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A percent to show: a finite number clamped to 0-100, else undefined
 * (unknown). A worker's heartbeat is not trusted to stay in range.
 */
export function shownPercent(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return Math.min(100, Math.max(0, value));
}
