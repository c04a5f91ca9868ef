import { stat } from 'node:fs/promises';
import { ConfigError, renderTemplate, templateVariables } from '@sisyphus/core';
import { readDocument } from '@sisyphus/core/cli';
import { FILE_VARIABLES } from './file-variables.js';

/** A template file as last read. */
interface Loaded {
  size: number;
  mtimeMs: number;
  doc: Record<string, unknown>;
}

/**
 * A rule's job template file: read as `sisyphus submit` reads a job file
 * (JSON or YAML), again whenever its size or modification time changes (an
 * edited template applies to the next file without a restart), and
 * rendered per file with the same rules as `--var` and `POST
 * /queue/template` (`renderTemplate`: one pass, whole-string placeholders
 * keep their type).
 */
export class WatchTemplate {
  #loaded: Loaded | undefined;

  constructor(
    /** Absolute path of the template file. */
    readonly file: string,
    /** The rule's own variables. */
    private readonly variables: Record<string, unknown>,
  ) {}

  /**
   * The template's document, read again when the file changed. A
   * {@link ConfigError} (one line) when it cannot be read, is no object, or
   * has a placeholder neither the file nor the rule's variables fill.
   */
  async document(): Promise<Record<string, unknown>> {
    let stats;
    try {
      stats = await stat(this.file);
    } catch (error) {
      throw new ConfigError(`template ${this.file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    if (this.#loaded && this.#loaded.size === stats.size && this.#loaded.mtimeMs === stats.mtimeMs) return this.#loaded.doc;
    let doc: unknown;
    try {
      doc = await readDocument(this.file);
    } catch (error) {
      throw new ConfigError(`template ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`template ${this.file} must hold a job: an object with job_title and tasks`);
    const unknown = templateVariables(doc).filter((name) => !this.#fills(name));
    if (unknown.length) {
      throw new ConfigError(
        `template ${this.file} has ${unknown.map((n) => `{{ ${n} }}`).join(', ')}, which no variable fills (the file's: ${FILE_VARIABLES.join(', ')}; add the others to the rule's variables)`,
      );
    }
    this.#loaded = { size: stats.size, mtimeMs: stats.mtimeMs, doc: doc as Record<string, unknown> };
    return this.#loaded.doc;
  }

  /** Does a variable (or, for a dotted name, its first part) of the file or the rule fill `name`? */
  #fills(name: string): boolean {
    const head = name.split('.')[0]!;
    return (FILE_VARIABLES as readonly string[]).includes(name) || Object.hasOwn(this.variables, name) || Object.hasOwn(this.variables, head);
  }

  /** The job for one file: the template rendered with the rule's variables and the file's (the file's win). */
  async render(fileVariables: Record<string, unknown>): Promise<Record<string, unknown>> {
    return renderTemplate(await this.document(), { ...this.variables, ...fileVariables });
  }
}
