import { basename, dirname, extname, relative, sep } from 'node:path';

/** The template variables a watch rule sets from each file (a rule's own variables may not use these names). */
export const FILE_VARIABLES = ['source_file', 'dir', 'name', 'stem', 'ext', 'size', 'mtime', 'folder', 'relative_path', 'rule'] as const;

/** The values of {@link FILE_VARIABLES} for one file. */
export interface FileVariables {
  /** Absolute path of the file. */
  source_file: string;
  /** Its folder (absolute). */
  dir: string;
  /** Its name with extension (`show.mkv`). */
  name: string;
  /** Its name without the last extension (`show`). */
  stem: string;
  /** The last extension without the dot (`mkv`; '' when none). */
  ext: string;
  /** Size in bytes (a number: a whole-string placeholder keeps it a number). */
  size: number;
  /** Modification time, ISO 8601. */
  mtime: string;
  /** The rule's folder the file was found under. */
  folder: string;
  /** Path relative to that folder, with `/` separators. */
  relative_path: string;
  /** The rule's name. */
  rule: string;
}

/** The variables of file `path`, found under `folder` by rule `rule`. */
export function fileVariables(path: string, stats: { size: number; mtimeMs: number }, folder: string, rule: string): FileVariables {
  const name = basename(path);
  const ext = extname(name);
  return {
    source_file: path,
    dir: dirname(path),
    name,
    stem: ext ? name.slice(0, -ext.length) : name,
    ext: ext.slice(1),
    size: stats.size,
    mtime: new Date(Math.trunc(stats.mtimeMs)).toISOString(),
    folder,
    relative_path: relative(folder, path).split(sep).join('/'),
    rule,
  };
}
