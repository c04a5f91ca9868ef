import { Type, type Static } from '@sisyphus/core';

const Path = Type.String({ minLength: 1 });

/** One copy or move: `source` to `destination` (a folder receives the file under its own name). */
export const TransferSchema = Type.Object(
  {
    source: Path,
    destination: Path,
  },
  { additionalProperties: false },
);

/** Data of the `cleanup` module: at least one of `delete`, `copy`, `move`, `delete_folders`; nothing else. */
export const CleanupDataSchema = Type.Object(
  {
    delete: Type.Optional(Type.Array(Path, { minItems: 1, description: 'Files, or empty folders, to delete' })),
    copy: Type.Optional(Type.Array(TransferSchema, { minItems: 1, description: 'Copies (timestamps kept)' })),
    move: Type.Optional(Type.Array(TransferSchema, { minItems: 1, description: 'Moves (work across filesystems)' })),
    delete_folders: Type.Optional(
      Type.Array(Path, {
        minItems: 1,
        description:
          'Folders to delete with everything in them (symlinks inside are removed, never followed); one already gone is fine. Not an allowed root itself, not a symlink',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** The cleanup module's data. */
export type CleanupData = Static<typeof CleanupDataSchema>;
/** One copy or move. */
export type Transfer = Static<typeof TransferSchema>;
