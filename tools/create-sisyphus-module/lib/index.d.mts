/** Options of {@link createModulePackage}. */
export interface CreateModuleOptions {
  /** The module's name in jobs (`tasks[].module`). Default: derived from the package name (`sisyphus-module-thumbs` -> `thumbs`). */
  moduleName?: string;
  /** Folder to create, relative to `parentDir`. Default: the package name without its scope. */
  dir?: string;
  /**
   * Replace or add devDependencies of the generated package.json, e.g.
   * `{ '@sisyphus/core': 'file:/tmp/packs/sisyphus-core-0.1.0.tgz' }` to
   * install a packed core instead of the registry's.
   */
  devDependencies?: Record<string, string>;
}

/** What {@link createModulePackage} made. */
export interface CreatedModulePackage {
  /** Absolute path of the new package folder. */
  dir: string;
  packageName: string;
  moduleName: string;
  /** Files written, relative to `dir`, sorted. */
  files: string[];
}

/**
 * Write a new Sisyphus module package `packageName` into `parentDir`.
 * Rejects with a {@link ScaffoldError} for a bad package or module name or
 * an existing non-empty folder.
 */
export function createModulePackage(parentDir: string, packageName: string, options?: CreateModuleOptions): Promise<CreatedModulePackage>;

/** Throw a {@link ScaffoldError} unless `name` is a valid name for a new npm package. */
export function checkPackageName(name: string): void;
/** Throw a {@link ScaffoldError} unless `name` is a valid Sisyphus module name. */
export function checkModuleName(name: string): void;
/** The module name a package name suggests (`@acme/sisyphus-module-thumbs` -> `thumbs`). */
export function moduleNameFor(packageName: string): string;

/** A problem with what the user asked for; the command prints its message and exits 2. */
export class ScaffoldError extends Error {}

/** Versions a generated package depends on (`core`: the @sisyphus/core release, depended on as `^core`). */
export const VERSIONS: Readonly<{ core: string; typescript: string; vitest: string; typesNode: string; node: string }>;
