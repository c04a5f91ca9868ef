import { Type, type Static } from '@sisyphus/core';

/** An mkvmerge option name without the dashes; a leading `_` marks Sisyphus-only options that are never passed on. */
const OptionKey = '^[A-Za-z0-9_][A-Za-z0-9_-]*$';
/** `null` (or `true`) is a bare flag (`--no-chapters`); `false` leaves the option out. */
const OptionValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
const Options = Type.Record(Type.String({ pattern: OptionKey }), OptionValue, { additionalProperties: false });

/** A source file and the options placed before it. `_copy-video-tracks` etc. keep all tracks of that type. */
export const MkvSourceSchema = Type.Object(
  { filename: Type.String({ minLength: 1 }), options: Type.Optional(Options) },
  { additionalProperties: false },
);

/** A track taken from a source (`track` is mkvmerge's track id), with options that become `--KEY TID:VALUE`. */
export const MkvTrackSchema = Type.Object(
  {
    source: Type.Integer({ minimum: 0, description: 'Index into sources' }),
    track: Type.Integer({ minimum: 0, description: 'Track id as `mkvmerge -J` reports it' }),
    options: Type.Optional(Options),
  },
  { additionalProperties: false },
);

/** A file attached to the output. */
export const MkvAttachmentSchema = Type.Object(
  {
    filename: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Defaults to the file name' })),
    mime_type: Type.Optional(Type.String({ pattern: '^[\\w.+-]+/[\\w.+-]+$', description: 'Detected from the file when missing' })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Data of the `mkvmerge` task. */
export const MkvmergeDataSchema = Type.Object(
  {
    sources: Type.Array(MkvSourceSchema, { minItems: 1 }),
    tracks: Type.Array(MkvTrackSchema, { minItems: 1, description: 'Output track order follows this list' }),
    options: Type.Optional(Options),
    attachments: Type.Optional(Type.Array(MkvAttachmentSchema)),
    attachment_directories: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Top-level files are attached; files of unknown type are skipped' })),
    output_file: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/** Settings of the module in the worker config (`settings.mkvmerge`). */
export const MkvmergeSettingsSchema = Type.Object(
  {
    mkvmerge: Type.Optional(Type.String({ minLength: 1, description: 'mkvmerge binary: a path, or a name looked up on PATH (default mkvmerge)' })),
  },
  { additionalProperties: false },
);

export type MkvmergeData = Static<typeof MkvmergeDataSchema>;
export type MkvOptions = Static<typeof Options>;
export type MkvAttachment = Static<typeof MkvAttachmentSchema>;
export type MkvmergeSettings = Static<typeof MkvmergeSettingsSchema>;
