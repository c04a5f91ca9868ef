import type { TimeBase } from './packet-scan.js';

/**
 * One line of ffmpeg's `framecrc` muxer, read: a header `#tb N: num/den`
 * (stream N's time base), a packet `N, dts, pts, duration, size, 0xcrc`
 * with `, F=0xFLAGS` when its flags are other than exactly key (and side
 * data after), or nothing of interest (other headers). `pts` is absent
 * when the packet has none.
 */
export type FramecrcLine =
  | { kind: 'time_base'; stream: number; timeBase: TimeBase }
  | { kind: 'packet'; stream: number; pts?: number; key: boolean }
  | undefined;

const TB_LINE = /^#tb (\d+): (\d+)\/(\d+)$/;

/** Read one line of `framecrc` output (see {@link FramecrcLine}). */
export function parseFramecrcLine(line: string): FramecrcLine {
  if (line.startsWith('#')) {
    const m = TB_LINE.exec(line);
    return m ? { kind: 'time_base', stream: Number(m[1]), timeBase: [Number(m[2]), Number(m[3])] } : undefined;
  }
  const parts = line.split(',').map((p) => p.trim());
  if (parts.length < 6 || !/^\d+$/.test(parts[0]!)) return undefined;
  const pts = /^-?\d+$/.test(parts[2]!) ? Number(parts[2]) : undefined;
  const flags = parts.find((p) => p.startsWith('F='));
  const key = flags === undefined ? true : (parseInt(flags.slice(2), 16) & 1) === 1;
  // AV_NOPTS_VALUE prints as INT64_MIN.
  return { kind: 'packet', stream: Number(parts[0]), ...(pts !== undefined && pts > Number.MIN_SAFE_INTEGER ? { pts } : {}), key };
}
