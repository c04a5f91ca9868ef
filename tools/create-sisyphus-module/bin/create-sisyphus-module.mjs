#!/usr/bin/env node
// npm create sisyphus-module@latest NAME  (also: npx sisyphus new module NAME)
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { createModulePackage } from '../lib/create-module-package.mjs';
import { ScaffoldError } from '../lib/scaffold-error.mjs';

const USAGE = `Usage: create-sisyphus-module NAME [--module MODULE] [--dir DIR]

Writes a new Sisyphus task module package NAME (an npm package name) into ./DIR
(default: NAME without its scope).

  --module MODULE  the module's name in jobs (default: NAME without a scope and a
                   leading "sisyphus-module-", e.g. sisyphus-module-thumbs -> thumbs)
  --dir DIR        folder to create (must not exist, or be empty)
  -h, --help       show this help`;

function fail(message) {
  process.stderr.write(`create-sisyphus-module: ${message}\n`);
  process.exitCode = 2;
}

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      module: { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
  } else if (positionals.length !== 1) {
    fail(positionals.length ? `expected one NAME, got ${positionals.length} (${positionals.join(' ')})` : 'NAME is missing (create-sisyphus-module --help)');
  } else {
    const made = await createModulePackage(process.cwd(), positionals[0], {
      ...(values.module !== undefined ? { moduleName: values.module } : {}),
      ...(values.dir !== undefined ? { dir: values.dir } : {}),
    });
    const where = relative(process.cwd(), made.dir) || '.';
    process.stdout.write(
      `Created ${made.packageName} (module "${made.moduleName}") in ${where}\n\n` +
        `Next:\n  cd ${where}\n  npm install\n  npm test\n  npx sisyphus run jobs/sample.yaml --var input=jobs/sample.yaml\n`,
    );
  }
} catch (error) {
  if (error instanceof ScaffoldError) fail(error.message);
  else if (error?.code?.startsWith?.('ERR_PARSE_ARGS')) fail(`${error.message.split('. ')[0]} (create-sisyphus-module --help)`);
  else throw error;
}
