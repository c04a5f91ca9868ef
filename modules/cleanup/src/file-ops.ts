import { copyFile, cp, lstat, mkdir, rename, rm, rmdir, stat, unlink, utimes, chmod } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A file-system failure of a cleanup operation, with a message naming the path. */
export class FileOpError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FileOpError';
  }
}

/** Stats of `path` without following a final symlink, or undefined when it does not exist. */
export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Where `source` lands: inside `destination` when that is an existing folder (or ends in a separator). */
export async function finalDestination(source: string, destination: string, rawDestination: string): Promise<string> {
  const st = await stat(destination).catch(() => undefined);
  if (st?.isDirectory() || /[/\\]$/.test(rawDestination)) return join(destination, basename(source));
  return destination;
}

/** A hidden temporary name next to `target`, so the final rename is atomic. */
export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.sisyphus-${randomBytes(4).toString('hex')}.part`);
}

/** The copying step of copy/move; swappable in tests to simulate a failing copy. */
export type CopyStep = (source: string, target: string, sourceStats: Stats) => Promise<void>;

/** Copy a file or folder, keeping mode and timestamps. */
export const copyPreserving: CopyStep = async (source, target, st) => {
  if (st.isDirectory()) {
    await cp(source, target, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false, verbatimSymlinks: true });
    await utimes(target, st.atime, st.mtime);
    return;
  }
  await copyFile(source, target);
  await chmod(target, st.mode & 0o7777);
  await utimes(target, st.atime, st.mtime);
};

/**
 * Copy `source` to `target` through a temporary name in the target folder,
 * then rename it into place: the target is never seen half-written. The
 * temporary copy is removed on failure. Returns nothing; throws FileOpError.
 */
export async function copyAtomically(source: string, target: string, st: Stats, copy: CopyStep = copyPreserving, temps?: Set<string>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempNameFor(target);
  temps?.add(temp);
  try {
    await copy(source, temp, st);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw new FileOpError(`cannot copy ${source} to ${target}: ${(error as Error).message}`, { cause: error });
  } finally {
    temps?.delete(temp);
  }
}

/**
 * Move `source` to `target`: a rename when both are on one filesystem,
 * otherwise copy (atomically, timestamps kept) and then delete the source.
 * When the copy fails the source is left untouched.
 */
export async function moveEntry(
  source: string,
  target: string,
  st: Stats,
  ops: { rename?: typeof rename; copy?: CopyStep; temps?: Set<string> } = {},
): Promise<'renamed' | 'copied'> {
  await mkdir(dirname(target), { recursive: true });
  try {
    await (ops.rename ?? rename)(source, target);
    return 'renamed';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') {
      throw new FileOpError(`cannot move ${source} to ${target}: ${(error as Error).message}`, { cause: error });
    }
  }
  await copyAtomically(source, target, st, ops.copy, ops.temps);
  try {
    await rm(source, { recursive: st.isDirectory(), force: false });
  } catch (error) {
    throw new FileOpError(`copied ${source} to ${target} but could not remove the source: ${(error as Error).message}`, { cause: error });
  }
  return 'copied';
}

/** Delete a file or symlink, or a folder only when it is empty. */
export async function deleteEntry(path: string, st: Stats): Promise<void> {
  try {
    if (st.isDirectory()) await rmdir(path);
    else await unlink(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new FileOpError(`${path} is a folder that is not empty; only empty folders are deleted`, { cause: error });
    }
    throw new FileOpError(`cannot delete ${path}: ${(error as Error).message}`, { cause: error });
  }
}
