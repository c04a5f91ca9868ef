import { detectBinaryVersion, type DetectContext, type ModuleDetection } from '@sisyphus/core';
import type { MkvmergeSettings } from './mkvmerge-schema.js';

/** `mkvmerge v74.0.0 ('You Oughta Know') 64-bit` -> `74.0.0` (mkvextract prints the same form). */
export const MKVTOOLNIX_VERSION = /^mkv\w+ v?(\d[^\s(]*)/;

/**
 * The mkvmerge module's `detect` hook: mkvmerge's version (`--version`),
 * the binary `settings.mkvmerge` names. A missing binary is absent.
 */
export async function detectMkvmerge(ctx: DetectContext<MkvmergeSettings>): Promise<ModuleDetection> {
  const version = await detectBinaryVersion(ctx, 'mkvmerge', { configured: ctx.settings?.mkvmerge, args: ['--version'], pattern: MKVTOOLNIX_VERSION });
  return version ? { binaries: { mkvmerge: version } } : {};
}

/** The mkvmerge module's `requires` hook: `binary:mkvmerge`. */
export function mkvmergeRequirements(): string[] {
  return ['binary:mkvmerge'];
}
