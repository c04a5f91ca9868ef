import validatePackageName from 'validate-npm-package-name';
import { ScaffoldError } from './scaffold-error.mjs';

/** What the core's `defineModule` accepts as a module name. */
const MODULE_NAME = /^[A-Za-z0-9][\w.-]*$/;

/** npm's own pattern for package names (scope and name start with neither `.` nor `_`). */
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** Names that cannot be a package's folder. */
const RESERVED_FOLDERS = new Set(['node_modules', 'favicon.ico']);

/** Throw a one-line {@link ScaffoldError} unless `name` is a valid name for a new npm package. */
export function checkPackageName(name) {
  if (typeof name !== 'string' || name === '') throw new ScaffoldError('NAME is missing: give the npm package name, e.g. sisyphus-module-thumbnails');
  const verdict = validatePackageName(name);
  if (!verdict.validForNewPackages) {
    const reasons = [...(verdict.errors ?? []), ...(verdict.warnings ?? [])];
    throw new ScaffoldError(`NAME ${JSON.stringify(name)} is not a valid npm package name: ${reasons.join('; ')}`);
  }
  // The validator lets some scoped names through that npm's registry refuses (`@../x`), and a scope
  // hides a reserved name from it (`@x/node_modules` would write the package into ./node_modules).
  if (!NPM_NAME.test(name)) throw new ScaffoldError(`NAME ${JSON.stringify(name)} is not a valid npm package name: a scope and a name start with a letter, digit, '-' or '~'`);
  const folder = name.replace(/^@[^/]+\//, '');
  if (RESERVED_FOLDERS.has(folder)) throw new ScaffoldError(`NAME ${JSON.stringify(name)} is not a valid npm package name: ${folder} is a reserved name`);
}

/**
 * The module name a package name suggests: the scope and a leading
 * `sisyphus-module-`, `sisyphus-` or `module-` are dropped
 * (`@acme/sisyphus-module-thumbs` -> `thumbs`).
 */
export function moduleNameFor(packageName) {
  const bare = packageName.replace(/^@[^/]+\//, '');
  const stripped = bare.replace(/^(sisyphus-module-|sisyphus-|module-)/, '');
  return stripped || bare;
}

/** Module names the shipped packages use (and the original Sisyphus's, coming): a worker refuses two modules with one name. */
const SHIPPED_MODULES = new Set(['ffmpeg', 'mkvmerge', 'cleanup', 'mkvextract', 'handbrake']);

/** Throw a one-line {@link ScaffoldError} unless `name` is a valid module name. */
export function checkModuleName(name) {
  if (SHIPPED_MODULES.has(name)) {
    throw new ScaffoldError(`module name "${name}" is taken by a shipped module (@sisyphus/module-${name}): a worker refuses two modules with one name; choose another with --module`);
  }
  if (!MODULE_NAME.test(name)) {
    throw new ScaffoldError(`module name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' or '-', starting with a letter or digit (set it with --module)`);
  }
}

/** `thumb-maker.v2` -> `ThumbMakerV2` (a TypeScript identifier; a leading digit gets `M`). */
export function pascalCase(name) {
  const joined = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
  return /^[0-9]/.test(joined) ? `M${joined}` : joined;
}

/** `thumb-maker.v2` -> `thumbMakerV2`. */
export function camelCase(name) {
  const pascal = pascalCase(name);
  return pascal[0].toLowerCase() + pascal.slice(1);
}
