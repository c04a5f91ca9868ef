import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCodes } from '../exit-codes.js';
import { usage } from '../usage-error.js';

/** The npm package that scaffolds a module package (`npm create sisyphus-module`). The core does not depend on it. */
export const SCAFFOLD_PACKAGE = 'create-sisyphus-module';

/** Options of `sisyphus new module NAME`, passed on to the scaffold. */
export interface NewCommandOptions {
  /** The module's name in jobs (default: derived from NAME). */
  module?: string;
  /** Folder to create (default: NAME without its scope). */
  dir?: string;
}

/**
 * The bin of an installed `create-sisyphus-module`, looked up from each
 * place in turn (a folder, or a file URL): by default the current folder
 * (the user's project), then this core's own install (a global install
 * next to it). Undefined when none has it.
 */
export function findScaffold(searchFrom: readonly string[] = [process.cwd(), import.meta.url]): string | undefined {
  for (const from of searchFrom) {
    try {
      const base = from.startsWith('file:') ? from : join(from, 'noop.js');
      const manifest = createRequire(base).resolve(`${SCAFFOLD_PACKAGE}/package.json`);
      const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> };
      const file = typeof bin === 'string' ? bin : bin?.[SCAFFOLD_PACKAGE];
      if (file) return resolve(dirname(manifest), file);
    } catch {
      // Not installed there: try the next place.
    }
  }
  return undefined;
}

/**
 * `sisyphus new module NAME [--module M] [--dir D]`: run the installed
 * `create-sisyphus-module` (a child process, argv array, its output shown
 * as is) and resolve with its exit code. When it is not installed, say how
 * to get it (`npm create sisyphus-module@latest NAME`) and resolve with 2:
 * the CLI never installs anything from the network by itself.
 */
export async function newCommand(kind: string, name: string, options: NewCommandOptions = {}, searchFrom?: readonly string[]): Promise<number> {
  if (kind !== 'module') throw usage(`sisyphus new: unknown kind "${kind}" (known: module)`);
  const bin = findScaffold(searchFrom);
  if (!bin) {
    process.stderr.write(`sisyphus new module: ${SCAFFOLD_PACKAGE} is not installed here; run: npm create sisyphus-module@latest ${name}\n`);
    return ExitCodes.BAD_INPUT;
  }
  // NAME after `--`: a name that looks like an option (`--help`) stays a name.
  const args = [bin, ...(options.module !== undefined ? ['--module', options.module] : []), ...(options.dir !== undefined ? ['--dir', options.dir] : []), '--', name];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done(code ?? ExitCodes.FAILED));
  });
}

/** Add `new` to the `sisyphus` program; `setCode` receives the exit code. */
export function addNewCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command('new')
    .argument('<kind>', 'what to create: module')
    .argument('<name>', 'npm package name, e.g. sisyphus-module-thumbs')
    .description('create a module package (runs create-sisyphus-module)')
    .option('--module <name>', "the module's name in jobs (default: from the package name)")
    .option('--dir <dir>', 'folder to create (default: the package name without its scope)')
    .action(async (kind: string, name: string, opts: NewCommandOptions) => {
      setCode(await newCommand(kind, name, opts));
    });
}
