import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Version of this @sisyphus/core. */
export const CORE_VERSION: string = pkg.version;

/** Major version number of a semver string (`0.1.0` -> 0). */
export function majorOf(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '', 10);
}
