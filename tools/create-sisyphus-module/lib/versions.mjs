/**
 * Versions a generated package depends on. `core` is the @sisyphus/core
 * release this scaffold was made with (the package depends on `^core`); a
 * test in this repository keeps it equal to core/package.json's version and
 * the tool versions in step with the ones the repository builds with.
 */
export const VERSIONS = Object.freeze({
  core: '0.1.0',
  // The package's declarations name TypeBox's types (its schema's inferred type), so it depends on
  // TypeBox itself, at the core's range: a strict (pnpm-style) install resolves nothing else.
  typebox: '^1.4.3',
  typescript: '^5.9.3',
  vitest: '~4.1.0',
  typesNode: '^20.11.0',
  node: '^20.11.0 || >=22.0.0',
  // vitest's vite needs 20.19 to develop the package (its users need only `node`).
  devNode: '>=20.19',
});
