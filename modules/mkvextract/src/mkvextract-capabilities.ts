import { detectBinaryVersion, type DetectContext, type ModuleDetection } from '@sisyphus/core';
import type { MkvextractSettings } from './mkvextract-schema.js';

/** `mkvextract v74.0.0 ('You Oughta Know') 64-bit` -> `74.0.0`. */
const MKVTOOLNIX_VERSION = /^mkv\w+ v?(\d[^\s(]*)/;

/**
 * The mkvextract module's `detect` hook: the versions of mkvextract and of
 * mkvmerge, which identifies the files (`--version`), the binaries
 * `settings.mkvextract` names. A missing binary is absent.
 */
export async function detectMkvextract(ctx: DetectContext<MkvextractSettings>): Promise<ModuleDetection> {
  const settings = ctx.settings ?? {};
  const [mkvextract, mkvmerge] = await Promise.all([
    detectBinaryVersion(ctx, 'mkvextract', { configured: settings.mkvextract, args: ['--version'], pattern: MKVTOOLNIX_VERSION }),
    detectBinaryVersion(ctx, 'mkvmerge', { configured: settings.mkvmerge, args: ['--version'], pattern: MKVTOOLNIX_VERSION }),
  ]);
  const binaries: Record<string, string> = {};
  if (mkvextract) binaries.mkvextract = mkvextract;
  if (mkvmerge) binaries.mkvmerge = mkvmerge;
  return { binaries };
}

/** The mkvextract module's `requires` hook: `binary:mkvextract` and `binary:mkvmerge`. */
export function mkvextractRequirements(): string[] {
  return ['binary:mkvextract', 'binary:mkvmerge'];
}
