import type { Progress } from '@sisyphus/core';

/**
 * Turns ffmpeg's `-progress pipe:1` output (blocks of `key=value` lines,
 * each ending with `progress=continue` or `progress=end`) into progress
 * reports. Percent comes from frames when the total is known, else from
 * `out_time_us` against the expected duration.
 */
export class FfmpegProgressParser {
  #block: Record<string, string> = {};

  constructor(
    private readonly totalSeconds?: number,
    private readonly totalFrames?: number,
  ) {}

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
    const frames = Number(b.frame);
    const fps = Number(b.fps);
    const speed = Number.parseFloat(b.speed ?? '');
    const outUs = Number(b.out_time_us ?? b.out_time_ms);
    const outSeconds = Number.isFinite(outUs) && outUs >= 0 ? outUs / 1e6 : undefined;

    let percent = 0;
    if (this.totalFrames && Number.isFinite(frames)) percent = (frames / this.totalFrames) * 100;
    else if (this.totalSeconds && outSeconds !== undefined) percent = (outSeconds / this.totalSeconds) * 100;
    percent = value === 'end' ? 100 : Math.min(99.9, Math.max(0, percent));

    const report: Progress = { percent };
    if (Number.isFinite(frames)) report.frames = frames;
    if (this.totalFrames) report.totalFrames = this.totalFrames;
    if (Number.isFinite(fps)) report.fps = fps;
    if (Number.isFinite(speed) && speed > 0) report.speed = speed;
    if (report.speed && this.totalSeconds && outSeconds !== undefined) {
      report.eta = Math.max(0, (this.totalSeconds - outSeconds) / report.speed);
    } else if (this.totalFrames && report.fps && report.frames !== undefined) {
      report.eta = Math.max(0, (this.totalFrames - report.frames) / report.fps);
    }
    if (value === 'end') report.eta = 0;
    if (report.frames !== undefined) report.info = { current_frame: report.frames, ...(this.totalFrames ? { total_frames: this.totalFrames } : {}) };
    return report;
  }
}
