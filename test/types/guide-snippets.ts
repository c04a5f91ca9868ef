// The code of docs/writing-a-module.md, as a module author types it against
// the published declarations (the guide's elisions filled in). If this stops
// compiling, the guide is wrong or the SDK's types broke: keep them in step.
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expectTypeOf } from 'vitest';
import {
  RunError, TOKENS, Type, ValidationError, defineModule, definePlugin, detectBinaryVersion, formatCommand, inject, injectable,
  type Logger, type ProcessRunner, type SettingsOf, type Static, type TaskHandler,
} from '@sisyphus/core';

// "Schemas"
export const ThumbsDataSchema = Type.Object(
  {
    input: Type.String({ minLength: 1, description: 'File to compress' }),
    output: Type.Optional(Type.String({ minLength: 1, description: 'Where to write it (default: INPUT.gz)' })),
    level: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })),
    overwrite: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ThumbsSettingsSchema = Type.Object(
  { level: Type.Optional(Type.Integer({ minimum: 1, maximum: 9, description: 'Default gzip level' })) },
  { additionalProperties: false },
);

// "Without decorators: setup(context)"
const TOOL = fileURLToPath(new URL('../tool/gzip-file.mjs', import.meta.url));
const PROGRESS_LINE = /^progress (\d+) (\d+)$/;

export const thumbsModule = defineModule({
  name: 'thumbs',
  description: 'Compress a file with gzip in a child process',
  schema: ThumbsDataSchema,
  settingsSchema: ThumbsSettingsSchema,
  setup(ctx) {
    const level = ctx.data.level ?? ctx.settings.level ?? 6;
    expectTypeOf(level).toEqualTypeOf<number>();
    let input = '';
    let output = '';
    const argv = (target: string) => [TOOL, input, target, String(level)];

    return {
      async validate() {
        input = await ctx.paths.check(ctx.data.input, 'input');
        output = await ctx.paths.check(ctx.data.output ?? `${ctx.data.input}.gz`, 'output');
        const source = await stat(input).catch(() => undefined);
        if (!source?.isFile()) throw new ValidationError(`input: ${input} is not a file`);
        if (!ctx.data.overwrite && (await stat(output).catch(() => undefined))) {
          throw new ValidationError(`output: ${output} exists (set overwrite: true to replace it)`);
        }
        await ctx.outputFiles.check(output, 'output');
      },

      inputs: () => [input],
      outputs: () => [output],
      plan: () => [formatCommand([process.execPath, ...argv(output)])],

      async run() {
        const claim = await ctx.outputFiles.claim(output, { field: 'output', overwrite: ctx.data.overwrite ?? false });
        await ctx.runner.run(process.execPath, argv(claim.path), {
          onStdoutLine: (line) => {
            const match = PROGRESS_LINE.exec(line);
            if (match) ctx.progress.report({ percent: Math.min(99.9, (Number(match[1]) / Math.max(1, Number(match[2]))) * 100) });
          },
        });
        await claim.promote();
        ctx.logger.info(`wrote ${output}`);
        ctx.progress.report({ percent: 100 });
      },
    };
  },
});

// "The plugin"
export default definePlugin({ name: 'sisyphus-module-thumbs', version: '1.0.0', modules: [thumbsModule] });

// "With a class and DI"
const TranscodeSchema = Type.Object({ input: Type.String(), output: Type.String() }, { additionalProperties: false });
type TranscodeData = Static<typeof TranscodeSchema>;

@injectable()
export class TranscodeTask implements TaskHandler {
  constructor(
    @inject(TOKENS.TaskData) private readonly data: TranscodeData,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.ModuleSettings) private readonly settings: SettingsOf<typeof ThumbsSettingsSchema>,
  ) {}

  async run() {
    await this.runner.run('/usr/bin/ffmpeg', ['-i', this.data.input, '-compression_level', String(this.settings.level ?? 6), this.data.output]);
    this.logger.info('done');
  }
}

export const transcode = defineModule({ name: 'transcode', schema: TranscodeSchema, settingsSchema: ThumbsSettingsSchema, task: TranscodeTask });

class PlainTranscodeTask implements TaskHandler {
  static inject = [TOKENS.TaskData, TOKENS.ProcessRunner];
  constructor(private data: TranscodeData, private runner: ProcessRunner) {}
  async run() {
    const out = await this.runner.run('/usr/bin/ffmpeg', ['-i', this.data.input, this.data.output]);
    if (out.exitCode !== 0) throw new RunError('ffmpeg failed');
  }
}
export const plainTranscode = defineModule({ name: 'transcode-plain', schema: TranscodeSchema, task: PlainTranscodeTask });

// "Capabilities: detect and requires"
export const hashModule = defineModule({
  name: 'hash',
  schema: Type.Object({ file: Type.String(), algorithm: Type.Union([Type.Literal('sha256'), Type.Literal('blake3')]) }, { additionalProperties: false }),
  settingsSchema: Type.Object({ b3sum: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
  setup: (ctx) => ({ run: () => ctx.logger.info(`hashing ${ctx.data.file}`) }),
  detect: async (ctx) => {
    expectTypeOf(ctx.settings.b3sum).toEqualTypeOf<string | undefined>();
    const version = await detectBinaryVersion(ctx, 'b3sum', { configured: ctx.settings.b3sum });
    return version ? { binaries: { b3sum: version } } : {};
  },
  requires: (data) => {
    expectTypeOf(data.algorithm).toEqualTypeOf<'sha256' | 'blake3'>();
    return data.algorithm === 'blake3' ? ['binary:b3sum'] : [];
  },
});
