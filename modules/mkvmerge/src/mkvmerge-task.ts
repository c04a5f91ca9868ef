import { access, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ProcessError,
  RunError,
  TOKENS,
  ValidationError,
  requireExecutable,
  formatCommand,
  inject,
  injectable,
  partialPathFor,
  type JobOutputs,
  type Logger,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type RunOutcome,
  type TaskHandler,
} from '@sisyphus/core';
import { resolveAttachments } from './attachments.js';
import { buildMkvmergeArgs, type IdentifiedTrack } from './build-args.js';
import { parseGuiLine } from './gui-output.js';
import { describeTracks, identify } from './identify.js';
import type { MkvmergeData, MkvmergeSettings } from './mkvmerge-schema.js';

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * The `mkvmerge` task: checks what can be checked without the files before
 * the job runs, identifies the sources with `mkvmerge -J` at run time (an
 * earlier task may have just written them), muxes into a hidden partial
 * file with progress, and renames it into place when mkvmerge succeeded
 * (exit 0, or 1 = with warnings, which are logged and kept in the result).
 */
@injectable()
export class MkvmergeTask implements TaskHandler {
  #mkvmerge = '';
  #data!: MkvmergeData;
  #output = '';

  constructor(
    @inject(TOKENS.TaskData) private readonly data: MkvmergeData,
    @inject(TOKENS.ModuleSettings) private readonly settings: MkvmergeSettings,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
    @inject(TOKENS.Workspace) private readonly workspace: string,
  ) {}

  async init(): Promise<void> {
    this.#mkvmerge = await requireExecutable('mkvmerge', this.settings.mkvmerge, 'settings.mkvmerge.mkvmerge', 'install mkvtoolnix or set settings.mkvmerge.mkvmerge');
  }

  async #checkInput(path: string, field: string): Promise<string> {
    await this.paths.check(path, field);
    const abs = this.paths.resolve(path);
    if (!(await exists(abs)) && !this.earlier.producedEarlier(abs)) {
      throw new ValidationError(`${field}: ${abs} does not exist (and no earlier task of the job writes it)`);
    }
    return abs;
  }

  async validate(): Promise<void> {
    const { data } = this;
    const seen = new Set<string>();
    for (const [i, t] of data.tracks.entries()) {
      if (t.source >= data.sources.length) {
        throw new ValidationError(`tracks[${i}].source is ${t.source} but there ${data.sources.length === 1 ? 'is only 1 source' : `are only ${data.sources.length} sources`}`);
      }
      const key = `${t.source}:${t.track}`;
      if (seen.has(key)) throw new ValidationError(`tracks[${i}] lists track ${t.track} of source ${t.source} a second time`);
      seen.add(key);
    }
    const sources = [];
    for (const [i, s] of data.sources.entries()) sources.push({ ...s, filename: await this.#checkInput(s.filename, `sources[${i}].filename`) });
    const attachments = [];
    for (const [i, a] of (data.attachments ?? []).entries()) attachments.push({ ...a, filename: await this.#checkInput(a.filename, `attachments[${i}].filename`) });
    const dirs = [];
    for (const [i, d] of (data.attachment_directories ?? []).entries()) dirs.push(await this.#checkInput(d, `attachment_directories[${i}]`));
    await this.paths.check(data.output_file, 'output_file');
    this.#output = this.paths.resolve(data.output_file);
    if (sources.some((s) => s.filename === this.#output)) throw new ValidationError(`output_file ${this.#output} is also one of the sources`);
    this.#data = { ...data, sources, attachments, attachment_directories: dirs, output_file: this.#output };
    // Attachments that exist already get their MIME type checked now, not after an encode.
    const ready = [];
    for (const [i, a] of attachments.entries()) if (await exists(a.filename)) ready.push({ ...a, path: a.filename, field: `attachments[${i}]` });
    await resolveAttachments(ready, [], this.logger, 'validate');
  }

  plan(): string[] {
    const order = this.#data.tracks.map((t) => `${t.source}:${t.track}`).join(',');
    return [
      `mkvmerge -J each source, then: ${formatCommand([this.#mkvmerge, '--gui-mode', '--output', partialPathFor(this.#output), '...', '--track-order', order])}`,
      `then rename ${partialPathFor(this.#output)} -> ${this.#output}`,
    ];
  }

  outputs(): string[] {
    return [this.#output];
  }

  async run(): Promise<void> {
    const data = this.#data;
    const identified: IdentifiedTrack[][] = [];
    for (const source of data.sources) identified.push(await identify(this.runner, this.#mkvmerge, source.filename));
    for (const [i, t] of data.tracks.entries()) {
      const tracks = identified[t.source]!;
      if (!tracks.some((x) => x.id === t.track)) {
        throw new RunError(`tracks[${i}]: source ${t.source} (${data.sources[t.source]!.filename}) has no track ${t.track}; its tracks are ${describeTracks(tracks)}`);
      }
    }
    const attachments = await resolveAttachments(
      (data.attachments ?? []).map((a, i) => ({ ...a, path: a.filename, field: `attachments[${i}]` })),
      (data.attachment_directories ?? []).map((d, i) => ({ path: d, field: `attachment_directories[${i}]` })),
      this.logger,
      'run',
    );
    const partial = partialPathFor(this.#output);
    await rm(partial, { force: true });
    const args = buildMkvmergeArgs(data, identified, attachments, partial);
    this.logger.debug(formatCommand([this.#mkvmerge, ...args]));
    // mkvmerge reads any argument starting with `@` as an option file (a title
    // or attachment name like `@home` would break the run); inside a JSON
    // option file every string is taken literally.
    const optionFile = join(this.workspace, 'mkvmerge-options.json');
    await writeFile(optionFile, JSON.stringify(args));

    const errors: string[] = [];
    const other: string[] = [];
    try {
      const result = await this.runner.run(this.#mkvmerge, [`@${optionFile}`], {
        okExitCodes: [0, 1],
        onStdoutLine: (line) => {
          const parsed = parseGuiLine(line);
          if (parsed.kind === 'progress') this.progress.report({ percent: parsed.percent! });
          else if (parsed.kind === 'warning') this.logger.warn(parsed.text);
          else if (parsed.kind === 'error') errors.push(parsed.text);
          else if (line.trim()) other.push(line.trim());
        },
      });
      if (result.exitCode === 1) this.logger.info('mkvmerge finished with warnings');
    } catch (error) {
      await rm(partial, { force: true });
      if (!(error instanceof ProcessError) || error.isCanceled || error.timedOut || error.notStarted) throw error;
      const said = errors.length ? errors : error.stderrTail.length ? error.stderrTail : other.slice(-5);
      throw new RunError(`mkvmerge failed (exit ${error.exitCode ?? error.signal}): ${said.join('; ') || 'no message'}`, {
        cause: error,
        details: { exitCode: error.exitCode, errors: said },
      });
    }
    await rename(partial, this.#output);
  }

  async cleanup(outcome: RunOutcome): Promise<void> {
    if (outcome.failed && this.#output) await rm(partialPathFor(this.#output), { force: true });
  }
}
