import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import type { LoadedPlugin } from './module-registry.js';
import type { Plugin } from './define-plugin.js';

function isPathSpec(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..' || isAbsolute(spec);
}

type ExportsField = string | { [condition: string]: ExportsField } | undefined;

/** The ESM entry a package.json points at (`exports["."]` import/default, else `main`). */
function entryOf(pkg: { exports?: ExportsField; main?: string }): string {
  const pick = (e: ExportsField): string | undefined => {
    if (typeof e === 'string') return e;
    if (!e || typeof e !== 'object') return undefined;
    if ('.' in e) return pick(e['.']);
    return pick(e.import) ?? pick(e.node) ?? pick(e.default) ?? pick(e.require);
  };
  return pick(pkg.exports) ?? pkg.main ?? 'index.js';
}

async function entryOfDirectory(dir: string): Promise<string> {
  const raw = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
  return join(dir, raw ? entryOf(JSON.parse(raw) as { exports?: ExportsField; main?: string }) : 'index.js');
}

/** Find node_modules/<name> walking up from `fromDir`. */
async function findPackageDir(name: string, fromDir: string): Promise<string | undefined> {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (await stat(join(candidate, 'package.json')).then(() => true, () => false)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Resolve a plugin spec (npm package name or relative path) to a file, or undefined. */
export async function resolvePluginEntry(spec: string, fromDir: string): Promise<string | undefined> {
  if (isPathSpec(spec)) {
    const path = resolve(fromDir, spec);
    const st = await stat(path).catch(() => undefined);
    if (!st) return undefined;
    return st.isDirectory() ? entryOfDirectory(path) : path;
  }
  try {
    return createRequire(join(fromDir, '__sisyphus__.js')).resolve(spec);
  } catch (error) {
    // ESM-only packages (exports without a require/default condition) land here.
    const dir = await findPackageDir(spec, fromDir);
    if (dir) return entryOfDirectory(dir);
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/** The npm package a bare specifier belongs to: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageNameOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The package whose absence made an import fail (Node's `Cannot find
 * package 'X' imported from ...`, or `Cannot find module 'X'`), or
 * undefined when the import failed for another reason (or a file is missing).
 */
export function missingPackageOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(String((error as Error).message))?.[1];
  return name && !isPathSpec(name) && !name.startsWith('file:') ? packageNameOf(name) : undefined;
}

/**
 * Import the plugin named by `spec` (an npm package name resolved from
 * `fromDir`, or a path relative to it) and return its default export.
 * Errors name the spec: not found, failed to load. Whether the export really
 * is a plugin is checked by the registry.
 */
export async function importPlugin(spec: string, fromDir: string): Promise<LoadedPlugin> {
  const entry = await resolvePluginEntry(spec, fromDir);
  if (!entry) {
    const hint = isPathSpec(spec) ? `no such file or folder: ${resolve(fromDir, spec)}` : `is it installed? (npm install ${packageNameOf(spec)})`;
    throw new ConfigError(`plugin "${spec}" not found from ${fromDir}: ${hint}`, { code: ErrorCodes.PLUGIN_NOT_FOUND });
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (error) {
    const missingFile = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(entry);
    // A dependency of the plugin is not installed: say which package to install.
    const missing = missingFile ? undefined : missingPackageOf(error);
    if (missing) {
      // Not PLUGIN_NOT_FOUND: the plugin is there (a shipped one must not be skipped as "not installed").
      throw new ConfigError(`plugin "${spec}" needs the ${missing} package, which is not installed: npm install ${missing}`, { code: ErrorCodes.CONFIG_INVALID, cause: error });
    }
    throw new ConfigError(`plugin "${spec}" failed to load from ${entry}: ${(error as Error).message.split('\n')[0]}`, {
      code: missingFile ? ErrorCodes.PLUGIN_NOT_FOUND : ErrorCodes.CONFIG_INVALID,
      cause: error,
    });
  }
  let plugin = loaded.default as unknown;
  // A CommonJS package seen through ESM interop nests its default once more.
  if (plugin && typeof plugin === 'object' && 'default' in plugin && !('kind' in plugin)) {
    plugin = (plugin as { default: unknown }).default;
  }
  return { plugin: plugin as Plugin, source: spec };
}
