import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RunError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import {
  CLAIM_REFRESH_MS,
  CLAIM_STALE_MS,
  ClaimConflict,
  acquireClaim,
  claimHolder,
  claimPathFor,
  describeHolder,
  processHostId,
  refreshClaim,
  releaseClaim,
  type AttemptOwner,
  type ClaimRecord,
} from './claim-file.js';
import { NO_HARD_LINK, describeErrno, explainMkdirFailure } from './fs-error.js';
import { findSameFile } from './file-identity.js';
import { removeTree } from './remove-tree.js';

/**
 * What an output is made of:
 * - `file`: one regular file (an encode, a mux, a copy);
 * - `folder`: one folder (cleanup copying a folder);
 * - `sequence`: numbered files from a pattern (`thumb_%03d.png`);
 * - `segments`: a set of files in the target's folder (HLS playlist and
 *   segments, mkvmerge `--split` parts): every file the producer writes.
 */
export type OutputKind = 'file' | 'folder' | 'sequence' | 'segments';

/** Options of {@link OutputFiles.claim}. */
export interface ClaimOptions {
  /** The data field that names the target, for messages (`output_file`, `move[0].destination`). */
  field: string;
  /**
   * Replace an existing target. Default false: a target that exists already
   * is refused by `claim` (before the tool runs; nothing is created); one
   * that appears while the task runs (someone else wrote it) is never
   * replaced: the promotion fails the task and the attempt's result is kept,
   * the message says where.
   */
  overwrite?: boolean;
  /** Default `file`. */
  kind?: OutputKind;
  /** A `file` output of 0 bytes is normally refused; a copy of an empty file is not. */
  allowEmpty?: boolean;
  /** Create missing parent folders of the target (cleanup does; encoders do not). */
  createParents?: boolean;
}

/** Files a promotion must never replace (the task's own inputs), as the engine knows them. */
export type ProtectedFiles = () => readonly string[];

/** Called before promotion with the absolute paths of what the attempt wrote; throw to refuse it. */
export type VerifyOutput = (files: string[]) => unknown;

/** Where an {@link OutputClaim} stands. */
export type ClaimState = 'open' | 'promoted' | 'discarded' | 'kept';

async function fsyncPath(path: string, dir = false): Promise<void> {
  const handle = await open(path, dir ? 'r' : 'r+').catch(() => (dir ? undefined : open(path, 'r').catch(() => undefined)));
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined); // some file systems (and /proc-like ones) refuse; the rename still is atomic
  } finally {
    await handle.close();
  }
}

function outputError(message: string, code: typeof ErrorCodes.OUTPUT_CLAIMED | typeof ErrorCodes.OUTPUT_UNVERIFIED | typeof ErrorCodes.RUN, field: string, extra: Record<string, unknown> = {}, cause?: unknown) {
  return new RunError(message, { code, details: { field, ...extra }, ...(cause === undefined ? {} : { cause }) });
}

/**
 * One attempt's claim on one output. The attempt writes under {@link path}
 * (inside a private folder beside the target, named for this attempt, so
 * the final rename is atomic and any name the file system accepts works);
 * {@link promote} checks the claim is still this attempt's, verifies what was
 * written and moves it into place; {@link discard} removes only what this
 * attempt created. Get one from `OutputFiles.claim` (`TOKENS.OutputFiles`).
 */
export class OutputClaim {
  /** Final absolute path (for `sequence`, the pattern). */
  readonly target: string;
  readonly field: string;
  readonly kind: OutputKind;
  /** Where the producer writes: `DIR/.sisyphus-tmp-XXXX/NAME`, or the target itself when {@link direct}. */
  readonly path: string;
  /** The attempt's private folder (undefined when {@link direct}). */
  readonly folder?: string;
  /** A null output or special file (FIFO, device): written in place, never replaced, nothing to promote. */
  readonly direct: boolean;
  /** The claim this one took over, and why (for the log); `abandoned` when its holder is surely gone. */
  readonly superseded?: { record: ClaimRecord; reason: string; abandoned: boolean };
  #state: ClaimState = 'open';
  readonly #claimPath?: string;
  readonly #attempt: string;
  readonly #options: ClaimOptions;
  #protect: ProtectedFiles = () => [];
  #timer?: NodeJS.Timeout;

  /** @internal Use `OutputFiles.claim`. */
  constructor(init: {
    target: string;
    options: ClaimOptions;
    attempt: string;
    folder?: string;
    claimPath?: string;
    superseded?: { record: ClaimRecord; reason: string; abandoned: boolean };
    protect?: ProtectedFiles;
  }) {
    this.target = init.target;
    this.field = init.options.field;
    this.kind = init.options.kind ?? 'file';
    this.#options = init.options;
    this.#attempt = init.attempt;
    this.direct = init.folder === undefined;
    this.path = init.folder ? join(init.folder, basename(init.target)) : init.target;
    if (init.folder) this.folder = init.folder;
    if (init.claimPath) this.#claimPath = init.claimPath;
    if (init.superseded) this.superseded = init.superseded;
    if (init.protect) this.#protect = init.protect;
    if (this.#claimPath) {
      const claimPath = this.#claimPath;
      this.#timer = setInterval(() => void refreshClaim(claimPath, this.#attempt).then((held) => held || this.#stopRefresh()), CLAIM_REFRESH_MS);
      this.#timer.unref();
    }
  }

  get state(): ClaimState {
    return this.#state;
  }

  #stopRefresh(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Throws `SIS_OUTPUT_CLAIMED` when another attempt has taken the claim over. */
  async assertHeld(): Promise<void> {
    if (!this.#claimPath) return;
    const held = await claimHolder(this.#claimPath);
    if (held?.error) {
      throw outputError(`${this.field}: this attempt cannot read its claim on ${this.target} (${held.error}); nothing was promoted`, ErrorCodes.OUTPUT_CLAIMED, this.field, { path: this.target });
    }
    const holder = held?.record;
    if (holder?.attempt !== this.#attempt) {
      throw outputError(
        `${this.field}: this attempt lost its claim on ${this.target} to ${describeHolder(holder, undefined, undefined, !held)}; nothing was promoted`,
        ErrorCodes.OUTPUT_CLAIMED, this.field, { path: this.target, ...(holder ? { holder } : {}) },
      );
    }
  }

  /** What the attempt wrote: the one entry, or every file of a sequence or segment set (sorted). */
  async written(): Promise<string[]> {
    if (this.direct || !this.folder) return [this.path];
    if (this.kind === 'file' || this.kind === 'folder') return [this.path];
    const names = (await readdir(this.folder)).sort();
    return names.map((n) => join(this.folder!, n));
  }

  async #checkWritten(files: string[]): Promise<Stats[]> {
    const stats: Stats[] = [];
    if (!files.length) {
      throw outputError(`${this.field}: nothing was written for ${this.target}; nothing was promoted`, ErrorCodes.OUTPUT_UNVERIFIED, this.field, { path: this.target });
    }
    for (const file of files) {
      const st = await lstat(file).catch(() => undefined);
      const want = this.kind === 'folder' ? 'a folder' : 'a file';
      if (!st || (this.kind === 'folder' ? !st.isDirectory() : !st.isFile())) {
        throw outputError(`${this.field}: ${basename(file)} was not written as ${want}; nothing was promoted`, ErrorCodes.OUTPUT_UNVERIFIED, this.field, { path: this.target });
      }
      if (st.isFile() && st.size === 0 && !this.#options.allowEmpty) {
        throw outputError(`${this.field}: ${basename(file)} is empty (0 bytes); nothing was promoted`, ErrorCodes.OUTPUT_UNVERIFIED, this.field, { path: this.target });
      }
      stats.push(st);
    }
    return stats;
  }

  /**
   * Verify and move into place. Checks that the claim is still this
   * attempt's, that something was written (regular, non-empty files unless
   * `allowEmpty`), runs `verify`, flushes to disk and renames into the
   * target's folder (the playlist-named file of a segment set last, so a
   * reader never sees it before its segments). Without `overwrite`, a file
   * in the way (someone else wrote it while the task ran: `claim` refused
   * one that existed before) fails the task and the attempt's result is kept
   * in its folder, on purpose, the message naming it (state `kept`). Any
   * other refusal leaves the claim open, so the engine discards it. Resolves
   * with the final paths.
   */
  async promote(verify?: VerifyOutput): Promise<string[]> {
    if (this.#state !== 'open') throw new Error(`OutputClaim.promote: claim on ${this.target} is ${this.#state}`);
    if (this.direct) {
      this.#state = 'promoted';
      return [this.target];
    }
    await this.assertHeld();
    const files = await this.written();
    const stats = await this.#checkWritten(files);
    await verify?.(files);
    const dir = dirname(this.target);
    const moves = files.map((from) => ({ from, to: join(dir, basename(from)) }));
    // The entry named like the target (a playlist, the file itself) goes last.
    moves.sort((a, b) => Number(basename(a.to) === basename(this.target)) - Number(basename(b.to) === basename(this.target)));
    for (const [i, m] of moves.entries()) if (stats[i]?.isFile()) await fsyncPath(m.from);
    await this.#refuseInputs(moves.map((m) => m.to));

    if (!this.#options.overwrite) {
      const present = [];
      for (const m of moves) if (await lstat(m.to).then(() => true, () => false)) present.push(m.to);
      if (present.length) return this.#keep(this.#inTheWay(present));
    }
    await this.assertHeld();
    const done: Array<{ from: string; to: string }> = [];
    try {
      for (const m of moves) {
        await this.#place(m.from, m.to);
        done.push(m);
      }
    } catch (error) {
      // Put back what was moved, so the set lands together or not at all.
      for (const m of done.reverse()) await rename(m.to, m.from).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return this.#keep(this.#inTheWay([(error as { path?: string }).path ?? this.target]));
      throw outputError(`${this.field}: cannot move the result into place at ${this.target}: ${describeErrno(error)}`, ErrorCodes.RUN, this.field, { path: this.target }, error);
    }
    await fsyncPath(dir, true);
    this.#state = 'promoted';
    await this.#finish();
    return moves.map((m) => m.to);
  }

  /**
   * Move an existing file or folder (a same-file-system move) into place
   * under this claim, with one atomic rename: the source is never put in the
   * attempt's folder, so a failure cannot lose it. Rejects with the rename's
   * error (EXDEV: another file system; copy into {@link path} and
   * {@link promote} instead).
   */
  async adopt(source: string): Promise<string> {
    if (this.#state !== 'open') throw new Error(`OutputClaim.adopt: claim on ${this.target} is ${this.#state}`);
    await this.assertHeld();
    await this.#refuseInputs([this.target]);
    try {
      await this.#place(source, this.target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw outputError(`${this.field}: ${this.#inTheWay([this.target])}; ${source} was not moved`, ErrorCodes.RUN, this.field, { path: this.target }, error);
    }
    await fsyncPath(dirname(this.target), true);
    this.#state = 'promoted';
    await this.#finish();
    return this.target;
  }

  /**
   * A name the producer chose (a numbered image, a segment, a split part)
   * may be one of the task's own inputs: a source is never replaced.
   */
  async #refuseInputs(targets: readonly string[]): Promise<void> {
    const inputs = this.#protect();
    if (!inputs.length) return;
    for (const to of targets) {
      const hit = await findSameFile(to, inputs.map((path) => ({ path })));
      if (hit) {
        throw outputError(`${this.field}: the result would replace ${to}, which is ${hit.path === to ? 'one' : `the same file as ${hit.path}, one`} of this task's inputs; nothing was promoted`, ErrorCodes.RUN, this.field, { path: to });
      }
    }
  }

  /**
   * Why files in the way of a promotion without overwrite are there, truthfully:
   * the target did not exist when it was claimed (`claim` refuses that), so it
   * appeared while the task ran; other files of a set were not looked at then.
   */
  #inTheWay(present: readonly string[]): string {
    const appeared = this.kind === 'sequence' ? [] : present.filter((p) => p === this.target);
    const other = present.filter((p) => !appeared.includes(p));
    const parts: string[] = [];
    if (appeared.length) parts.push(`${this.target} appeared while the task ran (it did not exist when this attempt claimed it; someone else wrote it since)`);
    if (other.length) parts.push(`${other.length === 1 ? `${other[0]} exists` : `${other.length} files exist (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', ...' : ''})`}`);
    return `${parts.join(' and ')}, and overwrite is false`;
  }

  /** Rename into place; without overwrite through link() so an existing file is never replaced. */
  async #place(from: string, to: string): Promise<void> {
    if (this.#options.overwrite) {
      await rename(from, to);
      return;
    }
    if (this.kind !== 'folder') {
      try {
        await link(from, to);
        await unlink(from);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') throw Object.assign(error as Error, { path: to });
        if (!NO_HARD_LINK.has(code)) throw error;
        // No hard links here (some network shares): check, then rename.
      }
    }
    if (await lstat(to).then(() => true, () => false)) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST', path: to });
    await rename(from, to);
  }

  async #keep(why: string): Promise<never> {
    this.#state = 'kept';
    this.#stopRefresh();
    if (this.#claimPath) await releaseClaim(this.#claimPath, this.#attempt);
    throw outputError(`${this.field}: ${why}; the result is kept as ${this.path}`, ErrorCodes.RUN, this.field, { path: this.target, kept: this.path });
  }

  /** Remove what this attempt wrote (only its own folder) and give up the claim. Safe to call twice. */
  async discard(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'discarded';
    if (this.folder) await removeTree(this.folder).catch(() => undefined);
    await this.#finish();
  }

  async #finish(): Promise<void> {
    this.#stopRefresh();
    if (this.folder && this.#state === 'promoted') await removeTree(this.folder).catch(() => undefined);
    if (this.#claimPath) await releaseClaim(this.#claimPath, this.#attempt);
    await this.removeSuperseded();
  }

  /**
   * The folder of an attempt this claim took over: removed when its holder
   * is surely gone (dead on this host, or silent past {@link CLAIM_STALE_MS}),
   * or once nothing in it has changed for that long; a frozen holder that
   * wakes up later removes its own folder itself.
   */
  async removeSuperseded(): Promise<void> {
    const folder = this.superseded?.record.folder;
    if (!folder || folder.includes('/') || !/^\.sisyphus-tmp-[0-9a-f]{12}$/.test(folder)) return;
    const path = join(dirname(this.target), folder);
    if (this.superseded!.abandoned) {
      await removeTree(path).catch(() => undefined);
      return;
    }
    let newest = 0;
    try {
      newest = (await stat(path)).mtimeMs;
      for (const name of await readdir(path)) newest = Math.max(newest, (await stat(join(path, name))).mtimeMs);
    } catch {
      return;
    }
    if (Date.now() - newest > CLAIM_STALE_MS) await removeTree(path).catch(() => undefined);
  }
}

/** A short, unique folder name for one attempt's output beside its target. */
export function attemptFolderName(): string {
  return `.sisyphus-tmp-${randomBytes(6).toString('hex')}`;
}

/**
 * Is `path` a null output or a special file (FIFO, character or block
 * device, socket)? Those are written in place: there is nothing to rename,
 * and replacing them with a regular file would break them.
 */
export async function isSpecialTarget(path: string): Promise<boolean> {
  if (path === '/dev/null') return true;
  const st = await stat(path).catch(() => undefined);
  return !!st && !st.isFile() && !st.isDirectory();
}

/** Claim `target` for `owner`: see `OutputFiles.claim`. */
export async function claimOutput(target: string, options: ClaimOptions, owner: AttemptOwner, protect?: ProtectedFiles): Promise<OutputClaim> {
  if (await isSpecialTarget(target)) return new OutputClaim({ target, options, attempt: owner.attempt });
  // Without overwrite, a target that exists now is refused before the tool runs, with nothing
  // created; one that appears later is someone else's, found (and never replaced) at promotion.
  // A sequence's target is a pattern, not a file: the module checks its numbered files itself.
  if (!options.overwrite && (options.kind ?? 'file') !== 'sequence' && (await lstat(target).then(() => true, () => false))) {
    throw outputError(`${options.field}: ${target} exists and overwrite is false; nothing was written`, ErrorCodes.RUN, options.field, { path: target });
  }
  const dir = dirname(target);
  if (options.createParents) {
    await mkdir(dir, { recursive: true }).catch(async (error: unknown) => {
      throw outputError(`${options.field}: cannot create the folder ${dir}: ${await explainMkdirFailure(dir, error)}`, ErrorCodes.RUN, options.field, { path: target }, error);
    });
  }
  const folderName = attemptFolderName();
  const claimPath = claimPathFor(target);
  const record: ClaimRecord = {
    target,
    job_id: owner.jobId,
    attempt: owner.attempt,
    ...(owner.workerId ? { worker_id: owner.workerId } : {}),
    hostname: owner.hostname,
    pid: owner.pid,
    host_id: processHostId(),
    folder: folderName,
    claimed_at: new Date().toISOString(),
    ...(owner.startedAt !== undefined ? { started_at: new Date(owner.startedAt).toISOString() } : {}),
  };
  let taken: Awaited<ReturnType<typeof acquireClaim>>;
  try {
    taken = await acquireClaim(claimPath, record, owner);
  } catch (error) {
    if (error instanceof ClaimConflict) {
      throw outputError(`${options.field}: ${target} is being written by ${describeHolder(error.holder, error.mtimeMs, target)}`, ErrorCodes.OUTPUT_CLAIMED, options.field, {
        path: target, ...(error.holder ? { holder: error.holder } : {}),
      });
    }
    throw outputError(`${options.field}: cannot claim ${target}: ${describeErrno(error)}`, ErrorCodes.RUN, options.field, { path: target }, error);
  }
  const folder = join(dir, folderName);
  try {
    await mkdir(folder, { mode: 0o700 });
  } catch (error) {
    await releaseClaim(claimPath, owner.attempt);
    throw outputError(`${options.field}: cannot create a folder for the output in ${dir}: ${describeErrno(error)}`, ErrorCodes.RUN, options.field, { path: target }, error);
  }
  const claim = new OutputClaim({
    target, options, attempt: owner.attempt, folder, claimPath, ...(protect ? { protect } : {}),
    ...(taken.superseded && taken.takeover ? { superseded: { record: taken.superseded, ...taken.takeover } } : {}),
  });
  // A crashed attempt's partial output (often gigabytes) goes as soon as its holder is known to be gone.
  if (claim.superseded?.abandoned) await claim.removeSuperseded();
  return claim;
}
