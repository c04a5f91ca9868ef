import type { ProcessRunner } from '@sisyphus/core';
import { readIdentification } from '@sisyphus/module-mkvmerge';

/** A track of the source as `mkvmerge -J` reports it. */
export interface SourceTrack {
  id: number;
  type: string;
  /** mkvmerge's codec name (`AVC/H.264/MPEG-4p10`, `SubRip/SRT`). */
  codec?: string;
  /** Matroska CodecID (`S_TEXT/UTF8`). */
  codecId?: string;
  /** ISO 639-2 (`jpn`). */
  language?: string;
  /** IETF BCP 47 (`ja`). */
  languageIetf?: string;
}

/** An attachment of the source. */
export interface SourceAttachment {
  id: number;
  name: string;
  size: number;
  mimeType?: string;
}

/** What mkvextract can take from a file. */
export interface SourceInfo {
  tracks: SourceTrack[];
  attachments: SourceAttachment[];
  /** Chapter entries (editions) found. */
  chapters: number;
  /** Tag entries found (global and per track). */
  tags: number;
  /** Container type (`Matroska`). */
  container?: string;
}

const entries = (list?: Array<{ num_entries?: number }>) => (list ?? []).reduce((n, e) => n + (e.num_entries ?? 0), 0);

/**
 * Identify `file` with `mkvmerge -J`. A file mkvmerge cannot read is a
 * RunError naming it (callers turn it into a ValidationError at validate).
 * `recognized` only: a file that is not Matroska gives `container` as what it is.
 */
export async function identifySource(runner: ProcessRunner, mkvmerge: string, file: string): Promise<SourceInfo> {
  const doc = await readIdentification(runner, mkvmerge, file);
  const tracks = (doc.tracks ?? []).map((t) => ({
    id: t.id,
    type: t.type,
    ...(t.codec ? { codec: t.codec } : {}),
    ...(t.properties?.codec_id ? { codecId: t.properties.codec_id } : {}),
    ...(t.properties?.language ? { language: t.properties.language } : {}),
    ...(t.properties?.language_ietf ? { languageIetf: t.properties.language_ietf } : {}),
  }));
  const attachments = (doc.attachments ?? []).map((a) => ({
    id: a.id,
    name: a.file_name ?? '',
    size: a.size ?? 0,
    ...(a.content_type ? { mimeType: a.content_type } : {}),
  }));
  return {
    tracks,
    attachments,
    chapters: entries(doc.chapters),
    tags: entries(doc.global_tags) + entries(doc.track_tags),
    ...(doc.container?.type ? { container: doc.container.type } : {}),
  };
}

/** `0 video (AVC/H.264/MPEG-4p10), 1 audio (AAC, jpn)` */
export function describeTracks(tracks: readonly SourceTrack[]): string {
  if (!tracks.length) return 'no tracks';
  return tracks.map((t) => `${t.id} ${t.type} (${[t.codec, t.language].filter(Boolean).join(', ')})`).join(', ');
}

/** `1 font.ttf` */
export function describeAttachments(attachments: readonly SourceAttachment[]): string {
  if (!attachments.length) return 'no attachments';
  return attachments.map((a) => `${a.id} ${a.name}`).join(', ');
}
