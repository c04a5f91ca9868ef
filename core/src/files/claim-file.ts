import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NO_HARD_LINK, describeErrno } from './fs-error.js';

/**
 * Who is writing an output: one attempt of one job. A job that the server
 * hands out again (its lease expired) runs as a new attempt with the same
 * `jobId`.
 */
export interface AttemptOwner {
  /** The job's id (the server's, or the job document's `job_id`, or one made up for a local run). */
  jobId: string;
  /** Unique per `Engine.run`: two runs of one job never share it. */
  attempt: string;
  /** The worker (slot) id, when a worker runs the job. */
  workerId?: string;
  hostname: string;
  pid: number;
  /** When this attempt's run began (ms since the epoch): of two attempts of one job, the later one is the server's current lease. */
  startedAt?: number;
}

let hostId: string | undefined;
/**
 * This kernel's boot and PID namespace: a pid means the same process only
 * where both match. Two containers may share a host name, and a pid of one
 * says nothing about the other.
 */
export function processHostId(): string {
  if (hostId !== undefined) return hostId;
  try {
    hostId = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    hostId = '';
  }
  return hostId;
}

/** What a claim file holds (JSON, snake_case like the rest of the wire). */
export interface ClaimRecord {
  target: string;
  job_id: string;
  attempt: string;
  worker_id?: string;
  hostname: string;
  pid: number;
  /** Boot id and PID namespace of the holder (see {@link processHostId}); its pid is only meaningful where they match. */
  host_id?: string;
  /** Name of the attempt's private folder beside the target. */
  folder: string;
  claimed_at: string;
  /** When the holder's attempt began its run (see `AttemptOwner.startedAt`). */
  started_at?: string;
  /** The attempt folder of the claim this one took over, if any. */
  supersedes?: string;
}

/** A claim file is refreshed (its mtime touched) this often while its attempt runs. */
export const CLAIM_REFRESH_MS = 10_000;
/** A claim not refreshed for this long belongs to an attempt that is gone (or frozen) and may be taken over. */
export const CLAIM_STALE_MS = 90_000;

/**
 * `DIR/.sisyphus-claim-<16 hex>`: short whatever the target's name (a
 * 250-byte name still fits). The name is case-folded and Unicode-normalised
 * first: on a case-insensitive share (SMB, exFAT) or one that normalises
 * names, `Film.mkv` and `film.mkv` are one file and must be one claim. (On
 * a case-sensitive disk two such files written at once conflict: a false
 * alarm that loses nothing.)
 */
export function claimPathFor(target: string): string {
  const hash = createHash('sha256').update(basename(target).normalize('NFC').toLowerCase()).digest('hex').slice(0, 16);
  return join(dirname(target), `.sisyphus-claim-${hash}`);
}

/** What is found at a claim path: the record (undefined when unreadable) and the file's age. */
export interface HeldClaim {
  record?: ClaimRecord;
  mtimeMs: number;
  /** Why the file could not be read (`permission denied (EACCES)`), when it could not: not a verdict on who holds it. */
  error?: string;
}

/** Read a claim file; undefined when there is none. */
export async function readClaim(path: string): Promise<HeldClaim | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let failed: unknown;
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    failed = error;
    return '';
  });
  if ((failed as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined; // released meanwhile
  if (failed) return { mtimeMs: st.mtimeMs, error: describeErrno(failed) };
  let record: ClaimRecord | undefined;
  try {
    const parsed = JSON.parse(text) as ClaimRecord;
    if (parsed && typeof parsed.attempt === 'string' && typeof parsed.job_id === 'string') record = parsed;
  } catch {
    // being written right now, or damaged: judged by its age
  }
  return { ...(record ? { record } : {}), mtimeMs: st.mtimeMs };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` (default: this one) started, in clock ticks after boot
 * (`/proc/PID/stat` field 22), as a string; undefined where there is no
 * such process or no `/proc`. With the pid and {@link processHostId} it
 * names one process: a pid the kernel gave again later has another start.
 */
export function processStartTicks(pid: number = process.pid): string | undefined {
  const start = procStat(pid)?.[19];
  return start && /^\d+$/.test(start) ? start : undefined;
}

/** The fields of `/proc/PID/stat` after COMM (STATE first), or undefined (no such process, not Linux). */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses; fields count from after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * Is the process `pid` of host `hostId` (a {@link processHostId} value)
 * surely gone? Only where that is this kernel boot and PID namespace: when
 * no process has the pid or it is a zombie (dead, not yet reaped), or (given `startTicks`, its
 * {@link processStartTicks} then) the one that has it now started at
 * another time (the pid was given again). A pid elsewhere (another
 * machine, container or boot) proves nothing, and neither does this
 * process's own pid or a pid that is not a positive integer: false then.
 */
export function processGone(hostId: string | undefined, pid: number, startTicks?: string): boolean {
  const here = processHostId();
  if (!here || hostId !== here || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  if (!processAlive(pid)) return true;
  // A zombie (killed, not yet reaped by its parent) still answers signal 0: it runs nothing any more.
  if (procStat(pid)?.[0] === 'Z') return true;
  if (startTicks === undefined) return false;
  const now = processStartTicks(pid);
  return now !== undefined && now !== startTicks;
}

/**
 * Why the claim `held` may be taken over by `owner`, or undefined when it
 * may not (another job's live attempt holds it):
 * - an earlier attempt of the same job holds it (one that began its run
 *   before this one): the server gave the job to this attempt, so the
 *   earlier one lost its lease (dead, or frozen and about to find out);
 * - its process, on this host, is gone;
 * - it has not been refreshed for {@link CLAIM_STALE_MS}.
 */
export function takeoverReason(held: HeldClaim, owner: AttemptOwner, now = Date.now()): Takeover | undefined {
  const r = held.record;
  // Proof the holder is gone first: its folder can then be removed at once. A pid is only
  // evidence in the same kernel boot and PID namespace (containers may share a host name).
  if (r && processGone(r.host_id, r.pid)) {
    return { reason: `its holder (pid ${r.pid} on this host) is gone`, abandoned: true };
  }
  const age = now - held.mtimeMs;
  if (age > CLAIM_STALE_MS) return { reason: `it was not refreshed for ${Math.round(age / 1000)} s`, abandoned: true };
  // The server gave the job to this attempt, so the earlier one lost its lease. Only a server's
  // lease says so: two local runs of one job file (its job_id is the file's own) are two writers.
  // And only an earlier one: a zombie that wakes up and claims late must not take the claim of
  // the attempt that replaced it (attempts start a lease apart, far more than clocks differ).
  if (r && r.job_id === owner.jobId && r.worker_id && owner.workerId) {
    const heldSince = r.started_at === undefined ? NaN : Date.parse(r.started_at);
    if (owner.startedAt !== undefined && heldSince > owner.startedAt) return undefined;
    return { reason: `an earlier attempt of this job (${r.attempt}, worker ${r.worker_id}) held it`, abandoned: false };
  }
  return undefined;
}

/** Why a claim may be taken over, and whether its holder is surely gone (its folder abandoned). */
export interface Takeover {
  reason: string;
  /** The holder is dead or silent past {@link CLAIM_STALE_MS}: nothing will write in its folder again. */
  abandoned: boolean;
}

/**
 * One line saying who holds a claim: `job J (attempt A, worker W on host H,
 * pid P, since T, last refreshed N s ago)`, with the holder's own spelling
 * of the file when it differs from `target`.
 */
export function describeHolder(record: ClaimRecord | undefined, mtimeMs?: number, target?: string, gone = false): string {
  if (gone) return 'nobody: the claim file is gone (another attempt took it over and has finished since, or it was removed)';
  if (!record) return 'an unknown writer (the claim file is unreadable)';
  const worker = record.worker_id ? `worker ${record.worker_id} ` : '';
  const age = mtimeMs === undefined ? '' : `, last refreshed ${Math.max(0, Math.round((Date.now() - mtimeMs) / 1000))} s ago; taken over after ${CLAIM_STALE_MS / 1000} s without a refresh`;
  const as = target !== undefined && record.target && record.target !== target ? ` as ${record.target}` : '';
  return `job ${record.job_id}${as} (attempt ${record.attempt}, ${worker}on host ${record.hostname}, pid ${record.pid}, since ${record.claimed_at}${age})`;
}

/** The claim is held by someone else. */
export class ClaimConflict extends Error {
  constructor(
    readonly holder: ClaimRecord | undefined,
    readonly mtimeMs?: number,
  ) {
    super(`held by ${describeHolder(holder, mtimeMs)}`);
    this.name = 'ClaimConflict';
  }
}

/**
 * Create `path` holding `text`, failing with EEXIST when it exists, so that
 * no reader ever sees it empty or half written: the text goes to a
 * temporary file that is then hard-linked under the name (a link is
 * exclusive and atomic). Where the file system has no hard links (some SMB
 * and FAT mounts), an exclusive create and write; a reader that catches it
 * being written judges it by its age (see {@link acquireClaim}).
 */
async function createExclusive(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.new`;
  await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, path);
  } catch (error) {
    if (!NO_HARD_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await writeFile(path, text, { flag: 'wx', mode: 0o644 });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Take the claim at `path` for `record`'s attempt: create it exclusively,
 * or take it over when {@link takeoverReason} allows. Resolves with the
 * record taken over (if any) and why; rejects with {@link ClaimConflict}.
 */
export async function acquireClaim(
  path: string,
  record: ClaimRecord,
  owner: AttemptOwner,
): Promise<{ superseded?: ClaimRecord; takeover?: Takeover }> {
  for (let round = 0; round < 20; round++) {
    try {
      await createExclusive(path, JSON.stringify(record));
      return {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await readClaim(path);
    if (!held) continue; // released meanwhile
    if (held.record?.attempt === record.attempt) return {};
    if (!held.record && Date.now() - held.mtimeMs < 2_000) {
      // Another claimant is writing it this instant: look again shortly.
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const takeover = takeoverReason(held, owner);
    if (!takeover) throw new ClaimConflict(held.record, held.mtimeMs);
    const mine: ClaimRecord = { ...record, ...(held.record ? { supersedes: held.record.folder } : {}) };
    const temp = `${path}.${randomBytes(4).toString('hex')}`;
    await writeFile(temp, JSON.stringify(mine), { mode: 0o644 });
    await rename(temp, path);
    const now = await readClaim(path);
    if (now?.record?.attempt === record.attempt) return { ...(held.record ? { superseded: held.record } : {}), takeover };
  }
  const last = await readClaim(path);
  throw new ClaimConflict(last?.record, last?.mtimeMs);
}

/** How long {@link claimHolder} keeps looking at a claim that is missing or unreadable. */
const SETTLE_MS = 500;

/**
 * Who holds the claim at `path` now, read for a verdict ("is it still
 * mine?"): a claim file that is missing or unreadable is looked at again
 * for up to half a second before that counts (a claim being moved aside
 * and back, or written where there are no hard links). Resolves undefined
 * only when the file stayed gone; `record` undefined when it is unreadable,
 * with `error` when reading failed.
 */
export async function claimHolder(path: string): Promise<HeldClaim | undefined> {
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    const held = await readClaim(path).catch((error: unknown): HeldClaim => ({ mtimeMs: Date.now(), error: describeErrno(error) }));
    if (held?.record || Date.now() >= until) return held;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Touch the claim's mtime if it is still `attempt`'s; false when it is not (lost). A claim that cannot be read now (an I/O error) is not a loss: true, untouched. */
export async function refreshClaim(path: string, attempt: string): Promise<boolean> {
  const held = await claimHolder(path);
  if (held?.error) return true;
  if (held?.record?.attempt !== attempt) return false;
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
  return true;
}

/**
 * Give the claim up if it is still `attempt`'s. The file is first renamed
 * aside and read there, so a claim another attempt took over in between is
 * never deleted (it is linked back when it turns out not to be ours).
 */
export async function releaseClaim(path: string, attempt: string): Promise<void> {
  // Not ours (taken over): leave it where it is; moving it aside even for an instant
  // would make its holder's own checks find no claim.
  if ((await readClaim(path).catch(() => undefined))?.record?.attempt !== attempt) return;
  const aside = `${path}.${randomBytes(4).toString('hex')}.release`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already
  }
  const held = await readClaim(aside).catch(() => undefined);
  if (held?.record?.attempt !== attempt) {
    await link(aside, path).catch(() => undefined); // EEXIST: someone claimed meanwhile; theirs stays
  }
  await unlink(aside).catch(() => undefined);
}
