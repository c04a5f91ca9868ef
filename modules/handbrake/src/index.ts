import { createRequire } from 'node:module';
import { defineModule, definePlugin } from '@sisyphus/core';
import { HandbrakeDataSchema, HandbrakeSettingsSchema } from './handbrake-schema.js';
import { HandbrakeTask } from './handbrake-task.js';
import { detectHandbrake, handbrakeRequirements } from './handbrake-capabilities.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `handbrake` task module: the original Sisyphus shape, run with HandBrakeCLI 1.6.x. */
export const handbrakeModule = defineModule({
  name: 'handbrake',
  description: 'Encode with HandBrakeCLI: source, destination, video, audio, picture, filter and subtitle options; progress; checked output',
  schema: HandbrakeDataSchema,
  settingsSchema: HandbrakeSettingsSchema,
  task: HandbrakeTask,
  detect: (ctx) => detectHandbrake(ctx),
  requires: (data) => handbrakeRequirements(data),
});

export * from './handbrake-schema.js';
export {
  buildHandbrakeArgs,
  reviewHandbrakeData,
  HANDBRAKE_OPTIONS,
  type HandbrakeFileReference,
  type HandbrakeReview,
  type ExpectedTracks,
  type EncodeRange,
  type ResolvedFiles,
} from './handbrake-args.js';
export { HandbrakeOutputReader, progressFrom, workDoneError, handbrakeReason, HANDBRAKE_ERRORS, type JsonBlock, type StdoutItem } from './json-output.js';
export { probe, type Probed, type ProbedStream } from './probe.js';
export { verifyEncode, expectedSeconds, durationTolerance, type ExpectedEncode } from './verify-output.js';
export { HandbrakeTask } from './handbrake-task.js';
export { detectHandbrake, handbrakeRequirements } from './handbrake-capabilities.js';

/** The plugin: default export. */
export default definePlugin({ name: '@sisyphus/module-handbrake', version, modules: [handbrakeModule] });
