import { createRequire } from 'node:module';

// The package reads its own package.json by name (a self-reference through `exports`),
// so this holds wherever the bundler puts this code.
const pkg = createRequire(import.meta.url)('@sisyphus/core/package.json') as { version: string };

/** Version of this @sisyphus/core. */
export const CORE_VERSION: string = pkg.version;

/** Major version number of a semver string (`0.1.0` -> 0). */
export function majorOf(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '', 10);
}
