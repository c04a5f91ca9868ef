import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  ProcessError,
  RunError,
  TOKENS,
  ValidationError,
  fileIdentity,
  formatCommand,
  inject,
  injectable,
  isSpecialTarget,
  refuseSpecialFile,
  requireExecutable,
  sameIdentity,
  type JobOutputs,
  type Logger,
  type OutputClaim,
  type OutputFiles,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type TaskHandler,
} from '@sisyphus/core';
import { buildMkvextractArgs } from './build-args.js';
import { parseGuiLine } from '@sisyphus/module-mkvmerge';
import { identifySource, type SourceInfo } from './identify.js';
import type { MkvextractData, MkvextractSettings } from './mkvextract-schema.js';
import { checkExtractionData, resolveExtractions, type Extraction, type ResolvedExtraction } from './select.js';
import { verifyExtraction } from './verify-output.js';

const exists = (path: string) => access(path).then(() => true, () => false);

/** Where the plan shows an attempt's private folder (its name is made at run time). */
const ATTEMPT_FOLDER = '.sisyphus-tmp-XXXXXXXXXXXX';

/** An output with its checked real path. */
interface Output extends Extraction {
  path: string;
}

/**
 * The `mkvextract` task (the original Sisyphus data shape). Validate, cheap
 * checks first: the data alone (something to extract, no line break in an
 * `ID:FILE` name, no entry written twice); the source inside the allowed
 * roots; when it exists, `mkvmerge -J` finds what every entry selects (a
 * track by id, type and language, an attachment, chapters, tags; no more
 * entries in a mode than the source has items); then every output inside
 * the allowed roots, not the source or another output (by real identity),
 * a regular file or new (never a FIFO, device or socket), its folder
 * writable. Run: the same checks again (an earlier task may have just
 * written the source), claim every output (one that comes back `direct`,
 * i.e. became special, is refused before mkvextract starts), extract
 * everything in one mkvextract run into the attempt's private paths with
 * progress, check each file and only when all are good rename them into place.
 */
@injectable()
export class MkvextractTask implements TaskHandler {
  #mkvextract = '';
  #mkvmerge = '';
  #source = '';
  #outputs: Output[] = [];
  /** What each output selects, when the source was identified at validate. */
  #resolved?: ResolvedExtraction[];

  constructor(
    @inject(TOKENS.TaskData) private readonly data: MkvextractData,
    @inject(TOKENS.ModuleSettings) private readonly settings: MkvextractSettings,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.OutputFiles) private readonly files: OutputFiles,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async init(): Promise<void> {
    this.#mkvextract = await requireExecutable('mkvextract', this.settings.mkvextract, 'settings.mkvextract.mkvextract', 'install mkvtoolnix or set settings.mkvextract.mkvextract');
    this.#mkvmerge = await requireExecutable('mkvmerge', this.settings.mkvmerge, 'settings.mkvextract.mkvmerge', 'install mkvtoolnix or set settings.mkvextract.mkvmerge');
  }

  async validate(): Promise<void> {
    // Cheap first: the data alone, then the source and what it holds; only then one file check per output.
    const list = checkExtractionData(this.data, ValidationError);
    await this.#checkSource('validate');
    if (!(await exists(this.#source))) {
      if (!this.earlier.producedEarlier(this.#source) && !this.earlier.producedEarlier(this.paths.resolve(this.data.source))) {
        throw new ValidationError(`source: ${this.paths.resolve(this.data.source)} does not exist (and no earlier task of the job writes it)`, { details: { field: 'source' } });
      }
    } else {
      const info = await this.#identify(ValidationError);
      this.#resolved = resolveExtractions(this.data, list, info, ValidationError);
    }
    await this.#checkOutputs(list, 'validate');
    await this.#checkTargets();
  }

  async #checkTargets(): Promise<void> {
    for (const out of this.#outputs) await this.files.check(out.path, out.field);
  }

  async #identify(E: typeof ValidationError | typeof RunError): Promise<SourceInfo> {
    try {
      return await identifySource(this.runner, this.#mkvmerge, this.#source);
    } catch (error) {
      if (error instanceof ProcessError && (error.isCanceled || error.timedOut)) throw error;
      throw new E(`source: ${(error as Error).message}`, { cause: error, details: { field: 'source' } });
    }
  }

  /** Check the source against the allowed roots and keep its real path. */
  async #checkSource(phase: 'validate' | 'run'): Promise<void> {
    this.#source = await this.paths.check(this.data.source, 'source');
    await refuseSpecialFile(this.#source, 'source', phase);
  }

  /**
   * Check every output against the allowed roots and keep their real paths;
   * no output may be the source or another output (same real path, or same
   * device + inode: each output is looked up once in an index of both, so
   * the check is linear in the outputs), nor a FIFO, device or socket
   * (mkvextract would block on it or write into it with nothing checked).
   * Run at validate and again right before the extraction: a folder swapped
   * for a symlink, or a file for a FIFO, in between is caught.
   */
  async #checkOutputs(list: readonly Extraction[], phase: 'validate' | 'run'): Promise<void> {
    const E = phase === 'validate' ? ValidationError : RunError;
    const source = await fileIdentity(this.#source);
    const byPath = new Map<string, Output>();
    const byInode = new Map<string, Output>();
    const outputs: Output[] = [];
    for (const x of list) {
      const path = await this.paths.check(x.given, x.field);
      const id = await fileIdentity(path);
      if (sameIdentity(id, source)) {
        throw new E(`${x.field}: ${this.paths.resolve(x.given)} is the same file as source (${this.paths.resolve(this.data.source)}); the source is never written`, { details: { field: x.field } });
      }
      const inode = id.ino === undefined ? undefined : `${id.dev}:${id.ino}`;
      const twice = byPath.get(id.realPath) ?? (inode === undefined ? undefined : byInode.get(inode));
      if (twice) throw new E(`${x.field}: ${this.paths.resolve(x.given)} is the same file as ${twice.field}; each output needs its own file`, { details: { field: x.field } });
      if (await isSpecialTarget(path)) throw notRegular(x.field, path, E);
      const out = { ...x, path };
      byPath.set(id.realPath, out);
      if (inode !== undefined) byInode.set(inode, out);
      outputs.push(out);
    }
    this.#outputs = outputs;
  }

  plan(): string[] {
    const writing = (o: Output) => join(dirname(o.path), ATTEMPT_FOLDER, basename(o.path));
    const targets = this.#outputs.map((o) => o.path).join(', ');
    if (this.#resolved) {
      return [
        formatCommand([this.#mkvextract, ...buildMkvextractArgs(this.#source, this.#resolved, this.#outputs.map(writing))]),
        `then check each file and rename it into place -> ${targets}`,
      ];
    }
    // The source is written by an earlier task: which track an entry selects is known at run.
    const pending = this.#outputs.map((o) => ({ ...o, ...(o.id !== undefined ? { sourceId: o.id } : {}) }));
    return [
      `mkvmerge -J ${formatCommand([this.#source])} (written by an earlier task), then: ${formatCommand([this.#mkvextract, ...buildMkvextractArgs(this.#source, pending, this.#outputs.map(writing))])}` +
        (this.data.tracks?.some((t) => t.track_type !== undefined || t.language !== undefined) ? ' (track ids by type/language resolved then)' : ''),
      `then check each file and rename it into place -> ${targets}`,
    ];
  }

  inputs(): string[] {
    return [this.#source];
  }

  outputs(): string[] {
    return this.#outputs.map((o) => o.path);
  }

  async run(): Promise<void> {
    const list = checkExtractionData(this.data, RunError);
    await this.#checkSource('run');
    await this.#checkOutputs(list, 'run');
    const info = await this.#identify(RunError);
    const resolved = resolveExtractions(this.data, list, info, RunError);
    const claims: OutputClaim[] = [];
    for (const out of this.#outputs) {
      const claim = await this.files.claim(out.path, { field: out.field, overwrite: true });
      claims.push(claim);
      // Became special after the check: written in place it would hang mkvextract or lose the data unchecked.
      if (claim.direct) throw notRegular(out.field, out.path, RunError);
      if (claim.superseded) this.logger.warn(`took over the claim on ${out.path}: ${claim.superseded.reason}`);
    }
    const args = buildMkvextractArgs(this.#source, resolved, claims.map((c) => c.path));
    this.logger.debug(formatCommand([this.#mkvextract, ...args]));

    const errors: string[] = [];
    const other: string[] = [];
    try {
      const result = await this.runner.run(this.#mkvextract, args, {
        okExitCodes: [0, 1],
        onStdoutLine: (line) => {
          const parsed = parseGuiLine(line);
          // 100 is reported only once every file is checked and in place.
          if (parsed.kind === 'progress') this.progress.report({ percent: Math.min(parsed.percent!, 99.9) });
          else if (parsed.kind === 'warning') this.logger.warn(parsed.text);
          else if (parsed.kind === 'error') errors.push(parsed.text);
          else if (line.trim()) other.push(line.trim());
        },
      });
      if (result.exitCode === 1) this.logger.info('mkvextract finished with warnings');
    } catch (error) {
      if (!(error instanceof ProcessError) || error.isCanceled || error.timedOut || error.notStarted) throw error;
      const said = errors.length ? errors : error.stderrTail.length ? error.stderrTail : other.slice(-5);
      throw new RunError(`${blame(said, resolved)}mkvextract failed (exit ${error.exitCode ?? error.signal}): ${said.join('; ') || 'no message'}`, {
        cause: error,
        details: { exitCode: error.exitCode, errors: said },
      });
    }
    // Every file is checked before any is promoted: a bad one leaves none under its final name.
    for (const [i, claim] of claims.entries()) {
      if (!claim.direct) await verifyExtraction(this.runner, this.#mkvmerge, resolved[i]!, claim.path);
    }
    for (const claim of claims) await claim.promote();
    this.progress.report({ percent: 100 });
  }
}

/** An output that is a FIFO, device or socket: refused, as every module refuses a special target it must check. */
function notRegular(field: string, path: string, E: typeof ValidationError | typeof RunError): Error {
  return new E(`${field}: ${path} is not a regular file; mkvextract writes each output to a file of its own, which is checked before it is put in place`, { details: { field, path } });
}

/** `cues[1]: ` when mkvextract's message names a track only one entry extracts cues or timestamps of. */
function blame(said: readonly string[], resolved: readonly ResolvedExtraction[]): string {
  const cues = said.map((s) => /no cues for track ID (\d+)/i.exec(s)?.[1]).find(Boolean);
  if (cues === undefined) return '';
  const entry = resolved.find((x) => x.mode === 'cues' && x.sourceId === Number(cues));
  return entry ? `${entry.entry}: ` : '';
}
