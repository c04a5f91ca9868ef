import type { Progress } from '@sisyphus/core';
import type { OutputTotals } from './stream-check.js';

/** Percent held while the output runs past its expected end (a filter that changes duration): below 100 until ffmpeg succeeded. */
const HOLD = 99.9;

const finite = (value: string | undefined): number | undefined => {
  const n = Number.parseFloat(value ?? '');
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Turns ffmpeg's `-progress pipe:1` output (blocks of `key=value` lines,
 * each ending with `progress=continue` or `progress=end`) into progress
 * reports.
 *
 * Percent is output time (`out_time_us`) against the expected output
 * duration, or frames done against a frame limit when the output ends at
 * one (see `expectedOutput`). Without a known total there is no percent:
 * the reports carry frames, fps and speed only. Percent never goes back and
 * stays below 100 while ffmpeg runs, `progress=end` included: ffmpeg writes
 * that block when it is stopped too. 100 % comes only from
 * {@link FfmpegProgressParser.succeeded}, which the task calls after ffmpeg
 * exited successfully.
 *
 * @example
 * const parser = new FfmpegProgressParser(expectedOutput(data, probes, outputMaps));
 * await runner.run(ffmpeg, args, { onStdoutLine: (l) => { const r = parser.push(l); if (r) progress.report(r); } });
 * progress.report(parser.succeeded());
 */
export class FfmpegProgressParser {
  #block: Record<string, string> = {};
  #percent?: number;
  #last?: Progress;
  readonly #totals: OutputTotals;

  constructor(totals?: OutputTotals);
  /** Shorthand for `{ seconds: totalSeconds, frames: totalFrames }`: percent from time, `totalFrames` only shown. */
  constructor(totalSeconds?: number, totalFrames?: number);
  constructor(totals?: OutputTotals | number, totalFrames?: number) {
    this.#totals = typeof totals === 'object' ? { ...totals } : { seconds: totals, frames: totalFrames };
  }

  /** The last report made (undefined before the first block). */
  get last(): Progress | undefined {
    return this.#last;
  }

  /** Feed one line; returns a report at the end of each block. */
  push(line: string): Progress | undefined {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key !== 'progress') {
      this.#block[key] = value;
      return undefined;
    }
    const b = this.#block;
    this.#block = {};
    const frames = finite(b.frame);
    const fps = finite(b.fps);
    const speed = finite(b.speed);
    const outUs = finite(b.out_time_us ?? b.out_time_ms);
    const outSeconds = outUs !== undefined && outUs >= 0 ? outUs / 1e6 : undefined;
    const { seconds: totalSeconds, frames: totalFrames, byFrames } = this.#totals;

    let percent: number | undefined;
    let eta: number | undefined;
    if (byFrames && totalFrames && frames !== undefined) {
      percent = (frames / totalFrames) * 100;
      if (fps && frames <= totalFrames) eta = (totalFrames - frames) / fps;
    } else if (totalSeconds && outSeconds !== undefined) {
      percent = (outSeconds / totalSeconds) * 100;
      if (speed && outSeconds <= totalSeconds) eta = (totalSeconds - outSeconds) / speed;
    }
    if (percent !== undefined) this.#percent = Math.max(this.#percent ?? 0, Math.min(HOLD, Math.max(0, percent)));

    const report: Progress = {};
    if (this.#percent !== undefined) report.percent = this.#percent;
    if (frames !== undefined) report.frames = frames;
    // An estimate that the encode has already passed is wrong (e.g. a filter doubles the frames): leave it out.
    if (frames !== undefined && totalFrames && frames <= totalFrames) report.totalFrames = totalFrames;
    if (fps !== undefined) report.fps = fps;
    if (speed !== undefined) report.speed = speed;
    if (eta !== undefined) report.eta = eta;
    if (frames !== undefined) report.info = { current_frame: frames, ...(report.totalFrames ? { total_frames: report.totalFrames } : {}) };
    this.#last = report;
    return report;
  }

  /**
   * The final report, for the task to send once ffmpeg exited successfully
   * (and only then): 100 %, no time left, the frames done as the total.
   */
  succeeded(): Progress {
    const last = this.#last ?? {};
    const report: Progress = { percent: 100 };
    if (last.frames !== undefined) {
      report.frames = report.totalFrames = last.frames;
      report.info = { current_frame: last.frames, total_frames: last.frames };
    }
    if (last.fps !== undefined) report.fps = last.fps;
    if (last.speed !== undefined) report.speed = last.speed;
    report.eta = 0;
    this.#percent = 100;
    this.#last = report;
    return report;
  }
}
