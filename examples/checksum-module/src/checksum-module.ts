import { stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RunError, ValidationError, defineModule } from '@sisyphus/core';
import { ChecksumDataSchema, ChecksumSettingsSchema, type ChecksumSettings } from './checksum-schema.js';
import { hashFile } from './hash-file.js';

/**
 * The `checksum` task module, declared without decorators: `setup` receives
 * the task context (data, settings, logger, progress, paths, signal) and
 * returns the lifecycle hooks, which share state through the closure.
 */
export const checksumModule = defineModule({
  name: 'checksum',
  description: 'Hash files with progress; write sidecar files; verify expected digests',
  schema: ChecksumDataSchema,
  settingsSchema: ChecksumSettingsSchema,
  setup(ctx) {
    const settings = ctx.settings as ChecksumSettings;
    const algorithm = ctx.data.algorithm ?? settings.defaultAlgorithm ?? 'sha256';
    let files: string[] = [];
    const written: string[] = [];

    return {
      async validate() {
        for (const key of Object.keys(ctx.data.expect ?? {})) {
          if (!ctx.data.files.includes(key)) throw new ValidationError(`expect[${JSON.stringify(key)}] names a file that is not in files`);
        }
        // Paths are checked against the worker's allowed roots before anything runs.
        files = await Promise.all(ctx.data.files.map((f, i) => ctx.paths.check(f, `files[${i}]`)));
      },

      plan: () => files.map((f) => `${algorithm} ${f}${ctx.data.sidecar ? ` -> ${f}.${algorithm}` : ''}`),

      async run() {
        const sizes = await Promise.all(
          files.map((f, i) =>
            stat(f).then(
              (s) => s.size,
              () => {
                throw new RunError(`files[${i}]: ${f} does not exist`);
              },
            ),
          ),
        );
        const total = sizes.reduce((a, b) => a + b, 0) || 1;
        let before = 0;
        for (const [i, file] of files.entries()) {
          const digest = await hashFile(file, algorithm, ctx.signal, (bytes) =>
            ctx.progress.report({ percent: ((before + bytes) / total) * 100 }),
          );
          before += sizes[i]!;
          ctx.logger.info(`${digest}  ${file}`);
          const expected = ctx.data.expect?.[ctx.data.files[i]!];
          if (expected && expected.toLowerCase() !== digest) {
            throw new RunError(`${file}: ${algorithm} is ${digest}, expected ${expected.toLowerCase()}`);
          }
          if (ctx.data.sidecar) {
            await writeFile(`${file}.${algorithm}`, `${digest}  ${basename(file)}\n`);
            written.push(`${file}.${algorithm}`);
          }
        }
        ctx.progress.report({ percent: 100 });
      },

      cleanup(outcome) {
        if (outcome.failed && written.length) ctx.logger.warn(`left ${written.length} sidecar file(s) from before the failure`);
      },
    };
  },
});
