import { readdir } from 'node:fs/promises';
import { detectBinaryVersion, findExecutable, type DetectContext, type ModuleDetection } from '@sisyphus/core';
import type { FfmpegSettings } from './ffmpeg-schema.js';
import { encoderUsable, hwaccelUsable, type HardwareEnvironment } from './hardware-support.js';

/** One line of `ffmpeg -encoders`. */
export interface ListedEncoder {
  /** The encoder's name (`libx264`, `hevc_nvenc`, `aac`). */
  name: string;
  /** The codec it encodes (`h264`; the name itself when they are equal). */
  codec: string;
  /** Flag `X`: ffmpeg takes it for a codec name only when no other encoder of the codec is stable. */
  experimental: boolean;
}

/** Most output lines read from one listing (ffmpeg's encoder list has a few hundred). */
const MAX_LINES = 5000;

/**
 * Parse `ffmpeg -hide_banner -encoders`: the lines after the legend's
 * `------`, each ` FLAGS NAME  LONG NAME[ (codec CODEC)]`, in ffmpeg's
 * order (within a codec, the order ffmpeg picks from).
 */
export function parseEncoderList(lines: readonly string[]): ListedEncoder[] {
  const start = lines.findIndex((l) => /^\s*-{6,}\s*$/.test(l));
  const encoders: ListedEncoder[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s*([A-Z.]{6,})\s+([A-Za-z0-9_.+-]+)(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const codec = /\(codec ([A-Za-z0-9_.+-]+)\)\s*$/.exec(m[3] ?? '')?.[1] ?? m[2]!;
    encoders.push({ name: m[2]!, codec, experimental: m[1]![3] === 'X' });
  }
  return encoders;
}

/** Parse `ffmpeg -hide_banner -hwaccels`: the names after `Hardware acceleration methods:`. */
export function parseHwaccelList(lines: readonly string[]): string[] {
  const start = lines.findIndex((l) => /acceleration methods:/i.test(l));
  return lines
    .slice(start + 1)
    .map((l) => l.trim())
    .filter((l) => /^[A-Za-z0-9_.-]+$/.test(l));
}

/**
 * The encoder names a job may give in a codec option (`-c:v NAME`) and this
 * worker can run: every usable encoder by its name, plus every codec name
 * that is not an encoder's name and whose default encoder is usable (ffmpeg
 * reads `-c:v h264` as "the codec's first stable encoder", `libx264` when
 * it is built in, a hardware one otherwise). Hardware encoders count only
 * with a device to run them (see `encoderUsable`).
 */
export function advertisedEncoders(listed: readonly ListedEncoder[], env: HardwareEnvironment): string[] {
  const names = new Set(listed.map((e) => e.name));
  const usable = new Set<string>();
  const chosen = new Map<string, ListedEncoder>();
  for (const encoder of listed) {
    if (encoderUsable(encoder.name, env)) usable.add(encoder.name);
    const first = chosen.get(encoder.codec);
    if (!first || (first.experimental && !encoder.experimental)) chosen.set(encoder.codec, encoder);
  }
  for (const [codec, encoder] of chosen) {
    if (!names.has(codec) && encoderUsable(encoder.name, env)) usable.add(codec);
  }
  return [...usable].sort();
}

/** Stdout lines of one ffmpeg run, or `undefined` (logged) when it failed. */
async function outputOf(ctx: DetectContext<unknown>, path: string, args: string[]): Promise<string[] | undefined> {
  const lines: string[] = [];
  try {
    await ctx.runner.run(path, args, {
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      onStdoutLine: (line) => {
        if (lines.length < MAX_LINES) lines.push(line);
      },
    });
    return lines;
  } catch (error) {
    ctx.logger?.warn(`ffmpeg ${args.join(' ')} failed, so none are advertised: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

const hasVideoDevices = async () => (await readdir('/dev').catch(() => [] as string[])).some((n) => /^video\d+$/.test(n));

/**
 * The ffmpeg module's `detect` hook: ffmpeg's and ffprobe's versions
 * (`-version`), the encoders (`-encoders`) and hardware acceleration
 * methods (`-hwaccels`) this worker can use: hardware ones only with a
 * device to run them. The binaries are the ones `settings.ffmpeg` names. A
 * missing binary is absent. `environment` replaces what is read from the
 * machine (tests).
 */
export async function detectFfmpeg(ctx: DetectContext<FfmpegSettings>, environment: Partial<HardwareEnvironment> = {}): Promise<ModuleDetection> {
  const settings = ctx.settings ?? {};
  const [ffmpeg, ffprobe] = await Promise.all([
    detectBinaryVersion(ctx, 'ffmpeg', { configured: settings.ffmpeg, args: ['-version'], pattern: /^ffmpeg version (\S+)/ }),
    detectBinaryVersion(ctx, 'ffprobe', { configured: settings.ffprobe, args: ['-version'], pattern: /^ffprobe version (\S+)/ }),
  ]);
  const binaries: Record<string, string> = {};
  if (ffmpeg) binaries.ffmpeg = ffmpeg;
  if (ffprobe) binaries.ffprobe = ffprobe;
  const path = ffmpeg ? (await findExecutable('ffmpeg', settings.ffmpeg)).path : undefined;
  if (!path) return { binaries };
  const [encoderLines, hwaccelLines, videoDevices] = await Promise.all([
    outputOf(ctx, path, ['-hide_banner', '-encoders']),
    outputOf(ctx, path, ['-hide_banner', '-hwaccels']),
    environment.videoDevices ?? hasVideoDevices(),
  ]);
  const env: HardwareEnvironment = { gpus: environment.gpus ?? ctx.gpus, videoDevices, platform: environment.platform ?? process.platform };
  return {
    binaries,
    encoders: encoderLines ? advertisedEncoders(parseEncoderList(encoderLines), env) : [],
    hwaccels: hwaccelLines ? [...new Set(parseHwaccelList(hwaccelLines).filter((h) => hwaccelUsable(h, env)))].sort() : [],
  };
}
