import { stat } from 'node:fs/promises';
import { ValidationError, RunError } from '../module/errors.js';
import { realpathLoose } from '../paths/path-guard.js';

/**
 * What makes a file the file it is: its real path (every symlink and `..`
 * resolved, also in parts that do not exist yet) and, when it exists, its
 * device and inode numbers (so two hard links, or two spellings of one file
 * on a case-insensitive share, are the same file).
 */
export interface FileIdentity {
  /** The real, absolute path. */
  realPath: string;
  /** Device number, when the file exists. */
  dev?: number;
  /** Inode number, when the file exists. */
  ino?: number;
}

/** The {@link FileIdentity} of `path` (absolute). Never throws for a missing file. */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const realPath = await realpathLoose(path);
  const st = await stat(realPath, { bigint: false }).catch(() => undefined);
  return st ? { realPath, dev: st.dev, ino: st.ino } : { realPath };
}

/** Do two identities name one file? Device + inode when both exist, otherwise the real paths. */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  if (a.ino !== undefined && b.ino !== undefined) return a.dev === b.dev && a.ino === b.ino;
  return a.realPath === b.realPath;
}

/**
 * Are `a` and `b` (absolute paths) the same file? True for one path spelt
 * through a symlinked folder and through the real one, for hard links, and
 * for a path and itself. For the SDK: modules compare outputs with sources
 * through this, never by string.
 */
export async function isSameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fileIdentity(a), fileIdentity(b)]);
  return sameIdentity(x, y);
}

/**
 * The first of `candidates` that is the same file as `path`, or undefined.
 * `candidates` are `{ path, label }` pairs; the label names the field in
 * messages (`sources[1]`).
 */
export async function findSameFile<T extends { path: string }>(path: string, candidates: readonly T[]): Promise<T | undefined> {
  const target = await fileIdentity(path);
  for (const candidate of candidates) {
    if (sameIdentity(target, await fileIdentity(candidate.path))) return candidate;
  }
  return undefined;
}

/**
 * Refuse a path that is (or leads through a symlink to) something other
 * than a regular file or folder: opening a FIFO or a device blocks a thread
 * in the kernel for good, and a process with such a thread cannot even exit.
 * A missing path passes (existence is checked elsewhere). `phase` picks the
 * error class.
 */
export async function refuseSpecialFile(path: string, field: string, phase: 'validate' | 'run'): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st || st.isFile() || st.isDirectory()) return;
  const what = st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : 'a device';
  const E = phase === 'validate' ? ValidationError : RunError;
  throw new E(`${field}: ${path} is ${what}, not a file or folder`, { details: { field, path } });
}
