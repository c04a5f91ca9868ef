import { createRequire } from 'node:module';
import { dirname } from 'node:path';

// The package reads its own package.json by name (a self-reference through `exports`),
// so this holds wherever the bundler puts this code.
const require = createRequire(import.meta.url);
const pkg = require('@sisyphus/core/package.json') as { version: string };

/** Version of this @sisyphus/core. */
export const CORE_VERSION: string = pkg.version;

/**
 * Folder of this copy of @sisyphus/core (its real path). Two copies loaded
 * into one process (a plugin with its own core in its node_modules, an
 * `npm link`ed plugin) have different locations.
 */
export const CORE_LOCATION: string = dirname(require.resolve('@sisyphus/core/package.json'));

/** Major version number of a semver string (`0.1.0` -> 0). */
export function majorOf(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '', 10);
}

function parts(version: string): [number, number, number] {
  const [major, minor, patch] = version.split(/[.+-]/).map((n) => Number.parseInt(n, 10));
  return [major ?? Number.NaN, minor ?? Number.NaN, patch ?? Number.NaN];
}

/**
 * Caret compatibility (`^built` accepts `running`, and the other way round):
 * the same major; during 0.x the same minor as well (0.x minors break); for
 * 0.0.x the same patch. `1.2.0` and `1.9.3` are compatible, `0.1.0` and
 * `0.9.0` are not.
 */
export function coreVersionsCompatible(built: string, running: string): boolean {
  const a = parts(built);
  const b = parts(running);
  if (a.some(Number.isNaN) || b.some(Number.isNaN)) return false;
  if (a[0] !== b[0]) return false;
  if (a[0] > 0) return true;
  if (a[1] !== b[1]) return false;
  return a[1] > 0 || a[2] === b[2];
}

/** The versions compatible with `version`, for messages: `1.x`, `0.3.x`, or `0.0.4` itself. */
export function compatibleRange(version: string): string {
  const [major, minor, patch] = parts(version);
  if (major > 0) return `${major}.x`;
  if (minor > 0) return `0.${minor}.x`;
  return `0.0.${patch}`;
}
