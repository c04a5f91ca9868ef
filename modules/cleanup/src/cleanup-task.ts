import { rm } from 'node:fs/promises';
import {
  RunError,
  TOKENS,
  ValidationError,
  inject,
  injectable,
  type Logger,
  type PathGuard,
  type ProgressReporter,
  type TaskHandler,
} from '@sisyphus/core';
import type { CleanupData } from './cleanup-schema.js';
import { copyAtomically, deleteEntry, FileOpError, finalDestination, lstatOrUndefined, moveEntry } from './file-ops.js';

/** One planned operation, with the data field it came from (for messages). */
interface Operation {
  kind: 'copy' | 'move' | 'delete';
  field: string;
  source: string;
  destination?: string;
}

/**
 * The `cleanup` task: copies first, then moves, then deletes, in the order
 * given. Every path is checked against the allowed roots in `validate` (and
 * again just before use, in case a symlink appeared in between).
 */
@injectable()
export class CleanupTask implements TaskHandler {
  readonly #temps = new Set<string>();
  #ops: Operation[] = [];
  #outputs: string[] = [];

  constructor(
    @inject(TOKENS.TaskData) private readonly data: CleanupData,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async validate(): Promise<void> {
    const ops: Operation[] = [];
    this.data.copy?.forEach((t, i) => ops.push({ kind: 'copy', field: `copy[${i}]`, source: t.source, destination: t.destination }));
    this.data.move?.forEach((t, i) => ops.push({ kind: 'move', field: `move[${i}]`, source: t.source, destination: t.destination }));
    this.data.delete?.forEach((p, i) => ops.push({ kind: 'delete', field: `delete[${i}]`, source: p }));
    for (const op of ops) {
      const field = op.kind === 'delete' ? op.field : `${op.field}.source`;
      const realSource = await this.paths.check(op.source, field);
      if (op.destination !== undefined) {
        const realDest = await this.paths.check(op.destination, `${op.field}.destination`);
        if (realDest === realSource) throw new ValidationError(`${op.field}: source and destination are the same path (${realSource})`);
        const source = this.paths.resolve(op.source);
        this.#outputs.push(await finalDestination(source, this.paths.resolve(op.destination), op.destination));
      }
    }
    this.#ops = ops;
  }

  /** Where copies and moves land, for later tasks' validation. */
  outputs(): string[] {
    return this.#outputs;
  }

  plan(): string[] {
    return this.#ops.map((op) =>
      op.destination === undefined ? `delete ${this.paths.resolve(op.source)}` : `${op.kind} ${this.paths.resolve(op.source)} -> ${this.paths.resolve(op.destination)}`,
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

  async #perform(op: Operation): Promise<void> {
    const sourceField = op.kind === 'delete' ? op.field : `${op.field}.source`;
    await this.paths.check(op.source, sourceField);
    const source = this.paths.resolve(op.source);
    const st = await lstatOrUndefined(source);
    if (!st) throw new RunError(`${sourceField}: ${source} does not exist`, { details: { field: sourceField, path: source } });
    try {
      if (op.kind === 'delete') {
        await deleteEntry(source, st);
        this.logger.info(`deleted ${source}`);
        return;
      }
      await this.paths.check(op.destination!, `${op.field}.destination`);
      const target = await finalDestination(source, this.paths.resolve(op.destination!), op.destination!);
      if (op.kind === 'copy') {
        await copyAtomically(source, target, st, undefined, this.#temps);
        this.logger.info(`copied ${source} -> ${target}`);
      } else {
        const how = await moveEntry(source, target, st, { temps: this.#temps });
        this.logger.info(`moved ${source} -> ${target}${how === 'copied' ? ' (across filesystems)' : ''}`);
      }
    } catch (error) {
      if (error instanceof FileOpError) throw new RunError(`${op.field}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  async cleanup(): Promise<void> {
    // Only left over when the process was interrupted mid-copy.
    for (const temp of this.#temps) await rm(temp, { recursive: true, force: true });
  }
}
