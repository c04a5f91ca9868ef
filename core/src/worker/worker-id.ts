import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

/** Name of the file that keeps the worker id inside the state folder (the first instance's; the others add `-N`). */
export const WORKER_ID_FILE = 'worker-id';

/** How many worker processes may share one state folder. */
export const MAX_WORKER_INSTANCES = 64;

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

/** Who holds an instance lock: the lock file's three lines. */
interface LockHolder {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (`/proc/PID/stat` field 22), '' where there is no /proc: tells a reused pid apart. */
  start: string;
}

function startTicks(pid: number | 'self'): string | undefined {
  try {
    // Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
  } catch {
    return undefined;
  }
}

const me = (): LockHolder => ({ pid: process.pid, host: hostname(), start: startTicks('self') ?? '' });
const lockText = (h: LockHolder) => `${h.pid}\n${h.host}\n${h.start}\n`;

function parseLock(text: string): LockHolder | undefined {
  const [pid, host, start] = text.split('\n');
  return pid && /^\d+$/.test(pid) && host !== undefined ? { pid: Number(pid), host, start: start ?? '' } : undefined;
}

/** Is the process that wrote the lock still running? Unknown (another host) counts as yes. */
function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // a shared state folder (e.g. NFS home): that host's worker may be running
  try {
    process.kill(h.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicks(h.pid);
  // The pid is taken by a later process (pid reuse, e.g. after a reboot): the lock is stale.
  return !(h.start && ticks !== undefined && ticks !== h.start);
}

async function readLock(file: string): Promise<{ text: string; holder?: LockHolder } | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    const holder = parseLock(text);
    return holder ? { text, holder } : { text };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A lock file left empty or garbled (a crash between create and write) older than this is stale. */
const UNREADABLE_LOCK_STALE_MS = 10_000;
/** A takeover guard older than this was left by a crash in the middle of a takeover. */
const GUARD_STALE_MS = 10_000;

/**
 * Take instance lock `file` for this process: true when taken (or already
 * ours), false when a live process holds it. A stale lock (its pid is gone,
 * or reused by another process) is taken over; the takeover happens under a
 * guard file so that two workers starting at once cannot both take it.
 */
async function tryLock(file: string): Promise<boolean> {
  const mine = me();
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      try {
        await handle.writeFile(lockText(mine));
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const seen = await readLock(file);
    if (!seen) continue; // released meanwhile: try again
    if (seen.holder && seen.holder.pid === mine.pid && seen.holder.host === mine.host && seen.holder.start === mine.start) return true;
    if (seen.holder && holderAlive(seen.holder)) return false;
    if (!seen.holder) {
      // Being written right now, or left garbled by a crash: only the latter is stale.
      const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age < UNREADABLE_LOCK_STALE_MS) {
        await delay(20);
        continue;
      }
    }
    await takeOver(file, seen.text);
  }
  return false;
}

/** Remove stale lock `file` if it still says `staleText`, holding `file.takeover` meanwhile. */
async function takeOver(file: string, staleText: string): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await writeFile(guard, lockText(me()), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - ((await stat(guard).catch(() => undefined))?.mtimeMs ?? Date.now());
    if (age > GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    else await delay(20);
    return;
  }
  try {
    // Only a lock that still holds what we judged stale goes: a new lock can appear only after this unlink.
    if ((await readLock(file))?.text === staleText) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** Locks this process holds, released when it exits. */
const held = new Set<string>();
let exitHook = false;

function releaseAtExit(file: string): void {
  held.add(file);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const lock of held) releaseSync(lock);
  });
}

function releaseSync(file: string): void {
  held.delete(file);
  try {
    if (readFileSync(file, 'utf8') === lockText(me())) unlinkSync(file);
  } catch {
    // Gone already.
  }
}

/** A worker identity claimed by this process (see {@link claimWorkerId}). */
export interface ClaimedWorkerId {
  /** The id (a UUID unless the file was written by hand). */
  id: string;
  /** Which of the state folder's instances: 1 keeps its id in `worker-id`, N > 1 in `worker-id-N`. */
  instance: number;
  /** The file the id is kept in. */
  file: string;
  /** Give the instance up before the process exits (it is given up at exit anyway). */
  release(): void;
}

/**
 * Claim a worker identity in `stateDir` for this process. Each `sisyphus
 * worker` process sharing the state folder gets its own: the first free
 * instance N (1, 2, ...) is locked with `worker-id[-N].lock` (this
 * process's pid, host and start time, deleted at exit) and its id is read
 * from `worker-id[-N]`, or a new UUID is written there. So a restarted
 * worker gets its old id back (the lowest free instance: a lone worker is
 * always instance 1), while two running at once get two ids. A lock whose
 * process is gone (killed, crashed, pid reused) is taken over at once; a
 * lock written on another host (a shared home folder) is left alone.
 * Calling it again in the same process returns the same instance.
 */
export async function claimWorkerId(stateDir: string = defaultStateDir()): Promise<ClaimedWorkerId> {
  await mkdir(stateDir, { recursive: true });
  for (let instance = 1; instance <= MAX_WORKER_INSTANCES; instance++) {
    const file = join(stateDir, instance === 1 ? WORKER_ID_FILE : `${WORKER_ID_FILE}-${instance}`);
    const lock = `${file}.lock`;
    if (!(await tryLock(lock))) continue;
    releaseAtExit(lock);
    const id = await loadOrCreateId(file);
    return { id, instance, file, release: () => releaseSync(lock) };
  }
  throw new ConfigError(
    `${MAX_WORKER_INSTANCES} worker processes already use the state folder ${stateDir} (see the worker-id*.lock files there); give this one its own worker.stateDir or worker.id`,
    { code: ErrorCodes.CONFIG_INVALID },
  );
}

/**
 * The id of this worker process: {@link claimWorkerId}'s, held until the
 * process exits. Two processes sharing one state folder get two ids; a
 * restarted worker gets its old one back.
 */
export async function loadOrCreateWorkerId(stateDir: string = defaultStateDir()): Promise<string> {
  return (await claimWorkerId(stateDir)).id;
}

/** Read the id kept in `file`, or write a new UUID there. */
async function loadOrCreateId(file: string): Promise<string> {
  const existing = await readId(file);
  if (existing) return existing;
  const id = randomUUID();
  try {
    // 'wx': a worker of an older version (no locks) starting at the same time writes once too; both read the winner's id.
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
