/**
 * A reader of ffmpeg filter graph strings that splits them exactly as
 * libavfilter does, so a file name cannot hide behind quoting or escaping
 * that this reader understands differently from ffmpeg.
 *
 * Followed from FFmpeg 5.1 (the same rules hold on master):
 * - `av_get_token` (libavutil/avstring.c): skip leading whitespace; `\x`
 *   gives `x`; `'...'` is copied literally (no escapes inside); stop at a
 *   terminator character outside quotes; trailing whitespace that was not
 *   escaped or quoted is dropped.
 * - `avfilter_graph_parse2` (libavfilter/graphparser.c): an optional
 *   `sws_flags=...;` prefix; then filters separated by `,` (chain) or `;`
 *   (graph), each `[in]...NAME[=ARGS][out]...`; the name is a token ended by
 *   `=,;[`, the args a token ended by `[],;`; `NAME@ID` names an instance.
 * - `process_options` (libavfilter/avfilter.c) with `av_opt_get_key_value`
 *   (libavutil/opt.c): args are `:`-separated; an item is `key=value` when
 *   it starts with key characters (`A-Za-z0-9-_/.`, spaces around) followed
 *   by `=`, otherwise a positional value; values are tokens ended by `:`, so
 *   the args string is unescaped a second time.
 */

/** ffmpeg's WHITESPACES. */
const WS = ' \n\t\r';

/** One token as read by `av_get_token`: its value and where the reader stopped. */
export interface Token {
  value: string;
  /** Index of the first character not consumed (a terminator or the end). */
  end: number;
}

/** `av_get_token(&p, term)` starting at `start`. */
export function getToken(s: string, start: number, term: string): Token {
  let p = start;
  while (p < s.length && WS.includes(s[p]!)) p++;
  let out = '';
  // Length of `out` that must survive trailing-whitespace trimming.
  let keep = 0;
  while (p < s.length && !term.includes(s[p]!)) {
    const c = s[p++]!;
    if (c === '\\' && p < s.length) {
      out += s[p++]!;
      keep = out.length;
    } else if (c === "'") {
      while (p < s.length && s[p] !== "'") out += s[p++]!;
      if (p < s.length) {
        p++;
        keep = out.length;
      }
    } else {
      out += c;
    }
  }
  let endOut = out.length;
  while (endOut > keep && WS.includes(out[endOut - 1]!)) endOut--;
  return { value: out.slice(0, endOut), end: p };
}

/** One item of a filter's args. */
export interface FilterArg {
  /** The option name for `key=value`; undefined for a positional value. */
  key?: string;
  value: string;
  /**
   * For a positional value: its position among the positional values that
   * came before any `key=value` (0-based), which ffmpeg maps to the
   * filter's options in declaration order. -1 for a positional value that
   * follows a `key=value` (ffmpeg restarts its shorthand list there in a way
   * that depends on option offsets: treat as unknown).
   */
  position: number;
  /** Where the value sits in the (graph-unescaped) args string: [start, end). */
  start: number;
  end: number;
}

const isKeyChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_\-/.]/.test(c);

/** Split a filter's args string as `process_options` does. */
export function parseFilterArgs(args: string): FilterArg[] {
  const items: FilterArg[] = [];
  let p = 0;
  let positional = 0;
  let sawKey = false;
  while (p < args.length) {
    // get_key: whitespace, key characters, whitespace, then '='.
    let q = p;
    while (q < args.length && WS.includes(args[q]!)) q++;
    const keyStart = q;
    while (isKeyChar(args[q])) q++;
    const keyEnd = q;
    while (q < args.length && WS.includes(args[q]!)) q++;
    let key: string | undefined;
    let valueFrom = p;
    if (q < args.length && args[q] === '=') {
      key = args.slice(keyStart, keyEnd);
      valueFrom = q + 1;
    }
    const token = getToken(args, valueFrom, ':');
    if (key !== undefined) {
      sawKey = true;
      items.push({ key, value: token.value, position: -1, start: valueFrom, end: token.end });
    } else {
      items.push({ value: token.value, position: sawKey ? -1 : positional++, start: valueFrom, end: token.end });
    }
    p = token.end;
    if (p < args.length) p++; // the ':'
  }
  return items;
}

/** One filter of a graph. */
export interface ParsedFilter {
  /** The name token as ffmpeg reads it (unescaped), e.g. `movie@logo`. */
  name: string;
  /** The filter's name without the `@instance` part: what ffmpeg looks up. */
  filter: string;
  /** The args after `=`, unescaped once (graph level), or undefined. */
  args?: string;
  /** Where the raw args token sits in the graph string: [start, end). */
  argsStart: number;
  argsEnd: number;
  /** The args split into items. */
  items: FilterArg[];
  /** Input and output link labels. */
  inputs: string[];
  outputs: string[];
}

/** A graph string that ffmpeg itself would refuse to parse. */
export class FilterGraphSyntaxError extends Error {}

/** ffmpeg's create_filter: `NAME@ID` names an instance when `@` is in the first 29 characters and not last. */
function filterName(name: string): string {
  const head = name.slice(0, 29);
  for (let k = 0; k < head.length; k++) {
    if (head[k] === '@' && name[k + 1] !== undefined) return head.slice(0, k);
  }
  return name;
}

function parseLabels(s: string, p: number, into: string[]): number {
  while (s[p] === '[') {
    const token = getToken(s, p + 1, ']');
    if (!token.value) throw new FilterGraphSyntaxError(`empty link label near "${s.slice(p, p + 20)}"`);
    if (s[token.end] !== ']') throw new FilterGraphSyntaxError(`unmatched '[' near "${s.slice(p, p + 20)}"`);
    into.push(token.value);
    p = token.end + 1;
    while (p < s.length && WS.includes(s[p]!)) p++;
  }
  return p;
}

/** Split a filter graph into its filters, as avfilter_graph_parse2 reads it. */
export function parseFilterGraph(graph: string): ParsedFilter[] {
  const filters: ParsedFilter[] = [];
  let p = 0;
  while (p < graph.length && WS.includes(graph[p]!)) p++;
  if (graph.startsWith('sws_flags=', p)) {
    const semi = graph.indexOf(';', p);
    if (semi < 0) throw new FilterGraphSyntaxError('sws_flags not terminated with ";"');
    p = semi + 1;
  }
  for (;;) {
    while (p < graph.length && WS.includes(graph[p]!)) p++;
    const inputs: string[] = [];
    p = parseLabels(graph, p, inputs);
    const nameToken = getToken(graph, p, '=,;[');
    p = nameToken.end;
    let args: string | undefined;
    let argsStart = p;
    let argsEnd = p;
    if (graph[p] === '=') {
      argsStart = p + 1;
      const argsToken = getToken(graph, argsStart, '[],;');
      args = argsToken.value;
      argsEnd = argsToken.end;
      p = argsEnd;
    }
    const outputs: string[] = [];
    p = parseLabels(graph, p, outputs);
    filters.push({
      name: nameToken.value,
      filter: filterName(nameToken.value),
      args,
      argsStart,
      argsEnd,
      items: args ? parseFilterArgs(args) : [],
      inputs,
      outputs,
    });
    while (p < graph.length && WS.includes(graph[p]!)) p++;
    const chr = graph[p++];
    if (chr === ',' || chr === ';') continue;
    if (chr === undefined) break;
    throw new FilterGraphSyntaxError(`unable to parse graph description near "${graph.slice(p - 1, p + 19)}"`);
  }
  return filters;
}

/** Backslash-escape every character outside `[A-Za-z0-9/._+-]` (safe for any av_get_token terminator set). */
export function escapeToken(value: string): string {
  return value.replace(/[^A-Za-z0-9/._+-]/g, (c) => `\\${c}`);
}
