#!/usr/bin/env node
// After tsc: replace core/dist/vendor/*.js (thin re-exports of typebox and
// execa) with single-file bundles of the same exports, so loading the CLI
// reads 2 files instead of ~650. Types (.d.ts) stay tsc's. Run by
// `npm run build` and scripts/ensure-deps.sh; idempotent.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const vendor = fileURLToPath(new URL('../core/dist/vendor/', import.meta.url));
const MARK = '// sisyphus-vendor-bundle';

for (const name of ['typebox', 'execa']) {
  const file = `${vendor}${name}.js`;
  const current = await readFile(file, 'utf8');
  if (current.startsWith(MARK)) continue;
  await build({
    stdin: { contents: current, resolveDir: vendor, sourcefile: `${name}.js` },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: file,
    allowOverwrite: true,
    legalComments: 'inline',
    logLevel: 'error',
    // CommonJS inside execa's dependencies needs a real require in an ES module.
    banner: { js: `${MARK}\nimport { createRequire as __sisyphusRequire } from 'node:module';\nconst require = __sisyphusRequire(import.meta.url);` },
  });
}
