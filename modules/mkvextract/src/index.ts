import { createRequire } from 'node:module';
import { defineModule, definePlugin } from '@sisyphus/core';
import { MkvextractDataSchema, MkvextractSettingsSchema } from './mkvextract-schema.js';
import { MkvextractTask } from './mkvextract-task.js';
import { detectMkvextract, mkvextractRequirements } from './mkvextract-capabilities.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `mkvextract` task module. */
export const mkvextractModule = defineModule({
  name: 'mkvextract',
  description: 'Extract tracks, attachments, chapters, tags, timestamps and cues from a Matroska file with mkvextract',
  schema: MkvextractDataSchema,
  settingsSchema: MkvextractSettingsSchema,
  task: MkvextractTask,
  detect: (ctx) => detectMkvextract(ctx),
  requires: () => mkvextractRequirements(),
});

export * from './mkvextract-schema.js';
export { buildMkvextractArgs } from './build-args.js';
export { identifySource, describeTracks, describeAttachments, type SourceInfo, type SourceTrack, type SourceAttachment } from './identify.js';
export { checkExtractionData, listExtractions, resolveExtractions, selectTrack, type Extraction, type ExtractMode, type ResolvedExtraction } from './select.js';
export { verifyExtraction } from './verify-output.js';
export { MkvextractTask } from './mkvextract-task.js';
export { detectMkvextract, mkvextractRequirements } from './mkvextract-capabilities.js';

/** The plugin: default export. */
export default definePlugin({ name: '@sisyphus/module-mkvextract', version, modules: [mkvextractModule] });
