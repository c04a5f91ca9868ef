#!/usr/bin/env node
// The core's JavaScript build (tsc only checks it and writes its declarations).
//
// Every entry the package exports (the SDK root, each subpath and the CLI's
// bin) is bundled by esbuild with code splitting, the way rollup builds its
// own CLI: entries share chunks, so the CLI and a module that imports
// `@sisyphus/core` get the same classes and the same DI container. TypeBox
// (~540 small modules) and execa are bundled in, which spares the CLI
// ~160 ms of start-up on every job; every other dependency stays external
// (installed by npm, one copy for everybody: tsyringe's registry,
// reflect-metadata's global, pino's worker threads).
//
// Run from the package folder (`npm run build`, or the repository's build).
// Writes only files whose content changed and removes JavaScript it no
// longer makes, so the output never holds stale files and a build while
// tests read dist/ changes nothing under them.
import { build } from 'esbuild';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['typebox', 'execa']);

/** `./dist/x/index.js` (an export or bin target) -> `src/x/index.ts`. */
function sourceOf(target) {
  return join(root, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
}

// The CLI's own entry (bin/sisyphus.js, a source file, loads it) and every export.
const CLI = './dist/cli/bin.js';
const targets = new Set([CLI]);
for (const value of Object.values(pkg.exports)) {
  if (typeof value === 'object' && value.default?.startsWith('./dist/')) targets.add(value.default);
}
const external = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies })
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

const result = await build({
  absWorkingDir: root,
  entryPoints: [...targets].map(sourceOf),
  outbase: 'src',
  outdir: 'dist',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Node built-ins and the package itself (its package.json, read by name) stay imports.
  external: [...external, '@sisyphus/core', '@sisyphus/core/*'],
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'inline',
  logLevel: 'error',
  write: false,
  // CommonJS inside execa's dependencies needs a real `require` in an ES module.
  banner: { js: "import { createRequire as __sisyphusRequire } from 'node:module';\nconst require = __sisyphusRequire(import.meta.url);" },
});

const made = new Set();
let written = 0;
for (const file of result.outputFiles) {
  made.add(file.path);
  const current = await readFile(file.path).catch(() => undefined);
  if (current && Buffer.compare(current, file.contents) === 0) continue;
  await mkdir(dirname(file.path), { recursive: true });
  await writeFile(file.path, file.contents);
  if (file.path === join(root, CLI)) await chmod(file.path, 0o755);
  written++;
}

// JavaScript in dist/ that this build did not make is stale (a removed entry, an old chunk).
let removed = 0;
async function sweep(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await sweep(path);
    else if (/\.js(\.map)?$/.test(entry.name) && !made.has(path)) {
      await rm(path);
      removed++;
    }
  }
}
await sweep(join(root, 'dist'));
if (written || removed) console.error(`core bundle: ${written} file(s) written, ${removed} stale file(s) removed`);
