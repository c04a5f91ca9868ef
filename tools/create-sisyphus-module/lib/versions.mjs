/**
 * Versions a generated package depends on. `core` is the @sisyphus/core
 * release this scaffold was made with (the package depends on `^core`); a
 * test in this repository keeps it equal to core/package.json's version and
 * the tool versions in step with the ones the repository builds with.
 */
export const VERSIONS = Object.freeze({
  core: '0.1.0',
  typescript: '^5.9.3',
  vitest: '~4.1.0',
  typesNode: '^20.11.0',
  node: '>=20.11',
});
