import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { JobError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

/** Largest job or variables file read (jobs are small; this guards against mistakes). */
export const MAX_JOB_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Read a JSON or YAML document (chosen by extension; unknown extensions try
 * JSON, then YAML). Failures are a {@link JobError} `SIS_JOB_FILE` naming the file.
 */
export async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_JOB_FILE_BYTES) {
      throw new JobError(`${file}: file is larger than ${MAX_JOB_FILE_BYTES} bytes`, { code: ErrorCodes.JOB_FILE });
    }
    // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse would refuse it.
    text = buf.toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof JobError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new JobError(`${file}: cannot read: ${why}`, { code: ErrorCodes.JOB_FILE, cause: error });
  }
  return parseDocument(text, file, extname(file).toLowerCase());
}

/**
 * Parse a job (or variables) document's text: JSON for `.json`, YAML for
 * `.yaml`/`.yml`, else JSON and then YAML (YAML is a superset of JSON).
 * `name` names the text in messages (a file, or a form field). A
 * {@link JobError} `SIS_JOB_FILE` with the parser's first line otherwise;
 * a YAML value starting with an unquoted `{{` is refused with its line.
 * `aliases: false` refuses YAML aliases (`*name`), which can make a small
 * text a huge document (a server parsing what others send).
 */
export async function parseDocument(text: string, name: string, ext = '', options: { aliases?: boolean } = {}): Promise<unknown> {
  if (ext !== '.json') refuseBarePlaceholders(name, text, ext === '.yaml' || ext === '.yml');
  const asJson = () => JSON.parse(text) as unknown;
  // yaml is loaded only for YAML files: it is many modules, and start-up time counts.
  const asYaml = async () => (await import('yaml')).parse(text, { prettyErrors: true, ...(options.aliases === false ? { maxAliasCount: 0 } : {}) }) as unknown;
  try {
    if (ext === '.json') return asJson();
    if (ext === '.yaml' || ext === '.yml') return await asYaml();
    try {
      return asJson();
    } catch {
      return await asYaml();
    }
  } catch (error) {
    const first = /Alias resolution is disabled/.test(String((error as Error).message))
      ? 'YAML aliases (*name) are not accepted here; write the values out'
      : String((error as Error).message).split('\n')[0];
    throw new JobError(`${name}: not valid ${ext === '.json' ? 'JSON' : ext ? 'YAML' : 'JSON or YAML'}: ${first}`, {
      code: ErrorCodes.JOB_FILE,
      cause: error,
    });
  }
}

/**
 * In YAML, a value that starts with `{{` is a flow mapping, not text:
 * `overwrite: {{ ow }}` parses as a nested object and fails later with a
 * confusing "must be a boolean". Say what to write instead, with the line.
 */
function refuseBarePlaceholders(file: string, text: string, yaml: boolean): void {
  // Text that parses as JSON is JSON (placeholders there are quoted strings); only YAML is checked.
  if (!yaml) {
    try {
      JSON.parse(text);
      return;
    } catch {
      // YAML, then
    }
  }
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    const m = /^(\s*(?:-\s+)?(?:[^\s#'"{][^#'"]*?:\s+)?|\s*-\s+)(\{\{[^}]*\}\})/.exec(line);
    if (!m || /^\s*#/.test(line)) continue;
    throw new JobError(
      `${file}:${i + 1}: put quotes around a placeholder that starts a value (${m[1]!.trim()} "${m[2]}"); unquoted, YAML reads {{ ... }} as a mapping`,
      { code: ErrorCodes.JOB_FILE },
    );
  }
}

/** Parse `key=value` pairs (`--var`); the value may contain `=`. */
export function parseVarAssignments(assignments: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new JobError(`--var ${JSON.stringify(a)}: expected key=value`, { code: ErrorCodes.USAGE });
    vars[a.slice(0, eq).trim()] = a.slice(eq + 1);
  }
  return vars;
}

/** Read a variables file (JSON or YAML object). */
export async function readVariablesFile(file: string): Promise<Record<string, unknown>> {
  const doc = await readDocument(file);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new JobError(`${file}: variables file must hold an object of name: value`, { code: ErrorCodes.JOB_FILE });
  }
  return doc as Record<string, unknown>;
}
