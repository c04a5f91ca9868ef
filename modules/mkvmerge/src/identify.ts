import { RunError, type ProcessRunner } from '@sisyphus/core';
import type { IdentifiedTrack } from './build-args.js';

/**
 * `mkvmerge -J`'s answer (identification format 12+), the parts the MKVToolNix
 * modules read: this one and mkvextract.
 */
export interface Identification {
  container?: { recognized?: boolean; supported?: boolean; type?: string; properties?: { duration?: number; playlist?: boolean; playlist_file?: string[] } };
  tracks?: Array<IdentifiedTrack & { properties?: { codec_id?: string; language?: string; language_ietf?: string } }>;
  attachments?: Array<{ id: number; file_name?: string; size?: number; content_type?: string }>;
  chapters?: Array<{ num_entries?: number }>;
  global_tags?: Array<{ num_entries?: number }>;
  track_tags?: Array<{ num_entries?: number }>;
  errors?: string[];
}

/**
 * Run `mkvmerge -J file` and return its answer. A file mkvmerge cannot read
 * (an error in the answer, or not a recognised media file) is a RunError
 * naming it; whether the container is supported is the caller's question.
 */
export async function readIdentification(runner: ProcessRunner, mkvmerge: string, file: string): Promise<Identification> {
  const lines: string[] = [];
  await runner.run(mkvmerge, ['-J', file], { onStdoutLine: (l) => lines.push(l), okExitCodes: [0, 1, 2] });
  let doc: Identification;
  try {
    doc = JSON.parse(lines.join('\n')) as Identification;
  } catch (error) {
    throw new RunError(`mkvmerge -J ${file}: unreadable answer`, { cause: error });
  }
  if (doc.errors?.length) throw new RunError(`mkvmerge cannot read ${file}: ${doc.errors.map((e) => e.trim()).join('; ')}`);
  if (!doc.container?.recognized) throw new RunError(`mkvmerge cannot read ${file}: not a recognised media file`);
  return doc;
}

/** `1 video (HEVC), 2 audio (Opus, Opus)` by track id: `0 video HEVC, 1 audio Opus, ...` */
export function describeTracks(tracks: readonly IdentifiedTrack[]): string {
  if (!tracks.length) return 'no tracks';
  return tracks.map((t) => `${t.id} ${t.type}${t.codec ? ` (${t.codec})` : ''}`).join(', ');
}

/** What `mkvmerge -J` says about a file: its tracks and, when known, its duration. */
export interface Identified {
  tracks: IdentifiedTrack[];
  /** Container duration in seconds (mkvmerge reports nanoseconds). */
  seconds?: number;
  /**
   * A playlist (Blu-ray MPLS, recognised by content whatever the name) makes
   * mkvmerge read these files instead: each must be checked like a source.
   */
  playlistFiles?: string[];
}

/** Identify `file` with `mkvmerge -J`; a file mkvmerge cannot read is a RunError naming it. */
export async function identifyFile(runner: ProcessRunner, mkvmerge: string, file: string): Promise<Identified> {
  const doc = await readIdentification(runner, mkvmerge, file);
  if (!doc.container!.supported) throw new RunError(`mkvmerge cannot read ${file}: unsupported ${doc.container!.type ?? 'container'}`);
  const tracks = (doc.tracks ?? []).map((t) => ({ id: t.id, type: t.type, ...(t.codec ? { codec: t.codec } : {}) }));
  const ns = doc.container!.properties?.duration;
  const playlist = doc.container!.properties?.playlist ? (doc.container!.properties.playlist_file ?? []) : undefined;
  return { tracks, ...(typeof ns === 'number' && ns > 0 ? { seconds: ns / 1e9 } : {}), ...(playlist ? { playlistFiles: playlist } : {}) };
}

/** The tracks of `file` (see {@link identifyFile}). */
export async function identify(runner: ProcessRunner, mkvmerge: string, file: string): Promise<IdentifiedTrack[]> {
  return (await identifyFile(runner, mkvmerge, file)).tracks;
}
