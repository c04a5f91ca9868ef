// The data and settings types the shipped modules export keep what their
// schemas say: literal unions stay unions, optional stays optional, and a
// misspelled key does not compile.
import { expectTypeOf } from 'vitest';
import type { ModuleData, SettingsOf, TaskModule } from '@sisyphus/core';
import { ffmpegModule, type FfmpegData, type FfmpegSettings, type OutputMap, type SourceMap } from '@sisyphus/module-ffmpeg';
import { mkvmergeModule, type MkvAttachment, type MkvmergeData, type MkvmergeSettings } from '@sisyphus/module-mkvmerge';
import { cleanupModule, type CleanupData, type Transfer } from '@sisyphus/module-cleanup';
import { checksumModule, type ChecksumData, type ChecksumSettings } from 'sisyphus-module-checksum';

type StreamType = 'v' | 'V' | 'a' | 's' | 'd' | 't';

// ffmpeg: the stream type letters are a literal union, not `string`, not `undefined`.
expectTypeOf<SourceMap['specifier']>().toEqualTypeOf<StreamType | undefined>();
expectTypeOf<OutputMap['specifier']>().toEqualTypeOf<StreamType | undefined>();
expectTypeOf<FfmpegData['source_maps'][number]>().toEqualTypeOf<SourceMap>();
expectTypeOf<FfmpegData['output_file']>().toEqualTypeOf<string>();
expectTypeOf<FfmpegData['overwrite']>().toEqualTypeOf<boolean | undefined>();
expectTypeOf<ModuleData<typeof ffmpegModule>>().toEqualTypeOf<FfmpegData>();
expectTypeOf<SettingsOf<NonNullable<typeof ffmpegModule.settingsSchema>>>().toEqualTypeOf<FfmpegSettings>();
expectTypeOf<FfmpegSettings['signal_retries']>().toEqualTypeOf<number | undefined>();

export const encode: FfmpegData = {
  sources: ['/media/in.mkv'],
  source_maps: [{ source: 0, specifier: 'v' }, { source: 0, specifier: 'a', stream: 1, optional: true }],
  output_maps: [{ specifier: 'v', options: { crf: 20, 'x265-params': { 'aq-mode': 3 } } }, { options: { f: 'matroska' } }],
  output_file: '/media/out.mkv',
};
// @ts-expect-error 'x' is no ffmpeg stream type letter
export const badSpecifier: SourceMap = { source: 0, specifier: 'x' };
// @ts-expect-error misspelled key
export const badKey: FfmpegData = { sources: ['a'], source_maps: [{ source: 0 }], output_fil: 'b' };

// mkvmerge
expectTypeOf<ModuleData<typeof mkvmergeModule>>().toEqualTypeOf<MkvmergeData>();
expectTypeOf<MkvmergeData['tracks'][number]['track']>().toEqualTypeOf<number>();
expectTypeOf<NonNullable<MkvmergeData['options']>[string]>().toEqualTypeOf<string | number | boolean | null>();
expectTypeOf<MkvAttachment['mime_type']>().toEqualTypeOf<string | undefined>();
expectTypeOf<MkvmergeSettings>().toEqualTypeOf<{ mkvmerge?: string }>();
export const mux: MkvmergeData = {
  sources: [{ filename: 'a.mkv', options: { 'no-chapters': null } }],
  tracks: [{ source: 0, track: 0, options: { language: 'eng' } }],
  output_file: 'b.mkv',
};
// @ts-expect-error `track` is a number (mkvmerge's track id)
export const badTrack: MkvmergeData = { sources: [{ filename: 'a.mkv' }], tracks: [{ source: 0, track: '0' }], output_file: 'b.mkv' };

// cleanup
expectTypeOf<ModuleData<typeof cleanupModule>>().toEqualTypeOf<CleanupData>();
expectTypeOf<Transfer>().toEqualTypeOf<{ source: string; destination: string }>();
expectTypeOf<CleanupData>().toEqualTypeOf<{ delete?: string[]; copy?: Transfer[]; move?: Transfer[]; delete_folders?: string[] }>();
// @ts-expect-error misspelled key
export const badCleanup: CleanupData = { delet: ['a'] };

// the example third-party module
type Algorithm = 'sha256' | 'sha1' | 'md5' | 'sha512';
expectTypeOf<ModuleData<typeof checksumModule>>().toEqualTypeOf<ChecksumData>();
expectTypeOf<ChecksumData['algorithm']>().toEqualTypeOf<Algorithm | undefined>();
expectTypeOf<ChecksumSettings['defaultAlgorithm']>().toEqualTypeOf<Algorithm | undefined>();
// @ts-expect-error not an algorithm the module knows
export const badAlgorithm: ChecksumData = { files: ['a'], algorithm: 'crc32' };

// Every shipped module is a TaskModule (what definePlugin and createEngine take).
export const all: readonly TaskModule[] = [ffmpegModule, mkvmergeModule, cleanupModule, checksumModule];
