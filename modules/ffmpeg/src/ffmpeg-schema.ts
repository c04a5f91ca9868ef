import { Type, type Static } from '@sisyphus/core';
import { ChunkingSchema } from './chunking/chunking-schema.js';
import { ChunkOfSchema } from './chunking/source-identity.js';

/**
 * An ffmpeg option name, without the dash (`crf`, `x265-params`, `b`), with
 * an optional specifier of its own after `:` (`metadata:g`,
 * `metadata:s:a:0`, `codec:v`). build-args refuses a specifier on a key
 * whose map already has a specifier or stream.
 */
const OptionKey = '^[A-Za-z0-9][A-Za-z0-9_.-]*(:[A-Za-z0-9_.#-]+)*$';
/** A key inside an object value (`k=v:k=v`, metadata entries): no `:`, which separates the pairs. */
const ParamKey = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
/**
 * A value: scalar, or an object rendered as `k=v:k=v` (x265-params) or, for
 * `metadata`, as one `key=value` pair each. `true` is a bare flag (flags
 * only), `false` leaves the option out.
 */
const OptionValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Record(Type.String({ pattern: ParamKey }), Scalar, { additionalProperties: false })]);
const Options = Type.Record(Type.String({ pattern: OptionKey }), OptionValue, { additionalProperties: false });

/**
 * ffmpeg's stream type letters. Written out literal by literal: a union
 * built from an array (`letters.map(Type.Literal)`) is typed
 * `TUnion<TLiteral<string>[]>`, which `Static` cannot turn into `'v' | 'a' | ...`.
 */
export const Specifier = Type.Union([Type.Literal('v'), Type.Literal('V'), Type.Literal('a'), Type.Literal('s'), Type.Literal('d'), Type.Literal('t')]);

/** `-map SOURCE[:SPECIFIER][:STREAM][?]` */
export const SourceMapSchema = Type.Object(
  {
    source: Type.Integer({ minimum: 0, description: 'Index into sources' }),
    specifier: Type.Optional(Specifier),
    stream: Type.Optional(Type.Integer({ minimum: 0 })),
    optional: Type.Optional(Type.Boolean({ description: 'Append ? so a missing stream is skipped' })),
  },
  { additionalProperties: false },
);

/** Options for output streams (addressed after mapping): `-KEY[:SPECIFIER][:STREAM] VALUE`. */
export const OutputMapSchema = Type.Object(
  {
    specifier: Type.Optional(Specifier),
    stream: Type.Optional(Type.Integer({ minimum: 0 })),
    options: Type.Optional(Options),
    option_set: Type.Optional(Type.String({ minLength: 1, description: 'Name of server-side ffmpeg data whose options are laid over these' })),
  },
  { additionalProperties: false },
);

/** Data of the `ffmpeg` task. */
export const FfmpegDataSchema = Type.Object(
  {
    input_options: Type.Optional(Type.Record(Type.String({ pattern: OptionKey }), Scalar, { additionalProperties: false, description: 'Placed before the inputs, e.g. {"ss": "0:10:00"}' })),
    sources: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }),
    source_maps: Type.Array(SourceMapSchema, { minItems: 1 }),
    output_maps: Type.Optional(Type.Array(OutputMapSchema)),
    output_file: Type.String({ minLength: 1 }),
    overwrite: Type.Optional(Type.Boolean()),
    chunking: Type.Optional(ChunkingSchema),
    chunk_of: Type.Optional(ChunkOfSchema),
  },
  { additionalProperties: false },
);

/** An option set as stored server-side (module `ffmpeg`): `{name, options}`. */
export const OptionSetSchema = Type.Object({ name: Type.Optional(Type.String()), options: Options }, { additionalProperties: true });

/** Settings of the module in the worker config (`settings.ffmpeg`). */
export const FfmpegSettingsSchema = Type.Object(
  {
    ffmpeg: Type.Optional(Type.String({ minLength: 1, description: 'ffmpeg binary: a path, or a name looked up on PATH (default ffmpeg)' })),
    ffprobe: Type.Optional(Type.String({ minLength: 1, description: 'ffprobe binary (default ffprobe)' })),
    signal_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Restarts of an encode killed by a signal such as SIGSEGV (default 1)' })),
    allowed_protocols: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9.-]+$' }), {
        uniqueItems: true,
        description:
          'ffmpeg protocols that sources, output_file and option values may use by name (e.g. ["http", "https"]); ' +
          'default none: every input and output is a file, and pipe:, -, file:, concat:, subfile:, http: and the like are refused. ' +
          'An allowed file: URL is still checked against allowedRoots; other allowed protocols are passed unchecked',
      }),
    ),
  },
  { additionalProperties: false },
);

export type FfmpegData = Static<typeof FfmpegDataSchema>;
export type SourceMap = Static<typeof SourceMapSchema>;
export type OutputMap = Static<typeof OutputMapSchema>;
export type FfmpegOptions = Static<typeof Options>;
export type FfmpegSettings = Static<typeof FfmpegSettingsSchema>;
