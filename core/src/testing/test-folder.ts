import { mkdir, mkdtemp, readFile, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RESERVED_NAME } from '../paths/path-guard.js';

/** Options of {@link createTestFolder}. */
export interface TestFolderOptions {
  /** Prefix of the folder's name in the OS temp folder. Default `sisyphus-test-`. */
  prefix?: string;
  /** Files to write at once: relative path -> content. */
  files?: Record<string, string | Uint8Array>;
}

/**
 * A temporary folder for one test: inputs are written into it, a task run
 * with `runTask(module, data, { folder })` resolves relative paths from it
 * and may touch nothing outside it (it is the only allowed root). Remove it
 * when the test ends (`afterEach(() => folder.remove())`, or `await using`
 * where `Symbol.asyncDispose` exists).
 */
export class TestFolder {
  /** Absolute real path of the folder (symlinks resolved, e.g. macOS' /var -> /private/var). */
  readonly path: string;

  /** @internal Use {@link createTestFolder}. */
  constructor(path: string) {
    this.path = path;
  }

  /** Absolute path of `relativePath` inside the folder; throws for a path that leaves it. */
  resolve(relativePath: string): string {
    const full = resolve(this.path, relativePath);
    if (isAbsolute(relativePath) || (full !== this.path && !full.startsWith(this.path + sep))) {
      throw new Error(`TestFolder: ${JSON.stringify(relativePath)} is not a path inside ${this.path}`);
    }
    return full;
  }

  /** Write a file (creating its parent folders); resolves with its absolute path. */
  async write(relativePath: string, content: string | Uint8Array): Promise<string> {
    const full = this.resolve(relativePath);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
    return full;
  }

  /** Make a folder (and its parents); resolves with its absolute path. */
  async mkdir(relativePath: string): Promise<string> {
    const full = this.resolve(relativePath);
    await mkdir(full, { recursive: true });
    return full;
  }

  /** The bytes of a file. */
  read(relativePath: string): Promise<Buffer> {
    return readFile(this.resolve(relativePath));
  }

  /** The text of a file (UTF-8). */
  readText(relativePath: string): Promise<string> {
    return readFile(this.resolve(relativePath), 'utf8');
  }

  /** Does the path exist (file, folder or anything else)? */
  exists(relativePath: string): Promise<boolean> {
    return stat(this.resolve(relativePath)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Everything in the folder, recursively, as sorted relative paths with
   * `/` separators; folders end with `/`. Compare it with what a task
   * should have left: `expect(await folder.list()).toEqual(['in.txt', 'in.txt.gz'])`
   * proves it wrote its output and nothing else.
   */
  async list(): Promise<string[]> {
    const entries = await readdir(this.path, { recursive: true, withFileTypes: true });
    return entries
      .map((e) => {
        // `parentPath` is Node 20.12+; 20.11 calls it `path`.
        const parent = e.parentPath ?? (e as unknown as { path: string }).path;
        const rel = relative(this.path, join(parent, e.name)).split(sep).join('/');
        return e.isDirectory() ? `${rel}/` : rel;
      })
      .sort();
  }

  /**
   * Files the engine's output handling left behind: claim files, attempt
   * folders, probe folders and job workspaces (names starting with
   * `.sisyphus-claim-`, `.sisyphus-tmp-`, `.sisyphus-probe-`, or
   * `sisyphus-job-`). Empty after every run, failed, cancelled or refused
   * (an output that exists without `overwrite` is refused before the tool
   * runs, leaving nothing). The one exception, on purpose: a result whose
   * target someone else wrote while the task ran is kept in its
   * `.sisyphus-tmp-*` folder, and the task's message names it.
   */
  async leftovers(): Promise<string[]> {
    return (await this.list()).filter((rel) => rel.split('/').some((part) => RESERVED_NAME.test(part)));
  }

  /** Remove the folder and everything in it. */
  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true, maxRetries: 3 });
  }

  /** `await using folder = await createTestFolder()` removes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.remove();
  }
}

/**
 * Make a new, empty {@link TestFolder} in the OS temp folder, optionally
 * with files in it.
 *
 * @example
 * const folder = await createTestFolder({ files: { 'in.txt': 'hello' } });
 * const run = await runTask(myModule, { input: 'in.txt' }, { folder });
 * await folder.remove();
 */
export async function createTestFolder(options: TestFolderOptions = {}): Promise<TestFolder> {
  const folder = new TestFolder(await realpath(await mkdtemp(join(tmpdir(), options.prefix ?? 'sisyphus-test-'))));
  for (const [rel, content] of Object.entries(options.files ?? {})) await folder.write(rel, content);
  return folder;
}
