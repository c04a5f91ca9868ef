import Type, { type Static } from 'typebox';

/**
 * The worker configuration (`sisyphus.config.*`, `.sisyphusrc*`,
 * `package.json#sisyphus`). Relative paths in it are relative to the config
 * file's folder. Documented in `docs/configuration.md`.
 */
export const WorkerConfigSchema = Type.Object(
  {
    plugins: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Plugin packages (npm names) or paths relative to this file. Default: the modules shipped with Sisyphus.',
      }),
    ),
    modules: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Only these modules are enabled (default: all the plugins provide).' }),
    ),
    settings: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()), {
        description: 'Per-module settings, by module name (e.g. binary paths).',
      }),
    ),
    allowedRoots: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Task paths must lie inside one of these folders.' }),
    ),
    workdir: Type.Optional(Type.String({ minLength: 1, description: 'Folder relative task paths are resolved from.' })),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())), {
        description: 'Local server-side data: { module: { name: record } }, e.g. ffmpeg option sets.',
      }),
    ),
    dataDir: Type.Optional(Type.String({ minLength: 1, description: 'Folder of data files: DIR/MODULE/NAME.json|yaml.' })),
    taskTimeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Cancel a task that runs longer.' })),
  },
  { additionalProperties: false },
);

/** The configuration as written in the file. */
export type WorkerConfig = Static<typeof WorkerConfigSchema>;
