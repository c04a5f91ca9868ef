import type { MkvmergeData } from './mkvmerge-schema.js';
import { RunError } from '@sisyphus/core';
import { isMkvmergeOptionName, planMkvmergeOptions, type PlannedOption } from './option-policy.js';

/** A track of a source as `mkvmerge -J` identifies it. */
export interface IdentifiedTrack {
  id: number;
  /** `video`, `audio`, `subtitles` or `buttons`. */
  type: string;
  codec?: string;
  properties?: { language?: string; track_name?: string };
}

/** An attachment ready to pass on: file, name and MIME type known. */
export interface ResolvedAttachment {
  path: string;
  name: string;
  mimeType: string;
  description?: string;
}

/** Per track type: the selection flag, the "none" flag and the `_copy-*` source option. */
const TRACK_TYPES = [
  { type: 'video', select: '--video-tracks', none: '--no-video', copy: '_copy-video-tracks' },
  { type: 'audio', select: '--audio-tracks', none: '--no-audio', copy: '_copy-audio-tracks' },
  { type: 'subtitles', select: '--subtitle-tracks', none: '--no-subtitles', copy: '_copy-subtitles-tracks' },
  { type: 'buttons', select: '--button-tracks', none: '--no-buttons', copy: '_copy-buttons-tracks' },
] as const;

/** Resolved paths of the files options name, keyed by the `field` of each file reference `reviewMkvmergeOptions` returns. */
export type ResolvedOptionFiles = Readonly<Record<string, string>>;

/** `--KEY` and its argument, with file references replaced by their resolved paths. */
function optionArgs(planned: readonly PlannedOption[], files: ResolvedOptionFiles): string[] {
  const args: string[] = [];
  for (const option of planned) {
    args.push(option.flag);
    if (!option.arg) continue;
    args.push(
      option.arg
        .map((piece) => {
          if (typeof piece === 'string') return piece;
          const path = files[piece.file];
          // Never fall back to the job's own value: that would skip the path check.
          if (path === undefined) throw new Error(`buildMkvmergeArgs: no resolved path for ${piece.file} (check reviewMkvmergeOptions(data).files with the PathGuard first)`);
          // mkvmerge strips white space around `TID:FILE` names and splits segment-uid at commas: it would open another file.
          if (path !== path.trim()) throw new RunError(`${piece.file} resolves to ${JSON.stringify(path)}, which starts or ends with white space`);
          if (option.flag === '--segment-uid' && path.includes(',')) throw new RunError(`${piece.file} resolves to ${path}, whose comma mkvmerge would take as a separator`);
          return path;
        })
        .join(''),
    );
  }
  return args;
}

/**
 * The mkvmerge argv (without the program) for `data`, given each source's
 * identified tracks. Only listed tracks are taken from a source unless a
 * `_copy-TYPE-tracks` option keeps all of that type; track options become
 * `--KEY TID:VALUE` (or `--KEY TID` for TID-only forms and null flags)
 * before the source's file; the output's track order is the order of
 * `tracks`.
 *
 * Options are checked against mkvmerge's option table first (a
 * ValidationError for anything `reviewMkvmergeOptions` refuses). `files`
 * maps each file reference's field (`options.chapters`,
 * `tracks[0].options.tags`) to its checked, resolved path; those paths
 * replace the job's values, and a missing one is an error.
 */
export function buildMkvmergeArgs(
  data: MkvmergeData,
  identified: readonly (readonly IdentifiedTrack[])[],
  attachments: readonly ResolvedAttachment[] = [],
  outputFile = data.output_file,
  files: ResolvedOptionFiles = {},
): string[] {
  const planned = planMkvmergeOptions(data);
  const args = ['--gui-mode', '--output', outputFile, ...optionArgs(planned.global, files)];
  for (const [index, source] of data.sources.entries()) {
    const listed = data.tracks.filter((t) => t.source === index);
    const tracks = identified[index] ?? [];
    const typeOf = (id: number) => tracks.find((t) => t.id === id)?.type;
    for (const kind of TRACK_TYPES) {
      const copyAll = source.options?.[kind.copy];
      if (copyAll !== undefined && copyAll !== false) continue;
      const ids = listed.filter((t) => typeOf(t.track) === kind.type).map((t) => t.track);
      if (ids.length) args.push(kind.select, ids.join(','));
      else if (tracks.some((t) => t.type === kind.type)) args.push(kind.none);
    }
    for (const [i, track] of data.tracks.entries()) if (track.source === index) args.push(...optionArgs(planned.tracks[i]!, files));
    args.push(...optionArgs(planned.sources[index]!, files), source.filename);
  }
  for (const a of attachments) {
    // Files found in attachment_directories are named by the folder's content, not by the job.
    for (const text of [a.name, a.description ?? '']) {
      if (isMkvmergeOptionName(text)) throw new RunError(`attachment ${a.path}: ${JSON.stringify(text)} is an mkvmerge option name, and mkvmerge would read it as one`);
    }
    if (a.description) args.push('--attachment-description', a.description);
    args.push('--attachment-mime-type', a.mimeType, '--attachment-name', a.name, '--attach-file', a.path);
  }
  args.push('--track-order', data.tracks.map((t) => `${t.source}:${t.track}`).join(','));
  return args;
}
