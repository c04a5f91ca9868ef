import { RunError, type ProcessRunner } from '@sisyphus/core';
import { frameSeek, inputSeekArgs, type SeekHow } from './seek-point.js';
import type { TimeBase } from './packet-scan.js';

/** The video stream whose frames are scored. */
export interface SceneSource {
  /** Path ffmpeg opens. */
  file: string;
  /** Absolute stream index. */
  stream: number;
  timeBase: TimeBase;
  /** The file's start time in µs. */
  startUs: number;
  /** How ffmpeg's input seek behaves on this file (`seekHowFor`). */
  seekHow: SeekHow;
  /** Frames' pts in ticks, display order, and the keyframes' display indices (see `PacketScan`). */
  pts: readonly number[];
  keyframes: readonly number[];
}

/** A range of frames (display indices, both ends included). */
export interface FrameWindow {
  from: number;
  to: number;
}

/**
 * The analysis filter: a small grey picture is all the scene score needs
 * (it compares each frame with the one before: mean absolute difference,
 * 0..1), and makes the analysis cost little more than decoding.
 */
const ANALYSIS = "scale=160:90:flags=fast_bilinear,format=gray,select='gte(scene,0)',metadata=print:key=lavfi.scene_score:file=-";

/** Merge overlapping or touching windows, sorted. */
export function mergeWindows(windows: readonly FrameWindow[]): FrameWindow[] {
  const sorted = [...windows].filter((w) => w.to >= w.from).sort((a, b) => a.from - b.from);
  const out: FrameWindow[] = [];
  for (const w of sorted) {
    const last = out.at(-1);
    if (last && w.from <= last.to + 1) last.to = Math.max(last.to, w.to);
    else out.push({ ...w });
  }
  return out;
}

/**
 * ffmpeg's own scene score of every frame in `windows`: one ffmpeg per
 * window seeks to it as a chunk does (see `frameSeek`) and decodes to its
 * end, with the loop filter skipped (it changes pixels a little, not
 * scenes). The score of frame i says how different it is from frame i - 1:
 * a cut at i starts the new scene. Returns display index -> score. Throws a
 * RunError when ffmpeg fails.
 */
export async function sceneScores(runner: ProcessRunner, ffmpeg: string, source: SceneSource, windows: readonly FrameWindow[]): Promise<Map<number, number>> {
  const scores = new Map<number, number>();
  const byPts = new Map(source.pts.map((p, i) => [p, i] as [number, number]));
  const tb = source.timeBase;
  // Where the decode of a window starts (its input seek point, µs on the file's timeline): a window whose
  // decode would start before the end of the one before is analysed in the same pass.
  const decodeFrom = (from: number) => {
    const seek = frameSeek(source.pts, source.keyframes, tb, source.startUs, from, source.seekHow);
    return seek.input === undefined ? 0 : Number(seek.input) * 1e6 + source.startUs;
  };
  const passes: FrameWindow[] = [];
  for (const window of mergeWindows(windows)) {
    const last = passes.at(-1);
    if (last && decodeFrom(window.from) <= (source.pts[last.to]! * tb[0] * 1e6) / tb[1]) last.to = window.to;
    else passes.push({ ...window });
  }
  for (const window of passes) {
    const from = window.from;
    const to = Math.min(source.pts.length - 1, window.to);
    if (to < from) continue;
    const seek = frameSeek(source.pts, source.keyframes, tb, source.startUs, from, source.seekHow);
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      '-copyts', '-skip_loop_filter', 'all', '-flags2', '+fast',
      ...inputSeekArgs(seek),
      '-i', source.file,
      '-map', `0:${source.stream}`,
      ...(seek.output !== undefined ? ['-ss', seek.output] : []),
      '-frames:v', String(to - from + 1),
      '-vf', ANALYSIS,
      // Every frame through, with its own timestamp (the null muxer would otherwise complain of equal ones).
      '-fps_mode', 'passthrough', '-enc_time_base:v', '-1',
      '-f', 'null', '-',
    ];
    // With -copyts the filters see the source's own timestamps (in the stream's time base): a frame is found by its pts.
    // They also see the frames decoded before the window (the output -ss drops those after the filters).
    let frame: number | undefined;
    try {
      await runner.run(ffmpeg, args, {
        onStdoutLine: (line) => {
          if (line.startsWith('frame:')) {
            const pts = /\bpts:(-?\d+)/.exec(line)?.[1];
            frame = pts === undefined ? undefined : byPts.get(Number(pts));
          } else if (line.startsWith('lavfi.scene_score=') && frame !== undefined) {
            if (frame >= window.from && frame <= to) scores.set(frame, Number(line.slice('lavfi.scene_score='.length)));
          }
        },
      });
    } catch (error) {
      const tail = (error as { stderrTail?: string[] }).stderrTail?.filter((l) => l.trim()).at(-1) ?? (error as Error).message;
      throw new RunError(`chunking: the scene analysis of ${source.file} (frames ${window.from}-${window.to}) failed: ${tail}`, { cause: error });
    }
  }
  return scores;
}
