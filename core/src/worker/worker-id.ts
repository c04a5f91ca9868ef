import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Name of the file that keeps the worker id inside the state folder. */
export const WORKER_ID_FILE = 'worker-id';

/** Where a worker keeps its state by default: `$XDG_CONFIG_HOME/sisyphus`, else `~/.config/sisyphus`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'sisyphus');
}

async function readId(file: string): Promise<string | undefined> {
  try {
    const id = (await readFile(file, 'utf8')).trim();
    return id || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The worker's id, kept in `stateDir/worker-id`: read when the file exists,
 * else a new UUID is written there (the folder is made if needed) and
 * returned. So a worker keeps its identity across restarts; the original
 * made a new one every start. Two processes sharing one state folder share
 * the id: give each its own `stateDir` (or `worker.id`), or use `concurrency`.
 */
export async function loadOrCreateWorkerId(stateDir: string = defaultStateDir()): Promise<string> {
  const file = join(stateDir, WORKER_ID_FILE);
  const existing = await readId(file);
  if (existing) return existing;
  await mkdir(stateDir, { recursive: true });
  const id = randomUUID();
  try {
    // 'wx': when two workers start at once, one writes and both read its id.
    await writeFile(file, `${id}\n`, { flag: 'wx', mode: 0o644 });
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readId(file);
    if (winner) return winner;
    // An empty file (e.g. left by a crash mid-write): claim it.
    await writeFile(file, `${id}\n`, { mode: 0o644 });
    return id;
  }
}
