import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, readlinkSync, unlinkSync } from 'node:fs';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../container/services.js';
import { ConfigError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

/** Name of the file that keeps the worker id inside the state folder (the first instance's; the others add `-N`). */
export const WORKER_ID_FILE = 'worker-id';

/** How many worker processes may share one state folder. */
export const MAX_WORKER_INSTANCES = 64;

/** How often a worker rewrites its lock so that workers that cannot check its pid see it is alive (ms). */
export const LOCK_REFRESH_MS = 10_000;

/**
 * A lock whose holder's pid cannot be checked from here (another host, pid
 * namespace or boot) is stale once it went this long without a refresh (ms):
 * six refresh periods, so a busy event loop, a briefly paused container or a
 * slow network file system does not lose its lock, while a worker restarted
 * after a hard kill waits at most this long for its id.
 */
export const LOCK_STALE_MS = 60_000;

/** Where a worker keeps its state by default: `$XDG_CONFIG_HOME/sisyphus`, else `~/.config/sisyphus`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'sisyphus');
}

// Never follow a link: a planted `worker-id` link would make us create its target or send a secret file as our id.
// O_NONBLOCK: opening a planted FIFO must not hang the worker (harmless on regular files).
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0);
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;

const code = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/** ELOOP (Linux, macOS) or EMLINK (FreeBSD): the path is a symbolic link that O_NOFOLLOW refused. */
function refuseLink(file: string, error: unknown): never {
  throw new ConfigError(
    `${file} is a symbolic link; a worker id or lock file must be a plain file, so it is not followed: remove the link (the worker then makes the file itself)`,
    { code: ErrorCodes.CONFIG_INVALID, cause: error },
  );
}

/** Open `file` without following a link; a link or anything but a regular file is a ConfigError naming it. */
async function openPlain(file: string, flags: number, mode?: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, flags, mode);
  } catch (error) {
    if (code(error) === 'ELOOP' || code(error) === 'EMLINK') refuseLink(file, error);
    throw error;
  }
  const info = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!info.isFile()) {
    await handle.close();
    throw new ConfigError(`${file} is not a regular file; remove it (the worker then makes the file itself)`, { code: ErrorCodes.CONFIG_INVALID });
  }
  return handle;
}

/** The text and modification time of `file`, read through one open handle (which also revalidates NFS attributes), or undefined when it is missing. */
async function readPlain(file: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await openPlain(file, READ_FLAGS);
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { mtimeMs } = await handle.stat();
    return { text: await handle.readFile('utf8'), mtimeMs };
  } finally {
    await handle.close();
  }
}

async function readId(file: string): Promise<string | undefined> {
  return (await readPlain(file))?.text.trim() || undefined;
}

/** Who holds an instance lock: the lock file's lines. */
interface LockHolder {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (`/proc/PID/stat` field 22), '' where there is no /proc: tells a reused pid apart. */
  start: string;
  /** Its pid namespace (`readlink /proc/self/ns/pid`), '' without /proc; undefined in a lock of an older version (three lines). */
  ns?: string;
  /** Its kernel's boot id (`/proc/sys/kernel/random/boot_id`), '' without /proc; undefined in a lock of an older version. */
  boot?: string;
}

function startTicks(pid: number | 'self'): string | undefined {
  try {
    // Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
  } catch {
    return undefined;
  }
}

function procText(read: () => string): string {
  try {
    return read().trim();
  } catch {
    return '';
  }
}

// Both are fixed for the life of the process.
const pidNamespace = procText(() => readlinkSync('/proc/self/ns/pid'));
const bootId = procText(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));

const me = (): Required<LockHolder> => ({ pid: process.pid, host: hostname(), start: startTicks('self') ?? '', ns: pidNamespace, boot: bootId });
const lockText = (h: Required<LockHolder>) => `${h.pid}\n${h.host}\n${h.start}\n${h.ns}\n${h.boot}\n`;

function parseLock(text: string): LockHolder | undefined {
  const lines = text.split('\n');
  const [pid, host, start, ns, boot] = lines;
  if (!pid || !/^\d+$/.test(pid) || host === undefined) return undefined;
  const holder: LockHolder = { pid: Number(pid), host, start: start ?? '' };
  // Five lines and a final newline: this version's lock. Anything shorter is an older version's.
  if (lines.length >= 6) Object.assign(holder, { ns, boot });
  return holder;
}

/**
 * Can this process tell from the pid whether `h` runs? Only in the same pid
 * namespace of the same boot of the same kernel (its host name may differ,
 * e.g. containers sharing the host's pids). An older version's lock (no
 * namespace or boot id) is judged as that version did: by pid on the same host.
 */
function pidCheckable(h: LockHolder): boolean {
  const mine = me();
  if (h.ns === undefined || h.boot === undefined) return h.host === mine.host;
  if (h.ns !== mine.ns || h.boot !== mine.boot) return false;
  // Without /proc both are '': only the host name is left to go by.
  return h.boot !== '' || h.host === mine.host;
}

/** Is the process that wrote the lock (in our pid namespace) still running? */
function holderAlive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (error) {
    if (code(error) !== 'EPERM') return false;
  }
  const ticks = startTicks(h.pid);
  // The pid is taken by a later process (pid reuse, e.g. after a reboot): the lock is stale.
  return !(h.start && ticks !== undefined && ticks !== h.start);
}

function isMe(h: LockHolder): boolean {
  const mine = me();
  return h.pid === mine.pid && h.host === mine.host && h.start === mine.start && h.ns === mine.ns && h.boot === mine.boot;
}

/** A lock file left empty or garbled (a crash between create and write) older than this is stale. */
const UNREADABLE_LOCK_STALE_MS = 10_000;
/** A takeover guard older than this was left by a crash in the middle of a takeover. */
const GUARD_STALE_MS = 10_000;

/** What one claim has learnt by watching locks whose pid it cannot check. */
interface Judgment {
  text: string;
  mtimeMs: number;
  verdict: 'alive' | 'stale';
}

interface ClaimContext {
  staleMs: number;
  refreshMs: number;
  judged: Map<string, Judgment>;
}

/** A lock whose holder cannot be checked by pid and that is not old enough to be stale: watch it. */
interface Pending {
  file: string;
  text: string;
  mtimeMs: number;
}

type LockState = { kind: 'taken' } | { kind: 'held' } | { kind: 'free' } | { kind: 'undecided'; pending: Pending };

function judge(file: string, seen: { text: string; mtimeMs: number }, ctx: ClaimContext): 'alive' | 'stale' | 'wait' | 'undecided' {
  const holder = parseLock(seen.text);
  const age = Date.now() - seen.mtimeMs;
  // Being written right now, or left garbled by a crash: only the latter is stale.
  if (!holder) return age < UNREADABLE_LOCK_STALE_MS ? 'wait' : 'stale';
  if (pidCheckable(holder)) return holderAlive(holder) ? 'alive' : 'stale';
  const known = ctx.judged.get(file);
  if (known && known.text === seen.text) {
    if (known.verdict === 'alive') return 'alive';
    if (known.mtimeMs === seen.mtimeMs) return 'stale';
  }
  return age > ctx.staleMs ? 'stale' : 'undecided';
}

/**
 * Take instance lock `file` for this process, or say why not: held by a live
 * worker, free (only when `mayTake` is false: a lower instance is still
 * undecided), or undecided (a foreign lock that is not stale yet). A stale
 * lock is taken over under a guard file so that two workers starting at once
 * cannot both take it.
 */
async function tryLock(file: string, ctx: ClaimContext, mayTake: boolean): Promise<LockState> {
  const mine = me();
  for (let attempt = 0; attempt < 200; attempt++) {
    if (mayTake) {
      try {
        const handle = await open(file, CREATE_FLAGS, 0o644);
        try {
          await handle.writeFile(lockText(mine));
        } finally {
          await handle.close();
        }
        return { kind: 'taken' };
      } catch (error) {
        // O_CREAT|O_EXCL fails with EEXIST on a symbolic link too; readPlain then refuses it.
        if (code(error) !== 'EEXIST') throw error;
      }
    }
    const seen = await readPlain(file);
    if (!seen) {
      if (!mayTake) return { kind: 'free' };
      continue; // released meanwhile: try again
    }
    const holder = parseLock(seen.text);
    if (holder && isMe(holder)) return { kind: 'taken' };
    const verdict = judge(file, seen, ctx);
    if (verdict === 'alive') return { kind: 'held' };
    if (verdict === 'undecided') return { kind: 'undecided', pending: { file, ...seen } };
    if (verdict === 'wait') {
      await delay(20);
      continue;
    }
    if (!mayTake) return { kind: 'free' };
    await takeOver(file, seen);
  }
  return { kind: 'held' };
}

/** Remove stale lock `file` if it still holds what we judged stale (text and mtime), holding `file.takeover` meanwhile. */
async function takeOver(file: string, stale: { text: string; mtimeMs: number }): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    const handle = await open(guard, CREATE_FLAGS, 0o644);
    await handle.writeFile(lockText(me())).finally(() => handle.close());
  } catch (error) {
    if (code(error) !== 'EEXIST') throw error;
    const age = Date.now() - ((await readPlain(guard).catch(() => undefined))?.mtimeMs ?? Date.now());
    if (age > GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    else await delay(20);
    return;
  }
  try {
    // Only a lock that still holds what we judged stale goes (a refresh changes its mtime): a new lock can appear only after this unlink.
    const now = await readPlain(file);
    if (now?.text === stale.text && now.mtimeMs === stale.mtimeMs) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/**
 * Watch locks that cannot be checked by pid until each is decided: alive
 * once its holder refreshes it (its mtime moves), stale once it went
 * `staleMs` without a refresh (by its mtime, or by our own clock since we
 * started watching, which also holds when the holder's clock runs ahead).
 */
async function watch(pending: Pending[], ctx: ClaimContext): Promise<void> {
  const started = performance.now();
  const pollMs = Math.max(20, Math.min(500, ctx.refreshMs / 4));
  let left = pending;
  while (left.length > 0) {
    await delay(pollMs);
    const next: Pending[] = [];
    for (const p of left) {
      const now = await readPlain(p.file);
      if (!now || now.text !== p.text) continue; // released or rewritten: the next scan judges it afresh
      if (now.mtimeMs !== p.mtimeMs) ctx.judged.set(p.file, { text: p.text, mtimeMs: now.mtimeMs, verdict: 'alive' });
      else if (performance.now() - started >= ctx.staleMs || Date.now() - now.mtimeMs > ctx.staleMs) ctx.judged.set(p.file, { text: p.text, mtimeMs: p.mtimeMs, verdict: 'stale' });
      else next.push(p);
    }
    left = next;
  }
}

/** Locks this process holds (with their refresh timers), released when it exits. */
const held = new Map<string, NodeJS.Timeout>();
let exitHook = false;

function hold(file: string, instance: number, id: string, refreshMs: number, logger: Logger | undefined): void {
  if (held.has(file)) return;
  const text = lockText(me());
  // Unref'd: the lock must not keep an otherwise finished process alive.
  const timer = setInterval(() => {
    void refresh(file, text, () => held.get(file) === timer).then(
      (ok) => {
        if (ok || held.get(file) !== timer) return;
        clearInterval(timer);
        warn(
          logger,
          `Another worker took over the lock ${file} (this one did not refresh it in time, e.g. it was paused); worker id ${id} (instance ${instance}) may now be used twice: restart this worker`,
        );
      },
      () => undefined, // a transient error: the next refresh tries again
    );
  }, refreshMs);
  timer.unref();
  held.set(file, timer);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const lock of [...held.keys()]) releaseSync(lock);
  });
}

/** Rewrite our lock (moving its mtime, set by the file system itself); false when it is no longer ours. */
async function refresh(file: string, text: string, stillHeld: () => boolean): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await openPlain(file, constants.O_RDWR | NOFOLLOW);
  } catch (error) {
    if (code(error) !== 'ENOENT' || !stillHeld()) throw error;
    // Deleted by a takeover that has not yet written its own lock: put ours back, unless someone was quicker.
    try {
      const created = await open(file, CREATE_FLAGS, 0o644);
      await created.writeFile(text).finally(() => created.close());
      return true;
    } catch (createError) {
      if (code(createError) === 'EEXIST') return false;
      throw createError;
    }
  }
  try {
    if ((await handle.readFile('utf8')) !== text) return false;
    if (stillHeld()) await handle.write(text, 0, 'utf8');
    return true;
  } finally {
    await handle.close();
  }
}

function releaseSync(file: string): void {
  clearInterval(held.get(file));
  held.delete(file);
  try {
    const fd = openSync(file, READ_FLAGS);
    let text = '';
    try {
      if (!fstatSync(fd).isFile()) return;
      const buffer = Buffer.alloc(4096);
      text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
    if (text === lockText(me())) unlinkSync(file);
  } catch {
    // Gone already (or a link, which is not ours).
  }
}

function warn(logger: Logger | undefined, message: string): void {
  if (logger) logger.warn(message);
  else process.emitWarning(message, { code: 'SIS_WORKER_ID' });
}

/** A worker identity claimed by this process (see {@link claimWorkerId}). */
export interface ClaimedWorkerId {
  /** The id (a UUID unless the file was written by hand). */
  id: string;
  /** Which of the state folder's instances: 1 keeps its id in `worker-id`, N > 1 in `worker-id-N`. */
  instance: number;
  /** The file the id is kept in. */
  file: string;
  /**
   * True when the state folder is not writable, so the id already kept there
   * is used without a lock (a warning was logged): another worker on the same
   * folder would get the same id.
   */
  readOnly?: boolean;
  /** Give the instance up before the process exits (it is given up at exit anyway). */
  release(): void;
}

/** Options of {@link claimWorkerId}. */
export interface ClaimWorkerIdOptions {
  /** Where warnings go (a read-only state folder, a lock lost to another worker); without one, `process.emitWarning`. */
  logger?: Logger;
  /** How often the held lock is rewritten (ms); default {@link LOCK_REFRESH_MS}. */
  lockRefreshMs?: number;
  /** How long a lock that cannot be checked by pid may go without a refresh before it is stale (ms); default {@link LOCK_STALE_MS}. Keep it several times `lockRefreshMs`, and the same for every worker on the folder. */
  lockStaleMs?: number;
}

const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Claim a worker identity in `stateDir` for this process. Each `sisyphus
 * worker` process sharing the state folder gets its own: the first free
 * instance N (1, 2, ...) is locked with `worker-id[-N].lock` (this
 * process's pid, host, start time, pid namespace and boot id, deleted at
 * exit) and its id is read from `worker-id[-N]`, or a new UUID is written
 * there. So a restarted worker gets its old id back (the lowest free
 * instance: a lone worker is always instance 1), while two running at once
 * get two ids.
 *
 * A lock written in this pid namespace of this boot is judged by its pid: its
 * process gone (killed, crashed, pid reused), it is taken over at once. Any
 * other lock (another host, container or boot) is kept fresh by its holder
 * every `lockRefreshMs` and is taken over once it went `lockStaleMs` without
 * a refresh; before moving past such a lock to a higher instance, the claim
 * waits to see it refreshed (at most `lockStaleMs`).
 *
 * A state folder that is not writable falls back to the id already kept there
 * (with a warning, `readOnly` set), or is a ConfigError when there is none.
 * An id or lock file that is a symbolic link is a ConfigError naming it.
 * Calling it again in the same process returns the same instance.
 */
export async function claimWorkerId(stateDir: string = defaultStateDir(), options: ClaimWorkerIdOptions = {}): Promise<ClaimedWorkerId> {
  const ctx: ClaimContext = {
    refreshMs: options.lockRefreshMs ?? LOCK_REFRESH_MS,
    staleMs: options.lockStaleMs ?? LOCK_STALE_MS,
    judged: new Map(),
  };
  try {
    await mkdir(stateDir, { recursive: true });
  } catch (error) {
    if (!UNWRITABLE.has(code(error) ?? '')) throw error;
    throw unwritable(stateDir, stateDir, error);
  }
  for (let round = 0; round < 100; round++) {
    const pending: Pending[] = [];
    for (let instance = 1; instance <= MAX_WORKER_INSTANCES; instance++) {
      const file = join(stateDir, instance === 1 ? WORKER_ID_FILE : `${WORKER_ID_FILE}-${instance}`);
      const lock = `${file}.lock`;
      let state: LockState;
      try {
        // Never past a lower instance that may be our own lock from before a hard kill.
        state = await tryLock(lock, ctx, pending.length === 0);
      } catch (error) {
        if (!UNWRITABLE.has(code(error) ?? '')) throw error;
        return await readOnlyClaim(stateDir, file, instance, error, options.logger);
      }
      if (state.kind === 'held') continue;
      if (state.kind === 'undecided') {
        pending.push(state.pending);
        continue;
      }
      if (state.kind === 'free') break;
      let id: string;
      try {
        id = await loadOrCreateId(file);
      } catch (error) {
        releaseSync(lock);
        throw error;
      }
      hold(lock, instance, id, ctx.refreshMs, options.logger);
      return { id, instance, file, release: () => releaseSync(lock) };
    }
    if (pending.length === 0) break;
    await watch(pending, ctx);
  }
  throw new ConfigError(
    `${MAX_WORKER_INSTANCES} worker processes already use the state folder ${stateDir} (see the worker-id*.lock files there); give this one its own worker.stateDir or worker.id`,
    { code: ErrorCodes.CONFIG_INVALID },
  );
}

function unwritable(stateDir: string, path: string, error: unknown): ConfigError {
  return new ConfigError(
    `The worker state folder ${stateDir} is not writable (${code(error)} on ${path}) and holds no worker id to use: give the worker a writable worker.stateDir, or set worker.id (env HOST_UUID)`,
    { code: ErrorCodes.CONFIG_INVALID, cause: error },
  );
}

/** The state folder cannot take a lock: use the id already kept for this instance, if any, without a lock. */
async function readOnlyClaim(stateDir: string, file: string, instance: number, error: unknown, logger: Logger | undefined): Promise<ClaimedWorkerId> {
  const id = await readId(file).catch((readError: unknown) => {
    if (readError instanceof ConfigError) throw readError;
    return undefined;
  });
  if (!id) throw unwritable(stateDir, `${file}.lock`, error);
  warn(
    logger,
    `The worker state folder ${stateDir} is not writable (${code(error)}): using the id kept in ${file} without a lock, so another worker on this folder would get the same id; make the folder writable, or give each worker its own worker.id (env HOST_UUID)`,
  );
  return { id, instance, file, readOnly: true, release: () => undefined };
}

/**
 * The id of this worker process: {@link claimWorkerId}'s, held until the
 * process exits. Two processes sharing one state folder get two ids; a
 * restarted worker gets its old one back.
 */
export async function loadOrCreateWorkerId(stateDir: string = defaultStateDir(), options: ClaimWorkerIdOptions = {}): Promise<string> {
  return (await claimWorkerId(stateDir, options)).id;
}

/** Read the id kept in `file`, or write a new UUID there. */
async function loadOrCreateId(file: string): Promise<string> {
  const existing = await readId(file);
  if (existing) return existing;
  const id = randomUUID();
  try {
    // O_EXCL: a worker of an older version (no locks) starting at the same time writes once too; both read the winner's id.
    const handle = await open(file, CREATE_FLAGS, 0o644);
    await handle.writeFile(`${id}\n`).finally(() => handle.close());
    return id;
  } catch (error) {
    if (code(error) !== 'EEXIST') throw error;
    const winner = await readId(file);
    if (winner) return winner;
    // An empty file (e.g. left by a crash mid-write): claim it.
    const handle = await openPlain(file, constants.O_WRONLY | constants.O_TRUNC | NOFOLLOW);
    await handle.writeFile(`${id}\n`).finally(() => handle.close());
    return id;
  }
}
