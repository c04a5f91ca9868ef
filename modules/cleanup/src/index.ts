import { createRequire } from 'node:module';
import { defineModule, definePlugin } from '@sisyphus/core';
import { CleanupDataSchema } from './cleanup-schema.js';
import { CleanupTask } from './cleanup-task.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `cleanup` task module: delete, copy and move files. */
export const cleanupModule = defineModule({
  name: 'cleanup',
  description: 'Delete, copy (timestamps kept) and move (across filesystems) files',
  schema: CleanupDataSchema,
  task: CleanupTask,
});

export { CleanupDataSchema, TransferSchema, type CleanupData, type Transfer } from './cleanup-schema.js';
export { CleanupTask } from './cleanup-task.js';
export { copyEntry, moveEntry, deleteEntry, finalDestination, copyPreserving, type CopyStep } from './file-ops.js';

/** The plugin: default export, found by the worker config or the embedded default. */
export default definePlugin({ name: '@sisyphus/module-cleanup', version, modules: [cleanupModule] });
