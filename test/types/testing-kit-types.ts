// The test kit takes a module's data and settings as the module's schemas say:
// `runTask(module, data, { settings })` and `planTask` infer both from the
// module, so a value outside a literal union, a misspelled key or a settings
// value of the wrong type does not compile.
import { expectTypeOf } from 'vitest';
import { TOKENS, Type, defineModule, inject, injectable, type ModuleData, type Static, type TaskModule } from '@sisyphus/core';
import { planTask, runTask, type ModuleSettingsOf, type TestTaskOptions } from '@sisyphus/core/testing';
import { ffmpegModule, type FfmpegSettings } from '@sisyphus/module-ffmpeg';

const TranscodeSchema = Type.Object({
  input: Type.String(),
  output: Type.String(),
  codec: Type.Union([Type.Literal('mpeg4'), Type.Literal('libx264')]),
  overwrite: Type.Optional(Type.Boolean()),
});
const TranscodeSettings = Type.Object({ ffmpeg: Type.Optional(Type.String()), threads: Type.Optional(Type.Integer()) });

// A decorated class module, as in the guide's DI example.
@injectable()
class TranscodeTask {
  constructor(@inject(TOKENS.TaskData) private readonly data: Static<typeof TranscodeSchema>) {}
  run(): void {
    void this.data.codec;
  }
}
const transcode = defineModule({ name: 'transcode', schema: TranscodeSchema, settingsSchema: TranscodeSettings, task: TranscodeTask });

// A setup module without a settings schema: its settings are a loose record.
const loose = defineModule({ name: 'loose', schema: Type.Object({ n: Type.Number() }), setup: () => ({ run() {} }) });

expectTypeOf<ModuleSettingsOf<typeof transcode>>().toEqualTypeOf<{ ffmpeg?: string; threads?: number }>();
expectTypeOf<ModuleSettingsOf<typeof loose>>().toEqualTypeOf<Record<string, unknown>>();
expectTypeOf<ModuleSettingsOf<typeof ffmpegModule>>().toEqualTypeOf<FfmpegSettings>();
expectTypeOf(runTask<typeof transcode>).parameter(1).toEqualTypeOf<ModuleData<typeof transcode>>();
expectTypeOf(runTask<typeof transcode>).parameter(2).toEqualTypeOf<TestTaskOptions<{ ffmpeg?: string; threads?: number }> | undefined>();

export async function kit(): Promise<void> {
  await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'mpeg4' }, { settings: { threads: 2, ffmpeg: '/usr/bin/ffmpeg' } });
  await planTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'libx264', overwrite: true });
  await runTask(loose, { n: 1 }, { settings: { anything: ['goes'] } });

  // @ts-expect-error 'vp9' is not one of the schema's codecs
  await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'vp9' });
  // @ts-expect-error `output` is required
  await planTask(transcode, { input: 'in.mp4', codec: 'mpeg4' });
  // @ts-expect-error misspelled key
  await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'mpeg4', overwrit: true });
  // @ts-expect-error `threads` is a number
  await runTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'mpeg4' }, { settings: { threads: 'two' } });
  // @ts-expect-error no such setting
  await planTask(transcode, { input: 'in.mp4', output: 'out.mkv', codec: 'mpeg4' }, { settings: { thread: 2 } });
  // @ts-expect-error `n` is a number
  await runTask(loose, { n: '1' });
  // @ts-expect-error the shipped ffmpeg module's settings are typed too
  await planTask(ffmpegModule, { sources: ['a'], source_maps: [], output_maps: [], output_file: 'b' }, { settings: { signal_retries: 'x' } });

  // A helper generic over any module still compiles.
  const any = async <M extends TaskModule>(module: M, data: ModuleData<M>) => runTask(module, data);
  void any;
}
