import { RESERVED_NAME } from '@sisyphus/core';
import picomatch from 'picomatch';

/** Is `name` one of Sisyphus' own working names (an attempt's folder or temp file, a claim, a job's scratch folder, any `.sisyphus-*`)? */
export function isOwnName(name: string): boolean {
  return name.startsWith('.sisyphus-') || RESERVED_NAME.test(name);
}

/** What a rule's patterns say of a file. */
export type FilterVerdict =
  | { take: true }
  | { take: false; skip: 'excluded' | 'not-included' | 'own-file'; reason: string };

/**
 * A rule's include and exclude patterns (picomatch), matched against a
 * path relative to the rule's folder with `/` separators. A pattern without
 * `/` matches the file name in any subfolder (`*.mkv`); dot files match only
 * patterns that name the dot (`.*`), so hidden temporary files (rsync's
 * `.name.XXXXXX`, editors' swap files) are left alone by default.
 * Sisyphus' own working names are never taken, whatever the patterns.
 */
export class FileFilter {
  readonly #include: Array<{ pattern: string; test: (path: string) => boolean }>;
  readonly #exclude: Array<{ pattern: string; test: (path: string) => boolean }>;

  constructor(include: readonly string[], exclude: readonly string[]) {
    const compile = (pattern: string) => ({ pattern, test: picomatch(pattern, { basename: !pattern.includes('/') }) });
    this.#include = include.map(compile);
    this.#exclude = exclude.map(compile);
  }

  /** The verdict on the file at `relative` (`/`-separated, under the rule's folder). */
  test(relative: string): FilterVerdict {
    const parts = relative.split('/');
    const own = parts.find(isOwnName);
    if (own !== undefined) return { take: false, skip: 'own-file', reason: `a working file of Sisyphus (${own})` };
    const excluded = this.#exclude.find((m) => m.test(relative));
    if (excluded) return { take: false, skip: 'excluded', reason: `excluded by ${JSON.stringify(excluded.pattern)}` };
    if (!this.#include.some((m) => m.test(relative))) {
      return { take: false, skip: 'not-included', reason: `matches no include pattern (${this.#include.map((m) => JSON.stringify(m.pattern)).join(', ')})` };
    }
    return { take: true };
  }

  /** May a walk or watcher skip the folder at `relative` altogether? (Only Sisyphus' own folders: patterns are judged per file.) */
  skipsFolder(name: string): boolean {
    return isOwnName(name);
  }
}
