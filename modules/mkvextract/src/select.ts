import type { RunError, ValidationError } from '@sisyphus/core';
import { describeAttachments, describeTracks, type SourceAttachment, type SourceInfo, type SourceTrack } from './identify.js';
import type { MkvextractData, MkvextractTrack } from './mkvextract-schema.js';

/** An extraction mode of mkvextract, by the name the data uses. */
export type ExtractMode = 'tracks' | 'attachments' | 'chapters' | 'tags' | 'timestamps' | 'cues';

/** One output of the task: what to extract and where. */
export interface Extraction {
  mode: ExtractMode;
  /** The data entry (`tracks[1]`, `chapters`). */
  entry: string;
  /** The field naming the file (`tracks[1].filename`, `chapters`). */
  field: string;
  /** The file name as given in the data. */
  given: string;
  /** The id as given (tracks: a track id or an ordinal). */
  id?: number;
  /** The entry's index in its list (`tracks[1]` -> 1). */
  index?: number;
}

/** An extraction with what it selects in the source. */
export interface ResolvedExtraction extends Extraction {
  /** The id mkvextract gets (a track or attachment id). */
  sourceId?: number;
  track?: SourceTrack;
  attachment?: SourceAttachment;
}

/** Every output the data asks for, in the order mkvextract gets them. */
export function listExtractions(data: MkvextractData): Extraction[] {
  const list: Extraction[] = [];
  const idFiles = (mode: ExtractMode, items?: ReadonlyArray<{ id: number; filename: string }>) => {
    for (const [i, item] of (items ?? []).entries()) list.push({ mode, entry: `${mode}[${i}]`, field: `${mode}[${i}].filename`, given: item.filename, id: item.id, index: i });
  };
  idFiles('tracks', data.tracks);
  idFiles('attachments', data.attachments);
  if (data.chapters !== undefined) list.push({ mode: 'chapters', entry: 'chapters', field: 'chapters', given: data.chapters });
  if (data.tags !== undefined) list.push({ mode: 'tags', entry: 'tags', field: 'tags', given: data.tags });
  idFiles('timestamps', data.timestamps);
  idFiles('cues', data.cues);
  return list;
}

/** The modes whose outputs mkvextract takes as `ID:FILE` (it reads up to a line break there). */
export const ID_FILE_MODES: readonly ExtractMode[] = ['tracks', 'attachments', 'timestamps', 'cues'];

/**
 * What the data alone can tell, before any file is looked at (each check
 * linear in the entries): something to extract, no line break in an
 * `ID:FILE` name (mkvextract refuses `\n` there and drops a trailing one,
 * so the file would land elsewhere; `\r` goes with it), and no two entries
 * of one mode written alike (the same id, type and language select the same
 * item). Errors of class `E` name the entry.
 */
export function checkExtractionData(data: MkvextractData, E: typeof ValidationError | typeof RunError): Extraction[] {
  const list = listExtractions(data);
  if (!list.length) {
    const empty = ['tracks', 'attachments', 'timestamps', 'cues'].filter((k) => k in data);
    throw new E(`nothing to extract: name at least one of tracks, attachments, chapters, tags, timestamps, cues${empty.length ? ` (${empty.join(', ')} ${empty.length === 1 ? 'is' : 'are'} empty)` : ''}`);
  }
  const seen = new Map<string, string>();
  for (const x of list) {
    if (!ID_FILE_MODES.includes(x.mode)) continue;
    if (/[\r\n]/.test(x.given)) {
      throw new E(`${x.field}: ${JSON.stringify(x.given)} holds a line break, which mkvextract cannot take in a file name of ${x.mode} (ID:FILE); name the file without one`, { details: { field: x.field } });
    }
    const track = x.mode === 'tracks' ? data.tracks![x.index!]! : undefined;
    const key = JSON.stringify([x.mode, x.id, track?.track_type ?? null, track?.language ?? null]);
    const first = seen.get(key);
    if (first !== undefined) {
      const what = x.mode === 'attachments' ? 'attachment' : 'track';
      throw new E(`${x.entry} selects the same ${what} as ${first} (mkvextract writes each ${what} once per mode)`, { details: { field: x.entry } });
    }
    seen.set(key, x.entry);
  }
  return list;
}

const matches = (t: SourceTrack, entry: MkvextractTrack) =>
  (entry.track_type === undefined || t.type === entry.track_type) &&
  (entry.language === undefined || t.language === entry.language || t.languageIetf === entry.language);

/** Python's `list[i]` (the original indexed a list): negative counts from the end. */
const at = <T>(list: readonly T[], i: number): T | undefined => (i < -list.length || i >= list.length ? undefined : list.at(i));

const ordinal = (n: number): string => (n < 0 ? (n === -1 ? 'last' : `${ordinal(-n - 1)}-to-last`) : `${n + 1}${n % 10 === 0 && n % 100 !== 10 ? 'st' : n % 10 === 1 && n % 100 !== 11 ? 'nd' : n % 10 === 2 && n % 100 !== 12 ? 'rd' : 'th'}`);

/** The track a `tracks[]` entry selects (the original's rules: an index into the tracks, filtered by type and language when given). */
export function selectTrack(entry: MkvextractTrack, field: string, source: SourceInfo, E: typeof ValidationError | typeof RunError): SourceTrack {
  const filters = [entry.track_type !== undefined ? `track_type ${entry.track_type}` : '', entry.language !== undefined ? `language ${entry.language}` : ''].filter(Boolean);
  if (!filters.length) {
    const track = at(source.tracks, entry.id);
    if (!track) throw new E(`${field}.id: the source has no track ${entry.id}; its tracks are ${describeTracks(source.tracks)}`, { details: { field: `${field}.id` } });
    return track;
  }
  const found = source.tracks.filter((t) => matches(t, entry));
  if (!found.length) {
    throw new E(`${field}: no track of the source has ${filters.join(' and ')}; its tracks are ${describeTracks(source.tracks)}`, { details: { field } });
  }
  const track = at(found, entry.id);
  if (!track) {
    throw new E(`${field}.id: ${entry.id} asks for the ${ordinal(entry.id)} track with ${filters.join(' and ')}, but there ${found.length === 1 ? 'is only 1' : `are only ${found.length}`}: ${describeTracks(found)}`, { details: { field: `${field}.id` } });
  }
  return track;
}

/**
 * Check every extraction against the source and find what it selects:
 * tracks by the original's rules, attachments by id, timestamps and cues
 * by track id, chapters and tags present at all. What mkvextract would
 * refuse (a track or attachment it has no id for, one id twice in a mode,
 * chapters or tags the source lacks) is an error of class `E` naming the
 * entry.
 */
export function resolveExtractions(data: MkvextractData, list: readonly Extraction[], source: SourceInfo, E: typeof ValidationError | typeof RunError): ResolvedExtraction[] {
  // More entries in a mode than the source has items: some item would be written twice. Said
  // before anything is selected, so a list of thousands is refused at once.
  const has: Record<ExtractMode, [number, string]> = {
    tracks: [source.tracks.length, 'track'], attachments: [source.attachments.length, 'attachment'], timestamps: [source.tracks.length, 'track'],
    cues: [source.tracks.length, 'track'], chapters: [1, ''], tags: [1, ''],
  };
  for (const mode of ['tracks', 'attachments', 'timestamps', 'cues'] as const) {
    const n = list.filter((x) => x.mode === mode).length;
    const [max, what] = has[mode];
    if (n > max) {
      throw new E(`${mode}: ${n} entries, but the source has ${max === 0 ? 'no' : `only ${max}`} ${what}${max === 1 ? '' : 's'} (mkvextract writes each ${what} once per mode)`, { details: { field: mode } });
    }
  }
  const taken = new Map<string, string>();
  const once = (mode: ExtractMode, id: number, entry: string, what: string) => {
    const key = `${mode}:${id}`;
    const first = taken.get(key);
    if (first) throw new E(`${entry} selects ${what}, which ${first} extracts already (mkvextract writes each ${mode === 'attachments' ? 'attachment' : 'track'} once per mode)`, { details: { field: entry } });
    taken.set(key, entry);
  };
  return list.map((x): ResolvedExtraction => {
    const index = x.index ?? Number(/\[(\d+)\]/.exec(x.entry)?.[1] ?? -1);
    switch (x.mode) {
      case 'tracks': {
        const track = selectTrack(data.tracks![index]!, x.entry, source, E);
        // VobSub is written as two files (NAME.idx + NAME.sub): not one output this module can verify and promote.
        if (track.codecId === 'S_VOBSUB') throw new E(`${x.entry}: track ${track.id} is VobSub, which mkvextract writes as two files (.idx and .sub); this module does not extract VobSub`, { details: { field: x.entry } });
        once('tracks', track.id, x.entry, `track ${track.id}`);
        return { ...x, sourceId: track.id, track };
      }
      case 'attachments': {
        const attachment = source.attachments.find((a) => a.id === x.id);
        if (!attachment) {
          throw new E(`${x.entry}.id: the source has no attachment ${x.id}${x.id === 0 ? ' (attachment ids start at 1)' : ''}; its attachments are ${describeAttachments(source.attachments)}`, { details: { field: `${x.entry}.id` } });
        }
        once('attachments', attachment.id, x.entry, `attachment ${attachment.id}`);
        return { ...x, sourceId: attachment.id, attachment };
      }
      case 'timestamps':
      case 'cues': {
        const track = source.tracks.find((t) => t.id === x.id);
        if (!track) throw new E(`${x.entry}.id: the source has no track ${x.id}; its tracks are ${describeTracks(source.tracks)}`, { details: { field: `${x.entry}.id` } });
        once(x.mode, track.id, x.entry, `track ${track.id}`);
        return { ...x, sourceId: track.id, track };
      }
      case 'chapters':
        if (!source.chapters) throw new E(`chapters: the source has no chapters (mkvextract would write nothing)`, { details: { field: 'chapters' } });
        return x;
      case 'tags':
        if (!source.tags) throw new E(`tags: the source has no tags (mkvextract would write nothing)`, { details: { field: 'tags' } });
        return x;
    }
  });
}
