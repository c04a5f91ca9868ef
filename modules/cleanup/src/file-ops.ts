import { copyFile, cp, lstat, readdir, readlink, rmdir, stat, unlink, utimes, chmod } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ErrorCodes, RESERVED_NAME, RunError, describeErrno, removeTree, type OutputClaim } from '@sisyphus/core';

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

/** The copying step of copy/move (swappable, e.g. to simulate a failing copy). */
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

/** Files and bytes under a path (a file counts as one). */
async function tally(path: string): Promise<{ files: number; bytes: number }> {
  const st = await lstat(path);
  if (!st.isDirectory()) return { files: 1, bytes: st.isFile() ? st.size : 0 };
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(path)) {
    const sub = await tally(join(path, name));
    files += sub.files;
    bytes += sub.bytes;
  }
  return { files, bytes };
}

/**
 * Copy `source` into the claim's private path, check the copy holds as many
 * files and bytes as the source, and promote it into place. On failure the
 * engine discards the claim: the target is never seen half-written and the
 * source is never touched.
 */
export async function copyEntry(source: string, claim: OutputClaim, st: Stats, copy: CopyStep = copyPreserving): Promise<void> {
  try {
    await copy(source, claim.path, st);
  } catch (error) {
    throw new FileOpError(`cannot copy ${source} to ${claim.target}: ${describeErrno(error)}`, { cause: error });
  }
  await claim.promote(async () => {
    const [want, got] = await Promise.all([tally(source), tally(claim.path)]);
    if (want.files !== got.files || want.bytes !== got.bytes) {
      throw new RunError(`${claim.field}: the copy of ${source} holds ${got.files} files, ${got.bytes} bytes instead of ${want.files}, ${want.bytes}; not promoted`, {
        code: ErrorCodes.OUTPUT_UNVERIFIED,
      });
    }
  });
}

/**
 * Move `source` to the claim's target: one atomic rename when both are on
 * one file system; otherwise a verified copy ({@link copyEntry}), then the
 * source is removed. When the copy fails the source is untouched.
 */
export async function moveEntry(source: string, claim: OutputClaim, st: Stats, copy: CopyStep = copyPreserving): Promise<'renamed' | 'copied'> {
  try {
    await claim.adopt(source);
    return 'renamed';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') {
      if (error instanceof RunError) throw error;
      throw new FileOpError(`cannot move ${source} to ${claim.target}: ${describeErrno(error)}`, { cause: error });
    }
  }
  await copyEntry(source, claim, st, copy);
  try {
    // Removed without following a link anywhere in it: others may rename entries of the folder meanwhile.
    await removeTree(source);
  } catch (error) {
    throw new FileOpError(`copied ${source} to ${claim.target} but could not remove the source: ${describeErrno(error)}`, { cause: error });
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
    throw new FileOpError(`cannot delete ${path}: ${describeErrno(error)}`, { cause: error });
  }
}

/**
 * What a transfer of `source` to `target` would carry along: every symlink
 * it would put in place, with where it would point from there. Throws a
 * FileOpError when it would carry another attempt's claim or private
 * folder, or a special file. A copy or move keeps links
 * verbatim, so a relative link can point somewhere else (outside the
 * allowed roots) from its new place; a copied file is read through its
 * link instead (copyFile follows it), so only links inside folders, or a
 * moved link itself, count.
 */
export async function reviewTransfer(source: string, target: string, st: Stats, kind: 'copy' | 'move'): Promise<Array<{ link: string; pointsTo: string }>> {
  const found: Array<{ link: string; pointsTo: string }> = [];
  const visit = async (from: string, to: string, stats: Stats) => {
    const shown = relative(dirname(source), from) || basename(from);
    if (from !== source && RESERVED_NAME.test(basename(from))) {
      // Another attempt's claim or private folder: moving or copying it would break that attempt, or strand its files.
      throw new FileOpError(`${source} holds ${shown}, a working file of an output being written; wait for that job to finish`);
    }
    if (stats.isSymbolicLink()) {
      const text = await readlink(from);
      found.push({ link: shown, pointsTo: isAbsolute(text) ? text : resolve(dirname(to), text) });
      return;
    }
    if (!stats.isDirectory()) {
      if (!stats.isFile()) throw new FileOpError(`${source} holds ${shown}, which is not a file or folder (a FIFO, socket or device)`);
      return;
    }
    for (const name of await readdir(from)) await visit(join(from, name), join(to, name), await lstat(join(from, name)));
  };
  if (st.isSymbolicLink() && kind === 'copy') return found;
  await visit(source, target, st);
  return found;
}
