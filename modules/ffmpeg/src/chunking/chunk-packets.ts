import type { ProcessRunner } from '@sisyphus/core';
import { CHUNK_FORMAT } from './chunk-encode.js';
import type { TimeBase } from './packet-scan.js';

/** What the join checks of one chunk file, from the packets of its video stream. */
export interface ChunkPackets {
  packets: number;
  timeBase: TimeBase;
  /** The smallest pts (ticks of `timeBase`): its first frame shown; absent when no packet has one. */
  firstPts?: number;
  /** Is the packet of that frame flagged key? */
  firstKey: boolean;
}

/** Files read by one ffmpeg run (each is an input: open files, argv). */
export const FILES_PER_RUN = 64;

/** `#tb 3: 1/51200` in framecrc's header. */
const TB_LINE = /^#tb (\d+): (\d+)\/(\d+)$/;

/**
 * The packets of the first video stream of each of `files`, read by one
 * ffmpeg run per {@link FILES_PER_RUN} files instead of one ffprobe per
 * file (starting ffprobe costs ~50 ms; ten chunks' checks took 0.7 s of the
 * join, now ~0.1 s): every file an input, its video copied, with its own
 * timestamps (`-copyts`), into the `framecrc` muxer, which lists each
 * packet (`stream, dts, pts, duration, size, crc[, F=flags]`; no `F=`:
 * the flags are exactly key). In `files` order. Throws the runner's error
 * when ffmpeg fails (a file missing, unreadable, without video): the
 * caller looks at each file alone to say which.
 */
export async function readChunkPackets(runner: ProcessRunner, ffmpeg: string, files: readonly string[]): Promise<ChunkPackets[]> {
  const out: ChunkPackets[] = [];
  for (let at = 0; at < files.length; at += FILES_PER_RUN) {
    const batch = files.slice(at, at + FILES_PER_RUN);
    const found = batch.map((): ChunkPackets => ({ packets: 0, timeBase: [0, 1], firstKey: false }));
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-copyts'];
    for (const file of batch) args.push('-f', CHUNK_FORMAT, '-i', file);
    for (const i of batch.keys()) args.push('-map', `${i}:v:0`);
    args.push('-c', 'copy', '-f', 'framecrc', '-');
    await runner.run(ffmpeg, args, {
      onStdoutLine: (line) => {
        const header = TB_LINE.exec(line);
        if (header) {
          const f = found[Number(header[1])];
          if (f) f.timeBase = [Number(header[2]), Number(header[3])];
          return;
        }
        if (line.startsWith('#')) return;
        const parts = line.split(',').map((p) => p.trim());
        const f = found[Number(parts[0])];
        if (!f || parts.length < 6) return;
        f.packets++;
        const pts = Number(parts[2]);
        if (!/^-?\d+$/.test(parts[2] ?? '') || pts <= Number.MIN_SAFE_INTEGER) return;
        const flags = parts.find((p) => p.startsWith('F='));
        const key = flags === undefined ? true : (parseInt(flags.slice(2), 16) & 1) === 1;
        if (f.firstPts === undefined || pts < f.firstPts) {
          f.firstPts = pts;
          f.firstKey = key;
        }
      },
    });
    out.push(...found);
  }
  return out;
}
