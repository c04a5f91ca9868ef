import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, RunError, processGone, processHostId } from '@sisyphus/core';

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

/** Is `folder` a chunk folder of job `jobId` beside `output` (its name made by {@link chunkFolder})? */
export function isChunkFolderOf(folder: string, output: string, jobId: string): boolean {
  const stem = chunkFolderStem(jobId);
  const name = basename(folder);
  return dirname(folder) === dirname(output) && name.startsWith(stem) && TOKEN.test(name.slice(stem.length));
}

/**
 * `owner.json` in a chunk folder (snake_case like the wire): the run that
 * planned the chunks. `phase` is `plan` until the chunks are handed over,
 * then `children`.
 */
export interface ChunkFolderOwner {
  job_id: string;
  hostname: string;
  pid: number;
  /** Boot id and PID namespace of the planning process (core's `processHostId`). */
  host_id: string;
  /** The children run inline in the planning process (a local run; `ctx.children.inline`). */
  inline: boolean;
  phase: 'plan' | 'children';
  created_at: string;
}

/**
 * Folders this process made and has not finished with: for its own runs a
 * pid proves nothing, this does. One set per process, shared by every copy
 * of this module loaded in it (two versions of the package, say).
 */
const ours: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('sisyphus.ffmpeg.chunkFolders')] ??= new Set<string>()) as Set<string>;

/** Is the process that planned `folder` (its record `owner`) surely gone? This process: when it is done with the folder. */
function plannerGone(folder: string, owner: ChunkFolderOwner): boolean {
  if (owner.pid === process.pid && owner.host_id === processHostId() && processHostId()) return !ours.has(folder);
  return processGone(owner.host_id, owner.pid);
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
 * a run writes the same output: a second writer.
 */
function liveInline(folder: string, owner: ChunkFolderOwner): boolean {
  return owner.inline && Boolean(processHostId()) && owner.host_id === processHostId() && !plannerGone(folder, owner);
}

async function readOwner(folder: string): Promise<ChunkFolderOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(folder, CHUNK_OWNER_FILE), 'utf8')) as ChunkFolderOwner;
    return owner && typeof owner.pid === 'number' && typeof owner.host_id === 'string' && (owner.phase === 'plan' || owner.phase === 'children') ? owner : undefined;
  } catch {
    return undefined; // none (an older version's folder, or being written): never judged
  }
}

async function writeOwner(folder: string, owner: ChunkFolderOwner): Promise<void> {
  const temp = join(folder, `${CHUNK_OWNER_FILE}.${randomBytes(4).toString('hex')}.new`);
  await writeFile(temp, JSON.stringify(owner), { flag: 'wx', mode: 0o644 });
  await rename(temp, join(folder, CHUNK_OWNER_FILE));
}

/** What {@link openChunkFolder} made, and the leftovers it removed. */
export interface OpenedChunkFolder {
  folder: string;
  owner: ChunkFolderOwner;
  removed: string[];
}

/** Did `a` (in `folderA`) begin before `b` (in `folderB`)? By the time written, then by name (one clock: the same host). */
function before(a: ChunkFolderOwner, folderA: string, b: ChunkFolderOwner, folderB: string): boolean {
  return a.created_at < b.created_at || (a.created_at === b.created_at && basename(folderA) < basename(folderB));
}

/**
 * Make a new chunk folder for a plan of job `jobId` beside `output`, with
 * its `owner.json` (phase `plan`); then judge the job's other chunk folders
 * there by their records. An inline run of the job that is alive and began
 * first is a second writer of the output: RunError `SIS_OUTPUT_CLAIMED`
 * (the new folder is removed again). Both runs write their record before
 * they look, so of two that start at once the later one normally sees the
 * earlier and stops; should both go on, each in its own folder, the output
 * claim of their joins decides, and neither touches the other's chunks.
 * A {@link leftOver} folder is removed; any other is left alone. `field`
 * names the output in messages.
 */
export async function openChunkFolder(output: string, jobId: string, inline: boolean, field = 'output_file'): Promise<OpenedChunkFolder> {
  const dir = dirname(output);
  const folder = join(dir, `${chunkFolderStem(jobId)}${randomBytes(6).toString('hex')}`);
  await mkdir(folder);
  ours.add(folder);
  const owner: ChunkFolderOwner = { job_id: jobId, hostname: hostname(), pid: process.pid, host_id: processHostId(), inline, phase: 'plan', created_at: new Date().toISOString() };
  const removed: string[] = [];
  try {
    await writeOwner(folder, owner);
    const names = await readdir(dir);
    // (Folders of this process's runs that something else removed: the cleanup job of a failed one, say.)
    for (const mine of ours) if (dirname(mine) === dir && !names.includes(basename(mine))) ours.delete(mine);
    for (const name of names) {
      const other = join(dir, name);
      if (other === folder || !isChunkFolderOf(other, output, jobId) || !(await lstat(other).catch(() => undefined))?.isDirectory()) continue;
      const held = await readOwner(other);
      if (!held) continue;
      if (liveInline(other, held) && before(held, other, owner, folder)) {
        const who = held.pid === process.pid ? 'this process' : `pid ${held.pid} on this host`;
        throw new RunError(`${field}: another run of job ${held.job_id} (${who}, since ${held.created_at}) is encoding ${output} in chunks, in ${other}`, {
          code: ErrorCodes.OUTPUT_CLAIMED,
          details: { field, path: output, folder: other },
        });
      }
      if (leftOver(other, held)) {
        await rm(other, { recursive: true, force: true });
        ours.delete(other);
        removed.push(other);
      }
    }
  } catch (error) {
    await closeChunkFolder(folder, true).catch(() => undefined);
    throw error;
  }
  return { folder, owner, removed };
}

/** The chunks of `folder` are about to be handed over: its record says so from now on (phase `children`). */
export async function handingOver(folder: string, owner: ChunkFolderOwner): Promise<void> {
  await writeOwner(folder, { ...owner, phase: 'children' });
}

/** This process is done with `folder`; `remove`: remove it too (errors are thrown). */
export async function closeChunkFolder(folder: string, remove: boolean): Promise<void> {
  ours.delete(folder);
  if (remove) await rm(folder, { recursive: true, force: true });
}
