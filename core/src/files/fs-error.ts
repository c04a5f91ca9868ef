import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Plain words for the errno codes people meet when writing media files. */
const CAUSES: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  EXDEV: 'on another file system',
  EIO: 'input/output error (disk or network share)',
  ESTALE: 'stale network file handle',
  EBUSY: 'busy',
  ETIMEDOUT: 'timed out (network share)',
  EINVAL: 'invalid name for this file system',
};

/** Errno codes that mean "this file system makes no hard links" (some SMB, FAT and FUSE mounts): fall back to an exclusive create or a checked rename. */
export const NO_HARD_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS', 'EXDEV']);

/** `read-only file system (EROFS)`, or the error's own message for codes not listed. */
export function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** The nearest folder above `path` (or `path` itself) that exists. */
export async function nearestExistingFolder(path: string): Promise<string> {
  let dir = path;
  for (;;) {
    const st = await stat(dir).catch(() => undefined);
    if (st) return st.isDirectory() ? dir : dirname(dir);
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

/**
 * Why `mkdir -p dir` failed, in plain words. Node reports ENOENT for a
 * recursive mkdir on a read-only file system; the real cause is found by
 * trying to create a folder in the nearest folder that exists.
 */
export async function explainMkdirFailure(dir: string, error: unknown): Promise<string> {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return describeErrno(error);
  const base = await nearestExistingFolder(dir);
  try {
    const probe = await mkdtemp(join(base, '.sisyphus-probe-'));
    await rmdir(probe).catch(() => undefined);
  } catch (probeError) {
    return `${describeErrno(probeError)} in ${base}`;
  }
  return describeErrno(error);
}
