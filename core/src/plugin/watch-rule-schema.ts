import type { Static } from 'typebox';
import { Type } from 'typebox';

/** What a watch rule's name may be: it names the rule in the API (`/watch/rules/{name}`) and in the store's keys. */
export const WATCH_RULE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

const Seconds = (description: string, minimum = 0) => Type.Number({ minimum, maximum: 31_536_000, description });

/**
 * One watch folder rule of the job server (`server.watch[]` in the config,
 * `PUT /watch/rules/{name}` through the API): files that appear or change in
 * `folders` and match `include` (not `exclude`) become jobs, rendered from
 * the `template` job file with variables filled from the file, once they are
 * stable. Each content version of a file is submitted once. Documented in
 * `docs/server.md` ("Watch folders").
 */
export const WatchRuleSchema = Type.Object(
  {
    name: Type.String({ pattern: WATCH_RULE_NAME_PATTERN, description: "The rule's name: letters, digits, '_', '.' or '-', at most 64, starting with a letter or digit." }),
    folders: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 64, description: 'Absolute paths of the folders to watch.' }),
    include: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: "Glob patterns (picomatch) a file must match, relative to its folder; a pattern without '/' matches the file name in any subfolder. Default: every file (not dot files).",
      }),
    ),
    exclude: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Glob patterns of files to leave alone (matched like include).' })),
    recursive: Type.Optional(Type.Boolean({ description: 'Look into subfolders. Default true.' })),
    min_age_seconds: Type.Optional(Seconds('A file counts only once its modification time is at least this old. Default 0.')),
    stable_seconds: Type.Optional(Seconds('A file counts only once its size and modification time have stayed the same this long (a copy in progress is not picked). Default 10.')),
    template: Type.String({ minLength: 1, description: 'Absolute path of the job template file (JSON or YAML) whose {{ placeholders }} are filled from the file and `variables`.' }),
    variables: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The rule's own template variables (the file's variables source_file, dir, name, stem, ext, size, mtime, folder, relative_path and rule are set by the server).",
      }),
    ),
    scan_interval_seconds: Type.Optional(Seconds('Seconds between full scans of the folders (besides watching for changes). Default 300.', 1)),
    poll: Type.Optional(Type.Boolean({ description: 'Watch by polling instead of file system events (network shares, where events do not arrive). Default false.' })),
    poll_interval_seconds: Type.Optional(Seconds('With poll: seconds between two looks at each file. Default 5.', 0.1)),
    max_failures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'After this many failed jobs in a row for the same file, stop submitting it and list it as needing attention. Default 3.' })),
    outputs_are_work: Type.Optional(Type.Boolean({ description: 'Files that jobs wrote into the folders are new work too. Default false (they are skipped).' })),
  },
  { additionalProperties: false, description: 'A watch folder rule: new and changed files in the folders become jobs.' },
);

/** A watch rule as written in the config or sent to the API. */
export type WatchRuleConfig = Static<typeof WatchRuleSchema>;
