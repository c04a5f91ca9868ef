import {
  RunError,
  TOKENS,
  ValidationError,
  findSameFile,
  refuseSpecialFile,
  removeTree,
  inject,
  injectable,
  type JobOutputs,
  type Logger,
  type OutputFiles,
  type PathGuard,
  type ProgressReporter,
  type TaskActivity,
  type TaskHandler,
} from '@sisyphus/core';
import type { CleanupData } from './cleanup-schema.js';
import type { Stats } from 'node:fs';
import { sep } from 'node:path';
import { copyEntry, deleteEntry, FileOpError, finalDestination, reviewTransfer, lstatOrUndefined, moveEntry } from './file-ops.js';

/** One planned operation, with the data field it came from (for messages). */
interface Operation {
  kind: 'copy' | 'move' | 'delete' | 'delete-folder';
  field: string;
  source: string;
  destination?: string;
  /** Where a copy or move lands (the destination, or inside it when it is a folder). */
  target?: string;
}

/**
 * The `cleanup` task: copies first, then moves, then deletes, in the order
 * given. At validate, every path is checked against the allowed roots, each
 * source must exist (or be written by an earlier task), a copy or move onto
 * its own source (by real identity: symlinks, hard links) is refused, and
 * each destination's folder must be writable. At run, copies and moves land
 * through a claim of this attempt (a private folder beside the target, then
 * an atomic rename), so a destination is never seen half-written.
 */
@injectable()
export class CleanupTask implements TaskHandler {
  #ops: Operation[] = [];
  #outputs: string[] = [];

  constructor(
    @inject(TOKENS.TaskData) private readonly data: CleanupData,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.OutputFiles) private readonly files: OutputFiles,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
    @inject(TOKENS.Activity) private readonly activity: TaskActivity,
  ) {}

  async validate(): Promise<void> {
    const ops: Operation[] = [];
    this.data.copy?.forEach((t, i) => ops.push({ kind: 'copy', field: `copy[${i}]`, source: t.source, destination: t.destination }));
    this.data.move?.forEach((t, i) => ops.push({ kind: 'move', field: `move[${i}]`, source: t.source, destination: t.destination }));
    this.data.delete?.forEach((p, i) => ops.push({ kind: 'delete', field: `delete[${i}]`, source: p }));
    this.data.delete_folders?.forEach((p, i) => ops.push({ kind: 'delete-folder', field: `delete_folders[${i}]`, source: p }));
    for (const op of ops) {
      if (op.kind === 'delete-folder') {
        await this.#checkFolder(op, 'validate');
        continue;
      }
      const sourceField = op.kind === 'delete' ? op.field : `${op.field}.source`;
      const realSource = await this.paths.check(op.source, sourceField);
      const source = this.paths.resolve(op.source);
      // Written by an earlier task, or by an earlier operation of this one (copy a -> b, then move b -> c).
      const made = this.earlier.producedEarlier(source) || this.earlier.producedEarlier(realSource) || this.#outputs.includes(source);
      const found = await lstatOrUndefined(source);
      if (!made && !found) {
        throw new ValidationError(`${sourceField}: ${source} does not exist (and no earlier task of the job writes it)`, { details: { field: sourceField, path: source } });
      }
      // A copy (or a move across file systems) reads through a symlink: its target must be a file or folder.
      if (found && op.kind !== 'delete') await refuseSpecialFile(source, sourceField, 'validate');
      if (op.destination === undefined) continue;
      await this.paths.check(op.destination, `${op.field}.destination`);
      const target = await finalDestination(source, this.paths.resolve(op.destination), op.destination);
      if (await findSameFile(target, [{ path: source }])) {
        throw new ValidationError(`${op.field}: the destination ${target} is the same file as the source ${source}`, { details: { field: op.field } });
      }
      await this.files.check(target, `${op.field}.destination`, { createParents: true });
      const st = await lstatOrUndefined(source);
      if (st) await this.#checkLinks(op, source, target, st);
      this.#outputs.push(target);
      op.target = target;
    }
    this.#ops = ops;
  }

  /**
   * A folder to delete with its contents: inside the allowed roots, not a
   * root itself nor holding one, a real folder (not a symlink to one); one already gone is
   * fine (a cleanup after a failure may run when there is nothing left).
   * Answers its path when it is there.
   */
  async #checkFolder(op: Operation, phase: 'validate' | 'run'): Promise<string | undefined> {
    const E = phase === 'validate' ? ValidationError : RunError;
    const real = await this.paths.check(op.source, op.field);
    const folder = this.paths.resolve(op.source);
    if (this.paths.roots.some((root) => root === real || root === folder)) {
      throw new E(`${op.field}: ${folder} is an allowed root; a root is never deleted`, { details: { field: op.field, path: folder } });
    }
    const inside = this.paths.roots.find((root) => root.startsWith(`${real}${sep}`) || root.startsWith(`${folder}${sep}`));
    if (inside) throw new E(`${op.field}: ${folder} holds the allowed root ${inside}; a root is never deleted`, { details: { field: op.field, path: folder } });
    const st = await lstatOrUndefined(folder);
    if (!st) return undefined;
    if (!st.isDirectory()) {
      throw new E(`${op.field}: ${folder} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}; delete_folders deletes folders only`, { details: { field: op.field, path: folder } });
    }
    return folder;
  }

  /** Where copies and moves land, for later tasks' validation. */
  outputs(): string[] {
    return this.#outputs;
  }

  /**
   * Sources of copies and moves, but not those an earlier operation of this
   * same task writes (copy a -> b, then move b -> c): the order within the
   * task is the module's own, checked in validate.
   */
  inputs(): string[] {
    const written = new Set(this.#outputs);
    return this.#ops.filter((op) => op.kind === 'copy' || op.kind === 'move').map((op) => this.paths.resolve(op.source)).filter((p) => !written.has(p));
  }

  /** What moves take away and deletes remove. */
  removes(): string[] {
    return this.#ops.filter((op) => op.kind !== 'copy').map((op) => this.paths.resolve(op.source));
  }

  plan(): string[] {
    return this.#ops.map((op) =>
      op.kind === 'delete-folder'
        ? `delete the folder ${this.paths.resolve(op.source)} with everything in it`
        : op.destination === undefined ? `delete ${this.paths.resolve(op.source)}` : `${op.kind} ${this.paths.resolve(op.source)} -> ${op.target ?? this.paths.resolve(op.destination)}`,
    );
  }

  async run(): Promise<void> {
    let done = 0;
    for (const op of this.#ops) {
      await this.#perform(op);
      done += 1;
      this.progress.report({ percent: (done / this.#ops.length) * 100 });
    }
  }

  /**
   * What the transfer carries along: symlinks must point inside the allowed
   * roots from where they land; another attempt's working files and special
   * files are refused.
   */
  async #checkLinks(op: Operation, source: string, target: string, st: Stats): Promise<void> {
    let links;
    try {
      links = await reviewTransfer(source, target, st, op.kind as 'copy' | 'move');
    } catch (error) {
      if (error instanceof FileOpError) throw new ValidationError(`${op.field}.source: ${error.message}`, { cause: error });
      throw error;
    }
    for (const { link, pointsTo } of links) await this.paths.check(pointsTo, `${op.field}.source (symlink ${link})`);
  }

  async #perform(op: Operation): Promise<void> {
    if (op.kind === 'delete-folder') {
      // Checked again right before use: a symlink may have appeared since validate.
      const folder = await this.#checkFolder(op, 'run');
      if (!folder) return this.logger.info(`${op.field}: ${this.paths.resolve(op.source)} is gone already`);
      await this.activity.during(`deleting ${folder}`, removeTree(folder));
      this.logger.info(`deleted the folder ${folder}`);
      return;
    }
    const sourceField = op.kind === 'delete' ? op.field : `${op.field}.source`;
    // Checked again right before use: a symlink may have appeared since validate.
    await this.paths.check(op.source, sourceField);
    const source = this.paths.resolve(op.source);
    const st = await lstatOrUndefined(source);
    if (!st) throw new RunError(`${sourceField}: ${source} does not exist`, { details: { field: sourceField, path: source } });
    if (op.kind !== 'delete') await refuseSpecialFile(source, sourceField, 'run');
    try {
      if (op.kind === 'delete') {
        await this.activity.during(`deleting ${source}`, deleteEntry(source, st));
        this.logger.info(`deleted ${source}`);
        return;
      }
      const field = `${op.field}.destination`;
      await this.paths.check(op.destination!, field);
      const target = await finalDestination(source, this.paths.resolve(op.destination!), op.destination!);
      if (await findSameFile(target, [{ path: source }])) {
        throw new RunError(`${op.field}: the destination ${target} is the same file as the source ${source}`);
      }
      await this.#checkLinks(op, source, target, st);
      const claim = await this.files.claim(target, { field, overwrite: true, kind: st.isDirectory() ? 'folder' : 'file', allowEmpty: true, createParents: true });
      if (op.kind === 'copy') {
        await this.activity.during(`copying ${source} -> ${target}`, copyEntry(source, claim, st));
        this.logger.info(`copied ${source} -> ${target}`);
      } else {
        const how = await this.activity.during(`moving ${source} -> ${target}`, moveEntry(source, claim, st));
        this.logger.info(`moved ${source} -> ${target}${how === 'copied' ? ' (across filesystems)' : ''}`);
      }
    } catch (error) {
      if (error instanceof FileOpError) throw new RunError(`${op.field}: ${error.message}`, { cause: error });
      throw error;
    }
  }
}
