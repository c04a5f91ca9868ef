import { Type, type Static } from '@sisyphus/core';

/** Data of the `checksum` task. */
export const ChecksumDataSchema = Type.Object(
  {
    files: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true, description: 'Files to hash' }),
    algorithm: Type.Optional(
      Type.Union([Type.Literal('sha256'), Type.Literal('sha1'), Type.Literal('md5'), Type.Literal('sha512')], {
        description: 'Hash algorithm (default from settings, else sha256)',
      }),
    ),
    sidecar: Type.Optional(Type.Boolean({ description: 'Write FILE.<algorithm> next to each file (sha256sum format)' })),
    expect: Type.Optional(
      Type.Record(Type.String(), Type.String({ pattern: '^[0-9a-fA-F]+$' }), { description: 'file -> expected hex digest' }),
    ),
  },
  { additionalProperties: false },
);

/** Settings of the module in the worker config (`settings.checksum`). */
export const ChecksumSettingsSchema = Type.Object(
  {
    defaultAlgorithm: Type.Optional(Type.Union([Type.Literal('sha256'), Type.Literal('sha1'), Type.Literal('md5'), Type.Literal('sha512')])),
  },
  { additionalProperties: false },
);

export type ChecksumData = Static<typeof ChecksumDataSchema>;
export type ChecksumSettings = Static<typeof ChecksumSettingsSchema>;
