#!/usr/bin/env node
// The `sisyphus` command. A source file, not a build output, so that npm links
// it when a clone is installed, before the first build; the CLI is the bundle
// dist/cli/bin.js (see scripts/bundle.mjs).
try {
  await import('../dist/cli/bin.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/bin.js')) {
    console.error('sisyphus: @sisyphus/core is not built (in a clone of the repository, run `npm run build` first)');
    process.exit(2);
  }
  throw error;
}
