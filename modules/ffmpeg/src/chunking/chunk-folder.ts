import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { ErrorCodes, RunError, processGone, removeTree, treeRemoval, processHostId, processStartTicks } from '@sisyphus/core';

/** Prefix of the hidden folders beside an output that hold chunked encodes' chunks. */
export const CHUNK_FOLDER_PREFIX = '.sisyphus-chunks-';
/** The record in a chunk folder saying who made it (see {@link ChunkFolderOwner}). */
export const CHUNK_OWNER_FILE = 'owner.json';
const TOKEN = /^[0-9a-f]{12}$/;

/**
 * `.sisyphus-chunks-JOBID.`: how the chunk folders of job `jobId` beside
 * an output begin. A queue id (letters, digits, `.`, `_`, `~`, `-`) is kept
 * verbatim; any other id is written `+` and its UTF-8 bytes in hex (`+` is
 * never in a queue id, so the two forms cannot meet).
 */
export function chunkFolderStem(jobId: string): string {
  const name = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/.test(jobId) ? jobId : `+${Buffer.from(jobId, 'utf8').toString('hex')}`;
  return `${CHUNK_FOLDER_PREFIX}${name}.`;
}

/**
 * `DIR/.sisyphus-chunks-JOBID.TOKEN` beside `output`: the folder of one
 * plan of job `jobId` (`token`: 12 hex digits, new for every plan). Two runs
 * of one job id (a retry, or two local runs of one job file) never share a
 * folder, so neither can remove or fill the other's.
 */
export function chunkFolder(output: string, jobId: string, token: string): string {
  return join(dirname(output), `${chunkFolderStem(jobId)}${token}`);
}

/** Is `folder` a chunk folder of some job beside `output` (a name {@link chunkFolder} could make)? */
function isChunkFolderBeside(folder: string, output: string): boolean {
  const name = basename(folder);
  const dot = name.lastIndexOf('.');
  return dirname(folder) === dirname(output) && name.startsWith(CHUNK_FOLDER_PREFIX) && dot > CHUNK_FOLDER_PREFIX.length && TOKEN.test(name.slice(dot + 1));
}

/** Is `folder` named as a chunk folder of job `jobId` (by {@link chunkFolder}), wherever it is? */
export function isChunkFolderNamed(folder: string, jobId: string): boolean {
  const stem = chunkFolderStem(jobId);
  const name = basename(folder);
  return name.startsWith(stem) && TOKEN.test(name.slice(stem.length));
}

/** Is `folder` a chunk folder of job `jobId` beside `output` (its name made by {@link chunkFolder})? */
export function isChunkFolderOf(folder: string, output: string, jobId: string): boolean {
  return dirname(folder) === dirname(output) && isChunkFolderNamed(folder, jobId);
}

/**
 * `owner.json` in a chunk folder (snake_case like the wire): the run that
 * planned the chunks. `phase` is `plan` until the chunks are handed over,
 * then `children`.
 */
export interface ChunkFolderOwner {
  job_id: string;
  /** The output's file name (the folder is beside it). */
  output: string;
  hostname: string;
  /** The planning process: a positive integer. */
  pid: number;
  /** When it started (core's `processStartTicks`): a pid given again later is not it. */
  pid_start?: string;
  /** Boot id and PID namespace of the planning process (core's `processHostId`). */
  host_id: string;
  /** The children run inline in the planning process (a local run; `ctx.children.inline`). */
  inline: boolean;
  phase: 'plan' | 'children';
  created_at: string;
}

/** An `owner.json` is a few hundred bytes; anything bigger is not one. */
const MAX_OWNER_BYTES = 4096;
/** `created_at` as `Date.toISOString` writes it (so that comparing the text compares the times). */
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Control characters: never in a field of a record this module wrote (they would end up in messages and logs). */
const CONTROL = /\p{Cc}/u;

/**
 * Folders this process made and has not finished with: for its own runs a
 * pid proves nothing, this does. One set per process, shared by every copy
 * of this module loaded in it (two versions of the package, say).
 */
const ours: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('sisyphus.ffmpeg.chunkFolders')] ??= new Set<string>()) as Set<string>;

/** Is the process that planned `folder` (its record `owner`) surely gone? This process: when it is done with the folder. */
function plannerGone(folder: string, owner: ChunkFolderOwner): boolean {
  if (owner.pid === process.pid && owner.host_id === processHostId() && processHostId()) return !ours.has(folder);
  return processGone(owner.host_id, owner.pid, owner.pid_start);
}

/**
 * Is the chunk folder whose record is `owner` left over from a run that is
 * surely gone? Only a record from a process of this host that is gone, and
 * then only when nothing else can still use the folder: an inline run (its
 * chunks and join ran in that process), or a plan that never handed its
 * chunks over. Chunks handed to a server stay: any worker may encode or
 * join them; the job's own join or cleanup job removes them.
 */
export function leftOver(folder: string, owner: ChunkFolderOwner): boolean {
  return plannerGone(folder, owner) && (owner.inline || owner.phase === 'plan');
}

/**
 * Is the chunk folder whose record is `owner` being used by an inline run
 * that is alive (this process's own, or another process of this host)? Such
 * a run writes its output: a run writing the same one is a second writer.
 */
function liveInline(folder: string, owner: ChunkFolderOwner): boolean {
  return owner.inline && Boolean(processHostId()) && owner.host_id === processHostId() && !plannerGone(folder, owner);
}

/**
 * The record in `folder`, or undefined when there is none that can be
 * trusted to judge it by: not a regular file of at most 4 KiB (a FIFO, a
 * link, a device are never opened for reading, so cannot block), not JSON,
 * or fields of the wrong kind (a pid that is not a positive integer).
 */
async function readOwner(folder: string): Promise<ChunkFolderOwner | undefined> {
  let handle;
  try {
    handle = await open(join(folder, CHUNK_OWNER_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_OWNER_BYTES) return undefined;
    const buffer = Buffer.alloc(MAX_OWNER_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_OWNER_BYTES) return undefined;
    const o = JSON.parse(buffer.subarray(0, bytesRead).toString('utf8')) as Partial<ChunkFolderOwner> | null;
    const text = (v: unknown, max = 255) => typeof v === 'string' && v.length <= max && !CONTROL.test(v);
    const valid =
      o && typeof o === 'object' && text(o.job_id) && text(o.output) && text(o.hostname) && text(o.host_id, 512) &&
      Number.isSafeInteger(o.pid) && o.pid! > 0 &&
      // Where this host names processes (host_id), a record of it names its process's start too.
      (o.pid_start === undefined ? !o.host_id : typeof o.pid_start === 'string' && /^\d{1,20}$/.test(o.pid_start)) &&
      typeof o.inline === 'boolean' && (o.phase === 'plan' || o.phase === 'children') && typeof o.created_at === 'string' && ISO_TIME.test(o.created_at);
    return valid ? (o as ChunkFolderOwner) : undefined;
  } catch {
    return undefined; // none (an older version's folder, or being written), unreadable or not JSON: never judged
  } finally {
    await handle?.close();
  }
}

async function writeOwner(folder: string, owner: ChunkFolderOwner): Promise<void> {
  const temp = join(folder, `${CHUNK_OWNER_FILE}.${randomBytes(4).toString('hex')}.new`);
  await writeFile(temp, JSON.stringify(owner), { flag: 'wx', mode: 0o644 });
  await rename(temp, join(folder, CHUNK_OWNER_FILE));
}

/** What {@link openChunkFolder} made, the leftovers it removed and the folders of this job or this output it left alone (with why). */
export interface OpenedChunkFolder {
  folder: string;
  owner: ChunkFolderOwner;
  removed: string[];
  /** `job`: the job id the folder is of (this job's, or another's run writing the same output). */
  kept: Array<{ folder: string; job: string; why: string }>;
}

/** Did `a` (in `folderA`) begin before `b` (in `folderB`)? By the time written, then by name (one clock: the same host). */
function before(a: ChunkFolderOwner, folderA: string, b: ChunkFolderOwner, folderB: string): boolean {
  return a.created_at < b.created_at || (a.created_at === b.created_at && basename(folderA) < basename(folderB));
}

/** Does `folder` hold one of `files` (paths as named and real paths; `folder` as found and its real path are compared)? */
async function holdsAny(folder: string, files: readonly string[]): Promise<string | undefined> {
  if (!files.length) return undefined;
  const real = await realpath(folder).catch(() => folder);
  return files.find((f) => f.startsWith(real + sep) || f.startsWith(folder + sep));
}

/**
 * Why the leftover `folder` (in `dir`) is not this process's to remove, or
 * undefined when it is. Another user's folder is theirs. Where removal goes
 * by path (no GNU `rm` here, {@link treeRemoval}), whoever may rename
 * entries on the way could swap a folder in it for a link between a look
 * and a delete, and have this process delete files elsewhere: then only a
 * tree this user owns, in which no one else may write (no folder group- or
 * world-writable), in an output folder where others cannot rename it (not
 * group- or world-writable, or sticky). Removal by folder handles
 * (`fd-relative`) never leaves the tree, whoever writes in it.
 */
async function unsafeToRemove(folder: string, dir: string): Promise<string | undefined> {
  const uid = process.getuid?.();
  const top = await lstat(folder).catch(() => undefined);
  if (!top?.isDirectory()) return `${folder} changed while it was looked at`;
  if (uid !== undefined && top.uid !== uid) return `${folder} belongs to another user (uid ${top.uid})`;
  if ((await treeRemoval()) === 'fd-relative') return undefined;
  const parent = await lstat(dir).catch(() => undefined);
  if (!parent) return `its folder ${dir} cannot be read`;
  if (parent.mode & 0o022 && !(parent.mode & 0o1000)) return `others may rename entries in ${dir} (writable by group or others, not sticky), so removing it is not safe here`;
  const pending = [folder];
  let seen = 0;
  while (pending.length) {
    const at = pending.pop()!;
    const st = await lstat(at).catch(() => undefined);
    if (!st?.isDirectory()) return `${at} changed while it was looked at`;
    if (uid !== undefined && st.uid !== uid) return `${at} belongs to another user (uid ${st.uid})`;
    if (st.mode & 0o022) return `others may write in ${at}, so removing it is not safe here`;
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      if (++seen > 100_000) return 'it holds more than 100000 entries';
      if (entry.isDirectory()) pending.push(join(at, entry.name));
    }
  }
  return undefined;
}

/**
 * Make a new chunk folder for a plan of job `jobId` beside `output`, with
 * its `owner.json` (phase `plan`); then judge the chunk folders already
 * there by their records:
 * - an inline run writing the same output (of this job id or another) that
 *   is alive on this host and began first: this run is a second writer,
 *   RunError `SIS_OUTPUT_CLAIMED` (the new folder is removed again). Both
 *   runs write their record before they look, so of two that start at once
 *   the later one normally sees the earlier and stops; should both go on,
 *   each in its own folder, the output claim of their joins decides, and
 *   neither touches the other's chunks;
 * - a folder of this job id, or of another job whose record names this
 *   output (a local run without a `job_id` in its file gets a new id each
 *   time), that is {@link leftOver}: removed, unless it holds one of
 *   `inputs` (the task's own files, real paths), belongs to another user,
 *   or (removal by path only) others may write around it;
 * - any other: left alone (those of this job or this output are listed in
 *   `kept`, with why).
 * `field` names the output in messages.
 */
export async function openChunkFolder(output: string, jobId: string, inline: boolean, inputs: readonly string[] = [], field = 'output_file'): Promise<OpenedChunkFolder> {
  const dir = dirname(output);
  const folder = join(dir, `${chunkFolderStem(jobId)}${randomBytes(6).toString('hex')}`);
  // Inline, only this process writes in it; a server's workers (other users of a shared group, say) may need the umask's.
  await mkdir(folder, inline ? { mode: 0o755 } : {});
  ours.add(folder);
  const start = processStartTicks();
  const owner: ChunkFolderOwner = {
    job_id: jobId, output: basename(output), hostname: hostname(), pid: process.pid, ...(start ? { pid_start: start } : {}),
    host_id: processHostId(), inline, phase: 'plan', created_at: new Date().toISOString(),
  };
  const removed: string[] = [];
  const kept: OpenedChunkFolder['kept'] = [];
  try {
    await writeOwner(folder, owner);
    const names = await readdir(dir);
    // (Folders of this process's runs that something else removed: the cleanup job of a failed one, say.)
    for (const mine of ours) if (dirname(mine) === dir && !names.includes(basename(mine))) ours.delete(mine);
    for (const name of names) {
      const other = join(dir, name);
      if (other === folder || !isChunkFolderBeside(other, output) || !(await lstat(other).catch(() => undefined))?.isDirectory()) continue;
      const mine = isChunkFolderOf(other, output, jobId);
      const held = await readOwner(other);
      if (!held) {
        if (mine) kept.push({ folder: other, job: jobId, why: 'it has no readable owner.json' });
        continue;
      }
      if (held.output === owner.output && liveInline(other, held) && before(held, other, owner, folder)) {
        const who = held.pid === process.pid ? 'this process' : `pid ${held.pid} on this host`;
        throw new RunError(`${field}: another run of job ${held.job_id} (${who}, since ${held.created_at}) is encoding ${output} in chunks, in ${other}`, {
          code: ErrorCodes.OUTPUT_CLAIMED,
          details: { field, path: output, folder: other },
        });
      }
      // Besides this job's own: a run of another job writing this output (a local run's job id is new each time, so a
      // killed one's folder is found by the output its record names, and only when its name is that job's).
      if (!mine && (held.output !== owner.output || !isChunkFolderNamed(other, held.job_id))) continue;
      const job = held.job_id;
      if (!leftOver(other, held)) {
        const where = held.host_id === owner.host_id ? `pid ${held.pid} on this host` : `pid ${held.pid} on ${held.hostname}, another host or boot`;
        kept.push({ folder: other, job, why: `its run may still use it (${where}, ${held.inline ? 'a local run' : `handed to a server: ${held.phase}`})` });
        continue;
      }
      const input = await holdsAny(other, inputs);
      if (input) {
        kept.push({ folder: other, job, why: `it holds ${input}, which this task reads` });
        continue;
      }
      const unsafe = await unsafeToRemove(other, dir);
      if (unsafe) {
        kept.push({ folder: other, job, why: unsafe });
        continue;
      }
      try {
        await removeTree(other);
      } catch (error) {
        kept.push({ folder: other, job, why: `it could not be removed: ${(error as Error).message}` });
        continue;
      }
      ours.delete(other);
      removed.push(other);
    }
  } catch (error) {
    await closeChunkFolder(folder, true).catch(() => undefined);
    throw error;
  }
  return { folder, owner, removed, kept };
}

/** The chunks of `folder` are about to be handed over: its record says so from now on (phase `children`). */
export async function handingOver(folder: string, owner: ChunkFolderOwner): Promise<void> {
  await writeOwner(folder, { ...owner, phase: 'children' });
}

/** This process is done with `folder`; `remove`: remove it too (errors are thrown). */
export async function closeChunkFolder(folder: string, remove: boolean): Promise<void> {
  ours.delete(folder);
  if (remove) await removeTree(folder);
}
