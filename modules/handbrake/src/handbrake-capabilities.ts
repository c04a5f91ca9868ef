import { detectBinaryVersion, type DetectContext, type ModuleDetection } from '@sisyphus/core';
import type { HandbrakeSettings } from './handbrake-schema.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The handbrake module's `detect` hook: the versions of HandBrakeCLI
 * (`--version`: `HandBrake 1.6.1`) and ffprobe (`-version`), the binaries
 * `settings.handbrake` names. A missing binary is absent.
 */
export async function detectHandbrake(ctx: DetectContext<HandbrakeSettings>): Promise<ModuleDetection> {
  const settings = ctx.settings ?? {};
  const [handbrake, ffprobe] = await Promise.all([
    detectBinaryVersion(ctx, 'HandBrakeCLI', { configured: settings.handbrake, args: ['--version'], pattern: /^HandBrake (\S+)/ }),
    detectBinaryVersion(ctx, 'ffprobe', { configured: settings.ffprobe, args: ['-version'], pattern: /^ffprobe version (\S+)/ }),
  ]);
  const binaries: Record<string, string> = {};
  if (handbrake) binaries.HandBrakeCLI = handbrake;
  if (ffprobe) binaries.ffprobe = ffprobe;
  return { binaries };
}

/**
 * The handbrake module's `requires` hook: `binary:HandBrakeCLI` and
 * `binary:ffprobe`; `gpu:nvidia` for an NVENC encoder (`nvenc_h265`, ...)
 * or NVDEC decoding (`enable_hw_decoding`), `gpu:intel` for the `qsv`
 * deinterlace preset. (HandBrake's encoder names are its own, not ffmpeg's:
 * they are not `encoder:` requirements.) Never throws on bad data.
 */
export function handbrakeRequirements(data: unknown): string[] {
  const needs = new Set(['binary:HandBrakeCLI', 'binary:ffprobe']);
  const video = isObject(data) && isObject(data.video_options) ? data.video_options : {};
  const filters = isObject(data) && isObject(data.filters_options) ? data.filters_options : {};
  if (typeof video.encoder === 'string' && /^nven[cv]_/.test(video.encoder)) needs.add('gpu:nvidia');
  if (video.enable_hw_decoding === true) needs.add('gpu:nvidia');
  if (isObject(filters.deinterlace) && filters.deinterlace.preset === 'qsv') needs.add('gpu:intel');
  return [...needs].sort();
}
