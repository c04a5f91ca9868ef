import { Type, type Static } from '@sisyphus/core';

/** mkvmerge's track types (`mkvmerge -J` `tracks[].type`), the values `track_type` can select. */
export const TRACK_TYPES = ['video', 'audio', 'subtitles', 'buttons'] as const;

const Filename = Type.String({ minLength: 1, description: 'Output file, relative to the job\'s working folder' });

/** A track to extract: `id` is mkvmerge's track id, or with `track_type`/`language` the ordinal among the matching tracks. */
export const MkvextractTrackSchema = Type.Object(
  {
    id: Type.Integer({
      description: 'Track id as `mkvmerge -J` reports it; with track_type and/or language, the ordinal (0 = first) among the matching tracks (negative counts from the last, as in the original)',
    }),
    filename: Filename,
    track_type: Type.Optional(Type.Union([Type.Literal('video'), Type.Literal('audio'), Type.Literal('subtitles'), Type.Literal('buttons')], { description: 'Only tracks of this type (full words, not ffmpeg letters)' })),
    language: Type.Optional(Type.String({ minLength: 1, description: 'Only tracks of this language (`jpn`, or the IETF tag `ja`)' })),
  },
  { additionalProperties: false },
);

/** An attachment to extract (`id` is mkvextract's attachment id: 1 for the first). */
export const MkvextractAttachmentSchema = Type.Object(
  { id: Type.Integer({ minimum: 0, description: 'Attachment id as `mkvmerge -J` reports it (the first is 1)' }), filename: Filename },
  { additionalProperties: false },
);

/** Timestamps (`timestamps_v2`) or cues of one track (`id` is mkvmerge's track id). */
export const MkvextractTrackFileSchema = Type.Object(
  { id: Type.Integer({ minimum: 0, description: 'Track id as `mkvmerge -J` reports it' }), filename: Filename },
  { additionalProperties: false },
);

/** Data of the `mkvextract` task (the original Sisyphus shape). At least one of the extraction fields must name something (a non-empty list, or chapters or tags). */
export const MkvextractDataSchema = Type.Object(
  {
    source: Type.String({ minLength: 1, description: 'The Matroska file to extract from' }),
    tracks: Type.Optional(Type.Array(MkvextractTrackSchema, { description: 'Tracks to extract, each to its own file' })),
    attachments: Type.Optional(Type.Array(MkvextractAttachmentSchema, { description: 'Attachments to extract' })),
    chapters: Type.Optional(Type.String({ minLength: 1, description: 'Write the chapters as XML to this file' })),
    tags: Type.Optional(Type.String({ minLength: 1, description: 'Write the tags as XML to this file' })),
    timestamps: Type.Optional(Type.Array(MkvextractTrackFileSchema, { description: 'Timestamps (v2 format) of tracks' })),
    cues: Type.Optional(Type.Array(MkvextractTrackFileSchema, { description: 'Cues of tracks' })),
  },
  {
    additionalProperties: false,
    // The original's `minProperties: 2` (source plus one more), and more: something must be named,
    // so `source` alone or only empty lists are refused where the job is submitted, not on a worker.
    // Each branch names its property too, so that Ajv's strict mode (strictRequired) accepts the schema.
    minProperties: 2,
    anyOf: [
      ...(['tracks', 'attachments', 'timestamps', 'cues'] as const).map((k) => ({ properties: { [k]: { type: 'array', minItems: 1 } }, required: [k] })),
      ...(['chapters', 'tags'] as const).map((k) => ({ properties: { [k]: true }, required: [k] })),
    ],
  },
);

/** Settings of the module in the worker config (`settings.mkvextract`). */
export const MkvextractSettingsSchema = Type.Object(
  {
    mkvextract: Type.Optional(Type.String({ minLength: 1, description: 'mkvextract binary: a path, or a name looked up on PATH (default mkvextract)' })),
    mkvmerge: Type.Optional(Type.String({ minLength: 1, description: 'mkvmerge binary used to identify files (default mkvmerge)' })),
  },
  { additionalProperties: false },
);

export type MkvextractData = Static<typeof MkvextractDataSchema>;
export type MkvextractTrack = Static<typeof MkvextractTrackSchema>;
export type MkvextractSettings = Static<typeof MkvextractSettingsSchema>;
