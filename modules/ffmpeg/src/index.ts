import { createRequire } from 'node:module';
import { defineModule, definePlugin } from '@sisyphus/core';
import { FfmpegDataSchema, FfmpegSettingsSchema } from './ffmpeg-schema.js';
import { FfmpegTask } from './ffmpeg-task.js';
import { detectFfmpeg } from './ffmpeg-capabilities.js';
import { ffmpegRequirements } from './ffmpeg-requirements.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `ffmpeg` task module. */
export const ffmpegModule = defineModule({
  name: 'ffmpeg',
  description: 'Encode with ffmpeg: stream maps, per-stream options, server-side option sets, progress',
  schema: FfmpegDataSchema,
  settingsSchema: FfmpegSettingsSchema,
  task: FfmpegTask,
  detect: (ctx) => detectFfmpeg(ctx),
  requires: (data, ctx) => ffmpegRequirements(data, ctx),
});

export * from './ffmpeg-schema.js';
export { REFUSED_INPUT_FORMATS } from './ffmpeg-option-table.js';
export {
  buildFfmpegArgs,
  checkOptionValue,
  isFlagOption,
  mapSpec,
  optionArgs,
  optionField,
  streamSuffix,
  stderrSummary,
  PROGRESS_ARGS,
  type ResolvedOutputMap,
} from './build-args.js';
// Confinement of option values (what names files, what is refused): the integrator's and a wrapper's door.
export {
  reviewFfmpegOptions,
  resolveOptionFiles,
  reviewPathField,
  outputKind,
  type OptionFileRef,
  type OptionUrl,
  type OptionPolicy,
  type OptionReview,
  type ReviewedOptions,
  type FfmpegOutputKind,
} from './option-policy.js';
export { resolveOptionSets } from './option-sets.js';
export { FfmpegProgressParser } from './progress-parser.js';
export { probe, selectStreams, describeStreams, type ProbeResult, type ProbedStream } from './probe.js';
export { parseTime, parseFrameRate, expectedOutput, type OutputTotals } from './stream-check.js';
export { verifyEncode, verifySequence, type EncodeReport } from './verify-output.js';
export { FfmpegTask } from './ffmpeg-task.js';
// Capability routing: what this worker's ffmpeg can do, and what a task needs of it.
export { detectFfmpeg, parseEncoderList, parseHwaccelList, advertisedEncoders, type ListedEncoder } from './ffmpeg-capabilities.js';
export { ffmpegRequirements } from './ffmpeg-requirements.js';
export { encoderUsable, hwaccelUsable, type HardwareEnvironment } from './hardware-support.js';

/** The plugin: default export. */
export default definePlugin({ name: '@sisyphus/module-ffmpeg', version, modules: [ffmpegModule] });
