import { stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RunError, ValidationError, defineModule } from '@sisyphus/core';
import { ChecksumDataSchema, ChecksumSettingsSchema } from './checksum-schema.js';
import { hashFile } from './hash-file.js';

/**
 * The `checksum` task module, declared without decorators: `setup` receives
 * the task context (data, settings, logger, progress, paths, outputFiles,
 * signal) and returns the lifecycle hooks, which share state through the
 * closure. Sidecar files are written the way every module writes outputs:
 * claimed for this attempt, written under a private path, renamed into
 * place (`ctx.outputFiles`).
 */
export const checksumModule = defineModule({
  name: 'checksum',
  description: 'Hash files with progress; write sidecar files; verify expected digests',
  schema: ChecksumDataSchema,
  settingsSchema: ChecksumSettingsSchema,
  setup(ctx) {
    const algorithm = ctx.data.algorithm ?? ctx.settings.defaultAlgorithm ?? 'sha256';
    let files: string[] = [];
    const written: string[] = [];

    return {
      async validate() {
        for (const key of Object.keys(ctx.data.expect ?? {})) {
          if (!ctx.data.files.includes(key)) throw new ValidationError(`expect[${JSON.stringify(key)}] names a file that is not in files`);
        }
        // Paths are checked against the worker's allowed roots before anything runs.
        files = await Promise.all(ctx.data.files.map((f, i) => ctx.paths.check(f, `files[${i}]`)));
        // A sidecar that cannot be written (read-only share, name too long) is found now, not after hashing.
        if (ctx.data.sidecar) for (const [i, f] of files.entries()) await ctx.outputFiles.check(`${f}.${algorithm}`, `files[${i}] (sidecar)`);
      },

      inputs: () => files,
      outputs: () => (ctx.data.sidecar ? files.map((f) => `${f}.${algorithm}`) : []),

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
            const sidecar = await ctx.outputFiles.claim(`${file}.${algorithm}`, { field: `files[${i}] (sidecar)`, overwrite: true });
            await writeFile(sidecar.path, `${digest}  ${basename(file)}\n`);
            written.push(...(await sidecar.promote()));
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
