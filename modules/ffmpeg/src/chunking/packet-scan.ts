import { RunError, ValidationError, type ProcessRunner } from '@sisyphus/core';

/** A time base as `[num, den]`: a tick lasts num/den seconds. */
export type TimeBase = readonly [number, number];

/** What one demux pass over a file tells about its streams (no decoding). */
export interface PacketScan {
  /** The file's start time in µs (ffprobe's `format.start_time`): what `-ss` counts from. */
  startUs: number;
  /** ffprobe's `format_name` (`matroska,webm`, `mpegts`...). */
  formatName?: string;
  /** Every stream that has packets, by absolute index. */
  streams: Map<number, ScannedStream>;
}

/** One stream of a {@link PacketScan}. */
export interface ScannedStream {
  index: number;
  codecType: string;
  timeBase: TimeBase;
  /** Packets seen, and how many of them had no pts. */
  packets: number;
  missingPts: number;
  /** End of the stream in µs on the file's timeline: the largest pts + duration. */
  endUs?: number;
  /** Video streams only: the frames' pts in ticks, sorted (display order: frame i is at `pts[i]`). */
  pts?: number[];
  /** Video only: each frame's packet size in bytes, in the order of {@link pts} (0 where ffprobe gives none). */
  sizes?: number[];
  /** Video only: duration in ticks of the frame shown last (its packet's duration; 0 when the file gives none). */
  lastDuration?: number;
  /** Video only: display-order indices of the frames whose packet is flagged key. */
  keyframes?: number[];
  /**
   * Video only: packets that follow a keyframe in decode order but are
   * shown before it: the leading pictures of an open GOP (they may refer to
   * the GOP before).
   */
  leadingPictures?: number;
  /** Packets the demuxer flags to be discarded after decoding (`D`: frames an MP4/MOV edit list hides, as a cut made by stream copy leaves). */
  discarded?: number;
  /** Video only: packets whose dts is not after the dts of the packet before (decode order), and frames sharing a pts with another. */
  dtsNotIncreasing?: number;
  duplicatePts?: number;
}

/** `1/24000` as `[1, 24000]`; undefined for anything else. */
export function parseTimeBase(text: string | undefined): TimeBase | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!m || !Number(m[1]) || !Number(m[2])) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/** µs of `ticks` in `tb`, as a float (exact enough for comparisons; see `chunk-plan.ts` for the exact seek point). */
export const ticksToUs = (ticks: number, tb: TimeBase) => (ticks * tb[0] * 1e6) / tb[1];

function field(parts: string[], key: string): string | undefined {
  const prefix = `${key}=`;
  for (const part of parts) if (part.startsWith(prefix)) return part.slice(prefix.length);
  return undefined;
}

const num = (text: string | undefined) => (text === undefined || text === 'N/A' ? undefined : Number(text));

/**
 * Read every packet of `file` with ffprobe (`-show_entries packet=...`: a
 * demux, no decoding; ~1 GB/s from the page cache) and keep, per stream,
 * its end, and for video streams the pts of every frame, which of them are
 * keyframes and whether the GOPs are open. `phase` picks the error class;
 * `format` (ffmpeg's name) reads the file as that format only.
 */
export async function scanPackets(runner: ProcessRunner, ffprobe: string, file: string, phase: 'validate' | 'run', format?: string): Promise<PacketScan> {
  interface Raw {
    type?: string;
    tb?: TimeBase;
    pts: number[];
    sizes: number[];
    keys: number[];
    discarded: number;
    packets: number;
    missing: number;
    end?: number;
    endDuration: number;
    lastKeyPts?: number;
    leading: number;
    lastDts?: number;
    dtsBack: number;
  }
  const raw = new Map<number, Raw>();
  let start = 0;
  let formatName: string | undefined;
  const get = (index: number) => {
    let r = raw.get(index);
    if (!r) raw.set(index, (r = { pts: [], sizes: [], keys: [], discarded: 0, packets: 0, missing: 0, endDuration: 0, leading: 0, dtsBack: 0 }));
    return r;
  };
  try {
    await runner.run(
      ffprobe,
      ['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts,duration,size,flags:stream=index,codec_type,time_base:format=start_time,format_name', '-of', 'compact=p=1:nk=0', ...(format ? ['-f', format] : []), '--', file],
      {
        onStdoutLine: (line) => {
          const parts = line.split('|');
          if (parts[0] === 'packet') {
            const r = get(Number(field(parts, 'stream_index')));
            r.packets++;
            const pts = num(field(parts, 'pts'));
            const duration = num(field(parts, 'duration')) ?? 0;
            const dts = num(field(parts, 'dts'));
            if (dts !== undefined) {
              if (r.lastDts !== undefined && dts <= r.lastDts) r.dtsBack++;
              r.lastDts = dts;
            }
            if (pts === undefined || !Number.isFinite(pts)) {
              r.missing++;
              return;
            }
            const flags = field(parts, 'flags') ?? '';
            const key = flags.startsWith('K');
            if (flags.includes('D')) r.discarded++;
            r.pts.push(pts);
            r.sizes.push(num(field(parts, 'size')) ?? 0);
            if (key) {
              r.keys.push(pts);
              r.lastKeyPts = pts;
            } else if (r.lastKeyPts !== undefined && pts < r.lastKeyPts) r.leading++;
            if (r.end === undefined || pts + duration >= r.end) {
              r.end = pts + duration;
              r.endDuration = duration;
            }
          } else if (parts[0] === 'stream') {
            const r = get(Number(field(parts, 'index')));
            r.type = field(parts, 'codec_type');
            r.tb = parseTimeBase(field(parts, 'time_base'));
          } else if (parts[0] === 'format') {
            start = Math.round((num(field(parts, 'start_time')) ?? 0) * 1e6);
            formatName = field(parts, 'format_name');
          }
        },
      },
    );
  } catch (error) {
    const tail = (error as { stderrTail?: string[] }).stderrTail?.filter((l) => l.trim()).at(-1) ?? (error as Error).message;
    const E = phase === 'validate' ? ValidationError : RunError;
    throw new E(`ffprobe cannot read the packets of ${file}: ${tail}`, { cause: error });
  }
  const streams = new Map<number, ScannedStream>();
  for (const [index, r] of raw) {
    if (!r.tb) continue;
    const stream: ScannedStream = { index, codecType: r.type ?? 'unknown', timeBase: r.tb, packets: r.packets, missingPts: r.missing };
    if (r.end !== undefined) stream.endUs = ticksToUs(r.end, r.tb);
    if (r.type === 'video') {
      const order = r.pts.map((_, i) => i).sort((a, b) => r.pts[a]! - r.pts[b]!);
      const pts = order.map((i) => r.pts[i]!);
      stream.pts = pts;
      stream.sizes = order.map((i) => r.sizes[i]!);
      stream.lastDuration = r.endDuration;
      stream.keyframes = keyIndices(pts, r.keys);
      stream.leadingPictures = r.leading;
      stream.discarded = r.discarded;
      stream.dtsNotIncreasing = r.dtsBack;
      stream.duplicatePts = pts.filter((p, i) => i > 0 && p === pts[i - 1]).length;
    }
    streams.set(index, stream);
  }
  return { startUs: start, ...(formatName !== undefined ? { formatName } : {}), streams };
}

/** Display-order indices of `keys` (pts values) in the sorted `pts`. */
function keyIndices(pts: readonly number[], keys: readonly number[]): number[] {
  const sorted = [...keys].sort((a, b) => a - b);
  const out: number[] = [];
  let i = 0;
  for (const k of sorted) {
    while (i < pts.length && pts[i]! < k) i++;
    if (pts[i] === k && out.at(-1) !== i) out.push(i);
  }
  return out;
}
