import { createRequire } from 'node:module';
import { defineModule, definePlugin } from '@sisyphus/core';
import { MkvmergeDataSchema, MkvmergeSettingsSchema } from './mkvmerge-schema.js';
import { MkvmergeTask } from './mkvmerge-task.js';
import { detectMkvmerge, mkvmergeRequirements } from './mkvmerge-capabilities.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `mkvmerge` task module. */
export const mkvmergeModule = defineModule({
  name: 'mkvmerge',
  description: 'Mux with mkvmerge: track selection and options, attachments, track order, progress',
  schema: MkvmergeDataSchema,
  settingsSchema: MkvmergeSettingsSchema,
  task: MkvmergeTask,
  detect: (ctx) => detectMkvmerge(ctx),
  requires: () => mkvmergeRequirements(),
});

export * from './mkvmerge-schema.js';
export { buildMkvmergeArgs, type IdentifiedTrack, type ResolvedAttachment, type ResolvedOptionFiles } from './build-args.js';
export {
  reviewMkvmergeOptions,
  outputKind,
  checkEmbeddedFiles,
  findEmbeddedFileNames,
  optionField,
  isMkvmergeOptionName,
  type MkvFileReference,
  type MkvOptionReview,
} from './option-policy.js';
export {
  MKVMERGE_OPTIONS,
  MKVMERGE_OPTION_SPELLINGS,
  findMkvOption,
  type MkvOptionSpec,
  type MkvOptionScope,
  type MkvValueKind,
  type MkvFileRole,
} from './mkvmerge-option-table.js';
export { detectMimeType } from './mime-type.js';
export { parseGuiLine, type GuiLine } from './gui-output.js';
export { identify, identifyFile, readIdentification, describeTracks, type Identification, type Identified } from './identify.js';
export { MkvmergeTask } from './mkvmerge-task.js';
export { detectMkvmerge, mkvmergeRequirements } from './mkvmerge-capabilities.js';

/** The plugin: default export. */
export default definePlugin({ name: '@sisyphus/module-mkvmerge', version, modules: [mkvmergeModule] });
