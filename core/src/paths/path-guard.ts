import { lstat, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ValidationError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { describeErrno } from '../files/fs-error.js';

/**
 * Resolves paths named in task data and keeps them inside the allowed roots
 * of the worker config. Injected as `TOKENS.PathGuard`.
 */
export interface PathGuard {
  /** The real (symlink-free) allowed roots; empty means no restriction. */
  readonly roots: readonly string[];
  /** Folder that relative paths in task data are relative to. */
  readonly cwd: string;
  /** Absolute, normalised form of `path` (relative to `cwd`); no file access. */
  resolve(path: string): string;
  /**
   * The real path of `path` after resolving `..` and every symlink (also in
   * parts that do not exist yet). Throws a {@link ValidationError} with code
   * `SIS_PATH_NOT_ALLOWED`, naming `field`, when it lies outside every root.
   */
  check(path: string, field: string): Promise<string>;
}

/** realpath() that also works for paths whose tail does not exist yet (dangling links followed). */
export async function realpathLoose(path: string, hops = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENAMETOOLONG: a name no file can have does not exist either; whether it can be created is for the caller to find out.
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ENAMETOOLONG') throw error;
  }
  if (hops < 40) {
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      const target = await readlink(path);
      return realpathLoose(resolve(dirname(path), target), hops + 1);
    }
  }
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await realpathLoose(parent, hops), basename(path));
}

/**
 * Names Sisyphus gives its own working files: an attempt's private output
 * folder, an output's claim, a validate probe, a job's scratch folder. No
 * job may name them (one job could otherwise plant a file in another
 * attempt's folder, or break its claim).
 */
export const RESERVED_NAME = /^(\.sisyphus-(tmp|claim|probe)-|sisyphus-job-[0-9a-f]{12}$)/;

/** The first component of `path` that is a {@link RESERVED_NAME}, if any. */
export function reservedComponent(path: string): string | undefined {
  return path.split(sep).find((part) => RESERVED_NAME.test(part));
}

/** Is `path` equal to `root` or inside it? Both must be absolute and normalised. */
export function isInside(path: string, root: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}

/** Build a {@link PathGuard}. Roots are resolved (symlinks too) once, here. */
export async function createPathGuard(options: { roots?: readonly string[]; cwd?: string } = {}): Promise<PathGuard> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const roots = await Promise.all((options.roots ?? []).map((r) => realpathLoose(resolve(cwd, r))));
  return {
    roots,
    cwd,
    resolve: (path) => (isAbsolute(path) ? resolve(path) : resolve(cwd, path)),
    async check(path, field) {
      if (typeof path !== 'string' || path === '') {
        throw new ValidationError(`${field} must be a non-empty path`);
      }
      if (path.includes('\0')) throw new ValidationError(`${field} contains a NUL byte`);
      let real: string;
      try {
        real = await realpathLoose(isAbsolute(path) ? resolve(path) : resolve(cwd, path));
      } catch (error) {
        throw new ValidationError(`${field} ${JSON.stringify(path)} cannot be resolved: ${describeErrno(error)}`, { details: { field, path }, cause: error });
      }
      const reserved = reservedComponent(isAbsolute(path) ? resolve(path) : resolve(cwd, path)) ?? reservedComponent(real);
      if (reserved) {
        throw new ValidationError(`${field} ${JSON.stringify(path)} names ${JSON.stringify(reserved)}, a working file of Sisyphus (another attempt's output folder, a claim or a scratch folder)`, {
          code: ErrorCodes.PATH_NOT_ALLOWED,
          details: { field, path, resolved: real },
        });
      }
      if (roots.length && !roots.some((root) => isInside(real, root))) {
        throw new ValidationError(
          `${field} ${JSON.stringify(path)} resolves to ${real}, outside the allowed roots (${roots.join(', ')})`,
          { code: ErrorCodes.PATH_NOT_ALLOWED, details: { field, path, resolved: real } },
        );
      }
      return real;
    },
  };
}
