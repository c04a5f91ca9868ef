import type { ExtractMode, ResolvedExtraction } from './select.js';

/** mkvextract's mode name for each data field (the original used `timestamps_v2`). */
const MODE_ARG: Record<ExtractMode, string> = {
  tracks: 'tracks',
  attachments: 'attachments',
  chapters: 'chapters',
  tags: 'tags',
  timestamps: 'timestamps_v2',
  cues: 'cues',
};
const ORDER: ExtractMode[] = ['tracks', 'attachments', 'chapters', 'tags', 'timestamps', 'cues'];

/**
 * mkvextract's argv (without the binary): `SOURCE --gui-mode MODE SPEC...`
 * with one mode per kind of output, all in one run. `paths[i]` is where
 * `list[i]` is written (the attempt's private path). The source and every
 * output are absolute paths, so no argument starts with `-` or `@`; a
 * `TID:path` spec splits at its first colon, so colons in names are safe.
 */
export function buildMkvextractArgs(source: string, list: readonly ResolvedExtraction[], paths: readonly string[]): string[] {
  const args = [source, '--gui-mode'];
  for (const mode of ORDER) {
    const items = list.map((x, i) => ({ x, path: paths[i]! })).filter(({ x }) => x.mode === mode);
    if (!items.length) continue;
    args.push(MODE_ARG[mode]);
    for (const { x, path } of items) args.push(x.sourceId === undefined ? path : `${x.sourceId}:${path}`);
  }
  return args;
}
