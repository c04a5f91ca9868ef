#!/usr/bin/env node
// `prepack` of every package: build it (its own `npm run build`), then remove
// whatever dist/ holds that no source makes any more (tsc never deletes the
// output of a removed file), so a tarball has no stale files. Run by npm in
// the package's folder. Files under a folder named by `--generated DIR` are
// the package's own build's business (the core's bundle chunks).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { generated: { type: 'string', multiple: true, default: [] } } });
const dir = process.cwd();
// The build's chatter goes to stderr: `npm pack --json` prints its answer on stdout (vite's coloured lines broke it).
execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: ['ignore', process.stderr, 'inherit'] });

const dist = join(dir, 'dist');
const generated = values.generated.map((name) => join(dist, name));
/** `dist/a/b.d.ts`, `.js`, `.js.map` -> `src/a/b.ts`. */
const sourceOf = (file) => join(dir, 'src', relative(dist, file).replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts'));
const stale = [];
async function sweep(folder) {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    // The build's own record (tsBuildInfoFile), kept for the next build; `files` leaves it out.
    if (generated.includes(path) || entry.name === '.tsbuildinfo') continue;
    if (entry.isDirectory()) await sweep(path);
    else if (!existsSync(sourceOf(path))) stale.push(path);
  }
}
await sweep(dist);
for (const file of stale) await rm(file);
if (stale.length) console.error(`prepack: removed ${stale.length} stale file(s): ${stale.map((f) => relative(dir, f)).join(', ')}`);
