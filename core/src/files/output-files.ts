import { lstat, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ValidationError } from '../module/errors.js';
import type { AttemptOwner } from './claim-file.js';
import { describeErrno, nearestExistingFolder } from './fs-error.js';
import { removeTree } from './remove-tree.js';
import { OutputClaim, claimOutput, isSpecialTarget, type ClaimOptions, type ProtectedFiles } from './output-claim.js';

/** Options of {@link OutputFiles.check}. */
export interface CheckTargetOptions {
  /** The task creates missing parent folders at run time (cleanup): check the nearest folder that exists instead. */
  createParents?: boolean;
  /**
   * The `overwrite` the run will claim with. `false`: a target that exists
   * already is refused now (a ValidationError naming `field`), before any
   * task of the job runs. Left out: existence is not checked here (a module
   * that always replaces its output); `claim` refuses an existing target
   * without `overwrite` in any case, before the tool runs.
   */
  overwrite?: boolean;
}

/**
 * Writes files the way every module must: each output under a claim of this
 * attempt, in a private folder beside the target, verified and then renamed
 * into place. Injected as `TOKENS.OutputFiles` (`ctx.outputFiles`). Claims
 * a task did not promote are discarded by the engine after the task's
 * cleanup, so a failed, cancelled or timed-out task never leaves a file
 * under a final name, and never touches another attempt's files.
 */
export interface OutputFiles {
  /**
   * For `validate`: can `target` be written? Its folder must exist (or,
   * with `createParents`, the nearest existing one is used), be a folder,
   * and accept a new file of exactly `target`'s name: a probe folder is made
   * there and removed, so a read-only share, missing permission, a name too
   * long or with characters the file system refuses are found before any
   * task runs. With `overwrite: false` (pass the value `claim` will get),
   * a target that exists already is refused too. Throws a ValidationError
   * naming `field` and the cause.
   */
  check(target: string, field: string, options?: CheckTargetOptions): Promise<void>;
  /**
   * For `run`: claim `target` for this attempt. Another job's live attempt
   * holding it is a RunError `SIS_OUTPUT_CLAIMED` naming the file and the
   * job; an earlier attempt of the same job, a holder whose process is gone
   * or a claim not refreshed for 90 s is taken over. Without `overwrite`, a
   * target that exists already is a RunError (`SIS_RUN`, "exists and
   * overwrite is false") here, before the tool runs, and nothing is created.
   * A null output or special file comes back `direct` (written in place,
   * nothing to promote).
   */
  claim(target: string, options: ClaimOptions): Promise<OutputClaim>;
}

/** The engine's side of a task's {@link OutputFiles}: discard what was not promoted. */
export interface TaskOutputFiles extends OutputFiles {
  /** Discard every claim still open; run after the task's cleanup. */
  settle(): Promise<void>;
}

/**
 * The validate-time check of {@link OutputFiles.check}, on its own. `target`
 * is absolute.
 */
export async function checkOutputTarget(target: string, field: string, options: CheckTargetOptions = {}): Promise<void> {
  if (await isSpecialTarget(target)) return;
  const existing = await lstat(target).catch(() => undefined);
  if (existing && (await stat(target).catch(() => undefined))?.isDirectory()) {
    throw new ValidationError(`${field}: ${target} is a folder; name a file`, { details: { field, path: target } });
  }
  if (existing && options.overwrite === false) {
    throw new ValidationError(`${field}: ${target} exists and overwrite is false`, { details: { field, path: target } });
  }
  const dir = dirname(target);
  const st = await stat(dir).catch((error: NodeJS.ErrnoException) => error);
  let probeIn = dir;
  if (st instanceof Error) {
    if (st.code === 'ENOTDIR') throw new ValidationError(`${field}: ${dir} is not a folder`, { details: { field, path: target } });
    if (st.code !== 'ENOENT') throw new ValidationError(`${field}: cannot use the folder ${dir}: ${describeErrno(st)}`, { details: { field, path: target } });
    if (!options.createParents) throw new ValidationError(`${field}: the folder ${dir} does not exist`, { details: { field, path: target } });
    probeIn = await nearestExistingFolder(dir);
    const up = await stat(probeIn).catch(() => undefined);
    if (!up?.isDirectory()) throw new ValidationError(`${field}: ${probeIn} is not a folder, so ${dir} cannot be created`, { details: { field, path: target } });
  } else if (!st.isDirectory()) {
    throw new ValidationError(`${field}: ${dir} is not a folder`, { details: { field, path: target } });
  }
  let probe: string | undefined;
  try {
    probe = await mkdtemp(join(probeIn, '.sisyphus-probe-'));
    // The very name the run will create (in the attempt's folder): long or odd names fail here, not after the encode.
    await writeFile(join(probe, probeIn === dir ? basename(target) : 'x'), '');
  } catch (error) {
    const what = probe ? `a file named ${JSON.stringify(basename(target))}` : 'files';
    throw new ValidationError(`${field}: cannot create ${what} in ${probeIn}: ${describeErrno(error)}`, { details: { field, path: target }, cause: error });
  } finally {
    if (probe) await removeTree(probe).catch(() => undefined);
  }
}

/**
 * The {@link OutputFiles} of one task of one attempt. `protect` gives the
 * task's own inputs (known after its validate): no promotion replaces one.
 */
export function createOutputFiles(owner: AttemptOwner, protect?: ProtectedFiles): TaskOutputFiles {
  const claims: OutputClaim[] = [];
  return {
    check: checkOutputTarget,
    async claim(target, options) {
      const claim = await claimOutput(target, options, owner, protect);
      claims.push(claim);
      return claim;
    },
    async settle() {
      for (const claim of claims.splice(0)) await claim.discard();
    },
  };
}
