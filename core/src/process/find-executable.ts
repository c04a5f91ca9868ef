import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { InitializationError } from '../module/errors.js';

/** Where a program was looked for, and whether it was found. */
export interface ExecutableLookup {
  /** Absolute path of the program, when found. */
  path?: string;
  /** Every path tried, in order (for the error message). */
  searched: string[];
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Find a program: `configured` (a path, or a bare name looked up on PATH)
 * when given, else `name` on PATH. Never runs anything. Modules use it in
 * `init` and throw an InitializationError naming `searched` when it fails.
 */
export async function findExecutable(name: string, configured?: string, envPath = process.env.PATH ?? ''): Promise<ExecutableLookup> {
  const wanted = configured ?? name;
  if (wanted.includes('/')) {
    const path = isAbsolute(wanted) ? wanted : resolve(wanted);
    return (await isExecutableFile(path)) ? { path, searched: [path] } : { searched: [path] };
  }
  const searched: string[] = [];
  for (const dir of envPath.split(delimiter).filter(Boolean)) {
    const path = join(dir, wanted);
    searched.push(path);
    if (await isExecutableFile(path)) return { path, searched };
  }
  return { searched };
}

/**
 * {@link findExecutable} for a module's `init`: the program's absolute path,
 * or an InitializationError naming every path searched and the setting that
 * points at the binary (e.g. `settings.ffmpeg.ffprobe`).
 */
export async function requireExecutable(name: string, configured: string | undefined, setting: string, hint = `install it or set ${setting}`): Promise<string> {
  const found = await findExecutable(name, configured);
  if (found.path) return found.path;
  throw new InitializationError(`${name} not found (searched ${found.searched.join(', ') || 'an empty PATH'}); ${hint}`);
}
