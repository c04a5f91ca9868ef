import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];
const cleanups: Array<() => unknown> = [];

/** A fresh temp folder, removed after the test. */
export async function tempDir(prefix = 'sis-http-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Run `fn` after the current test (last registered first). */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  while (made.length) await rm(made.pop()!, { recursive: true, force: true });
});

/** Is a process with this pid alive (and not a zombie)? */
export { alive } from '../../../test/support/processes.js';

/** Wait until `check` is true, polling; throws with `what` when `ms` ran out. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000, every = 20): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, every));
  }
  if (!(await check())) throw new Error(`timed out waiting for: ${what}`);
}
