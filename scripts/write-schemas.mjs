#!/usr/bin/env node
// Write the editor schemas shipped in @sisyphus/core: core/schemas/job.schema.json
// (job files, task data of the shipped modules) and core/schemas/config.schema.json
// (worker/server configs). Run after the build (`npm run build`): it runs the built
// `sisyphus schema` itself, so the files are exactly what the command prints
// (test/schema-cli.test.ts checks that they are not stale).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'core/dist/cli/bin.js');
// A folder with an empty package.json: no config is found there, so the schemas
// describe the shipped modules (the default), whatever config sits in the caller's folder.
const cwd = mkdtempSync(join(tmpdir(), 'sisyphus-schemas-'));
try {
  writeFileSync(join(cwd, 'package.json'), '{"private": true}\n');
  for (const kind of ['job', 'config']) {
    const out = join(repo, 'core/schemas', `${kind}.schema.json`);
    execFileSync(process.execPath, [bin, 'schema', kind, '--out', out], { cwd, stdio: 'inherit' });
  }
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
