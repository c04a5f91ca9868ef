import { execFile } from 'node:child_process';
import { access, constants, lstat, readFile, realpath, rm, rmdir, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeErrno } from './fs-error.js';

/**
 * How {@link removeTree} removes a folder that is not empty on this machine:
 * - `fd-relative`: GNU coreutils' `rm -rf --one-file-system`, which walks
 *   the tree by open folder handles (`openat`, no symbolic link followed,
 *   each folder checked to be the one it looked at): a folder in the tree
 *   swapped for a link to elsewhere while it runs is removed as a link,
 *   nothing outside the tree is touched, and no other mounted file system;
 * - `by-path`: Node's `fs.rm` (no GNU `rm` here: macOS, Windows, busybox).
 *   It goes by path: whoever may rename entries of the tree or of its
 *   folder while it runs could make it delete files elsewhere.
 */
export type TreeRemoval = 'fd-relative' | 'by-path';

const RM_CANDIDATES = ['/usr/bin/rm', '/bin/rm'];
let method: Promise<{ kind: TreeRemoval; rm?: string }> | undefined;

function execRm(rm: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(rm, args, { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
      if (error) fail(Object.assign(error, { stderr }));
      else done({ stdout, stderr });
    });
  });
}

async function findMethod(): Promise<{ kind: TreeRemoval; rm?: string }> {
  for (const rm of RM_CANDIDATES) {
    if (!(await access(rm, constants.X_OK).then(() => true, () => false))) continue;
    const version = await execRm(rm, ['--version']).catch(() => undefined);
    if (version?.stdout.includes('GNU coreutils')) return { kind: 'fd-relative', rm };
  }
  return { kind: 'by-path' };
}

/** `\040` and the other octal escapes of /proc/self/mountinfo's paths, decoded. */
const unescapeMount = (path: string) => path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/**
 * The mount points at or below any of `paths` in `mountinfo` (the text of
 * /proc/self/mountinfo: the fifth field of each line is a mount point).
 */
export function mountPointsUnder(paths: readonly string[], mountinfo: string): string[] {
  const found: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = unescapeMount(field);
    if (paths.some((p) => point === p || point.startsWith(p.endsWith('/') ? p : `${p}/`))) found.push(point);
  }
  return found;
}

/** Which {@link TreeRemoval} this machine gives (looked up once per process). */
export async function treeRemoval(): Promise<TreeRemoval> {
  return (await (method ??= findMethod())).kind;
}

/**
 * Remove `path`: a file or a link is unlinked (a link's target is never
 * touched), an empty folder removed, and a folder with contents removed
 * with everything in it, without following a symbolic link anywhere and
 * without crossing into another mounted file system ({@link TreeRemoval}:
 * race-safe where GNU `rm` is installed). A tree with a mount point in it
 * (a bind mount too) is not touched. Nothing there is not an error.
 * The folders above `path` are the caller's (trusted); everything from
 * `path` down may be changed by others meanwhile. Use it for every
 * recursive removal of a folder others may write beside or in: job output
 * folders, temp folders of an attempt, a module's scratch.
 *
 * Throws an Error naming `path` and the first thing that could not be
 * removed (`rm: cannot remove '…': Permission denied`), with the errno's
 * plain words when Node reports it.
 */
export async function removeTree(path: string): Promise<void> {
  const target = resolve(path);
  const st = await lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`cannot remove ${target}: ${describeErrno(error)}`, { cause: error });
  });
  if (!st) return;
  try {
    // Neither follows a link in its last component: a link put in place meanwhile fails them (ENOTDIR, EISDIR) and goes below.
    if (st.isDirectory()) await rmdir(target);
    else await unlink(target);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR' && code !== 'EPERM') {
      throw new Error(`cannot remove ${target}: ${describeErrno(error)}`, { cause: error });
    }
  }
  // `--one-file-system` goes by device number: a folder of the same file system bind-mounted into the tree has the
  // tree's, and rm would empty it. Any mount point in the tree stops the removal (Linux; elsewhere none is known).
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const mounts = mountPointsUnder([target, await realpath(target).catch(() => target)], mountinfo);
  if (mounts.length) throw new Error(`cannot remove ${target}: ${mounts[0]} in it is a mount point (a file system or a folder mounted there); nothing was removed`);
  const how = await (method ??= findMethod());
  if (!how.rm) {
    await rm(target, { recursive: true, force: true }).catch((error: unknown) => {
      throw new Error(`cannot remove ${target}: ${describeErrno(error)}`, { cause: error });
    });
    return;
  }
  try {
    await execRm(how.rm, ['-rf', '--one-file-system', '--', target]);
  } catch (error) {
    const said = String((error as { stderr?: string }).stderr ?? '').split('\n').find((l) => l.trim());
    throw new Error(`cannot remove ${target}: ${said ?? (error as Error).message}`, { cause: error });
  }
}
