/**
 * Runs in every test file (vitest `setupFiles`): turns on the engine's
 * source guard for this process and the processes it starts, and fails any
 * test after which a job's source file was found modified. This is the
 * suite-wide check of "no source file of a job is ever modified": every
 * success and failure scenario of every test, in-process engines and
 * worker child processes alike.
 */
import { afterEach, expect } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const file = join(tmpdir(), `sisyphus-source-guard-${process.pid}.jsonl`);
process.env.SISYPHUS_SOURCE_GUARD = file;

afterEach(() => {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  rmSync(file, { force: true });
  // A test that damages a source on purpose (to prove the guard works) clears the file itself.
  expect(text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), 'a job modified one of its source files').toEqual([]);
});
