import type { MkvOptions, MkvmergeData } from './mkvmerge-schema.js';

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

/** `--KEY VALUE`, or a bare `--KEY` for null/true; nothing for false or `_` keys. */
function optionArgs(options: MkvOptions | undefined): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options ?? {})) {
    if (key.startsWith('_') || value === false) continue;
    if (value === null || value === true) args.push(`--${key}`);
    else args.push(`--${key}`, String(value));
  }
  return args;
}

/**
 * The mkvmerge argv (without the program) for `data`, given each source's
 * identified tracks. Only listed tracks are taken from a source unless a
 * `_copy-TYPE-tracks` option keeps all of that type; track options become
 * `--KEY TID:VALUE` before the source's file; the output's track order is
 * the order of `tracks`.
 */
export function buildMkvmergeArgs(
  data: MkvmergeData,
  identified: readonly (readonly IdentifiedTrack[])[],
  attachments: readonly ResolvedAttachment[] = [],
  outputFile = data.output_file,
): string[] {
  const args = ['--gui-mode', '--output', outputFile, ...optionArgs(data.options)];
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
    for (const track of listed) {
      for (const [key, value] of Object.entries(track.options ?? {})) {
        if (key.startsWith('_') || value === false) continue;
        args.push(`--${key}`, value === null || value === true ? String(track.track) : `${track.track}:${value}`);
      }
    }
    args.push(...optionArgs(source.options), source.filename);
  }
  for (const a of attachments) {
    if (a.description) args.push('--attachment-description', a.description);
    args.push('--attachment-mime-type', a.mimeType, '--attachment-name', a.name, '--attach-file', a.path);
  }
  args.push('--track-order', data.tracks.map((t) => `${t.source}:${t.track}`).join(','));
  return args;
}
