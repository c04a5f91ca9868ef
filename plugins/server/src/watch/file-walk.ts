import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One regular file a walk found. */
export interface WalkedFile {
  /** Absolute path (the folder joined with `relative`). */
  path: string;
  /** Path under the folder, `/`-separated. */
  relative: string;
  size: number;
  mtimeMs: number;
}

/** Settings of {@link walkFiles}. */
export interface WalkOptions {
  /** Look into subfolders. */
  recursive: boolean;
  /** Leave out the folder with this name (and all below it). */
  skipFolder?: (name: string) => boolean;
  /** A folder that could not be read (gone meanwhile, no permission): the walk goes on without it. */
  onError?: (path: string, error: NodeJS.ErrnoException) => void;
}

/**
 * The regular files under `folder`, depth first, one folder open at a time
 * (a tree of any size costs one directory handle and the stack of its
 * depth). Symbolic links to files count as files (with the target's size
 * and time); links to folders are not followed (no loops, no walking out of
 * the folder). Files that vanish between listing and `stat` are left out.
 * The folder itself must be readable: its error is thrown.
 */
export async function* walkFiles(folder: string, options: WalkOptions): AsyncGenerator<WalkedFile> {
  const stack: Array<{ dir: string; relative: string }> = [{ dir: folder, relative: '' }];
  let first = true;
  while (stack.length) {
    const { dir, relative } = stack.pop()!;
    let handle;
    try {
      handle = await opendir(dir, { bufferSize: 256 });
    } catch (error) {
      if (first) throw error;
      options.onError?.(dir, error as NodeJS.ErrnoException);
      continue;
    }
    first = false;
    const subfolders: Array<{ dir: string; relative: string }> = [];
    try {
      for await (const entry of handle) {
        const path = join(dir, entry.name);
        const rel = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (options.recursive && !options.skipFolder?.(entry.name)) subfolders.push({ dir: path, relative: rel });
          continue;
        }
        if (!entry.isFile() && !entry.isSymbolicLink()) continue;
        let stats;
        try {
          stats = await stat(path);
        } catch {
          continue; // gone meanwhile, or a dangling link
        }
        if (!stats.isFile()) continue;
        yield { path, relative: rel, size: stats.size, mtimeMs: stats.mtimeMs };
      }
    } catch (error) {
      options.onError?.(dir, error as NodeJS.ErrnoException);
    }
    // Depth first, in listing order.
    for (let i = subfolders.length - 1; i >= 0; i--) stack.push(subfolders[i]!);
  }
}
