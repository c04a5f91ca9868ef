import { access, copyFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  ProcessError,
  RunError,
  TOKENS,
  ValidationError,
  findSameFile,
  requireExecutable,
  formatCommand,
  inject,
  injectable,
  type JobOutputs,
  type Logger,
  type OutputFiles,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type TaskHandler,
} from '@sisyphus/core';
import { resolveAttachments } from './attachments.js';
import { buildMkvmergeArgs, type IdentifiedTrack } from './build-args.js';
import { parseGuiLine } from './gui-output.js';
import { describeTracks, identifyFile } from './identify.js';
import type { MkvmergeData, MkvmergeSettings } from './mkvmerge-schema.js';
import { checkEmbeddedFiles, outputKind, reviewMkvmergeOptions, type MkvFileReference } from './option-policy.js';
import { verifyMux, type ExpectedMux } from './verify-output.js';

const exists = (path: string) => access(path).then(() => true, () => false);

/** Where the plan shows the attempt's private folder (its name is made at run time). */
const ATTEMPT_FOLDER = '.sisyphus-tmp-XXXXXXXXXXXX';

/** Options that change the output's timeline: its length is then not the sources' (no duration check). */
const TIMING_OPTIONS = new Set(['split', 'sync', 'default-duration', 'timestamps', 'timecodes', 'fix-bitstream-timing-information', 'append-to', 'append-mode', 'link-to-previous', 'link-to-next']);

/** Per track type, the source option that keeps every track of that type. */
const COPY_ALL: Record<string, string> = { video: '_copy-video-tracks', audio: '_copy-audio-tracks', subtitles: '_copy-subtitles-tracks', buttons: '_copy-buttons-tracks' };

/**
 * The `mkvmerge` task. Validate: every path (also those named by options)
 * inside the allowed roots, every option checked against mkvmerge's own
 * option table, the output not one of the inputs (by real identity), its
 * folder writable. Run: identify the sources with `mkvmerge -J` (an earlier
 * task may have just written them), mux into this attempt's private folder
 * beside the output with progress, read the result back (tracks, duration)
 * and rename it into place. Exit 1 is success with warnings.
 */
@injectable()
export class MkvmergeTask implements TaskHandler {
  #mkvmerge = '';
  #data!: MkvmergeData;
  #output = '';
  #kind: 'file' | 'segments' = 'file';
  /** Files options name, checked, by field. */
  #optionFiles: Record<string, string> = {};
  #refs: MkvFileReference[] = [];
  #inputs: string[] = [];

  constructor(
    @inject(TOKENS.TaskData) private readonly data: MkvmergeData,
    @inject(TOKENS.ModuleSettings) private readonly settings: MkvmergeSettings,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.OutputFiles) private readonly files: OutputFiles,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
    @inject(TOKENS.Workspace) private readonly workspace: string,
  ) {}

  async init(): Promise<void> {
    this.#mkvmerge = await requireExecutable('mkvmerge', this.settings.mkvmerge, 'settings.mkvmerge.mkvmerge', 'install mkvtoolnix or set settings.mkvmerge.mkvmerge');
  }

  /** Check an input path; it must exist or be written by an earlier task. Returns the resolved path. */
  async #checkInput(path: string, field: string): Promise<string> {
    const real = await this.paths.check(path, field);
    const abs = this.paths.resolve(path);
    if (!(await exists(abs)) && !this.earlier.producedEarlier(abs) && !this.earlier.producedEarlier(real)) {
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
    // Every option against mkvmerge's table; what they name, against the roots.
    this.#refs = reviewMkvmergeOptions(data).files;
    const inputs: Array<{ path: string; field: string }> = [];
    const sources = [];
    for (const [i, s] of data.sources.entries()) {
      const field = `sources[${i}].filename`;
      const filename = await this.#checkInput(s.filename, field);
      await this.#checkPlaylist(filename, field);
      sources.push({ ...s, filename });
      inputs.push({ path: filename, field });
    }
    const attachments = [];
    for (const [i, a] of (data.attachments ?? []).entries()) {
      const field = `attachments[${i}].filename`;
      const filename = await this.#checkInput(a.filename, field);
      attachments.push({ ...a, filename });
      inputs.push({ path: filename, field });
    }
    const dirs = [];
    for (const [i, d] of (data.attachment_directories ?? []).entries()) dirs.push(await this.#checkInput(d, `attachment_directories[${i}]`));
    for (const ref of this.#refs) {
      const real = ref.access === 'read' ? await this.#checkInput(ref.value, ref.field).then(() => this.paths.check(ref.value, ref.field)) : await this.paths.check(ref.value, ref.field);
      this.#optionFiles[ref.field] = real;
      if (ref.access === 'read') inputs.push({ path: real, field: ref.field });
      if (ref.xml && (await exists(real))) await checkEmbeddedFiles(real, ref.field, 'validate');
    }
    await this.paths.check(data.output_file, 'output_file');
    this.#output = this.paths.resolve(data.output_file);
    this.#kind = outputKind(data);
    const same = await findSameFile(this.#output, inputs);
    if (same) throw new ValidationError(`output_file ${this.#output} is the same file as ${same.field} (${same.path})`, { details: { field: 'output_file' } });
    for (const ref of this.#refs.filter((r) => r.access === 'write')) {
      const hit = await findSameFile(this.#optionFiles[ref.field]!, inputs);
      if (hit) throw new ValidationError(`${ref.field} names ${this.#optionFiles[ref.field]}, which is the same file as ${hit.field}; an input is never written`);
    }
    await this.files.check(this.#output, 'output_file');
    this.#inputs = inputs.map((i) => i.path);
    this.#data = { ...data, sources, attachments, attachment_directories: dirs, output_file: this.#output };
    // Attachments that exist already get their MIME type checked now, not after an encode.
    const ready = [];
    for (const [i, a] of attachments.entries()) if (await exists(a.filename)) ready.push({ ...a, path: a.filename, field: `attachments[${i}]` });
    await resolveAttachments(ready, [], this.logger, 'validate');
  }

  /** A Blu-ray playlist makes mkvmerge read `../STREAM/*.m2ts`: that folder must be inside the roots too. */
  async #checkPlaylist(filename: string, field: string): Promise<void> {
    if (!/\.mpls$/i.test(filename)) return;
    await this.paths.check(join(dirname(dirname(filename)), 'STREAM'), `${field} (its ../STREAM folder)`);
  }

  plan(): string[] {
    const order = this.#data.tracks.map((t) => `${t.source}:${t.track}`).join(',');
    const writing = join(dirname(this.#output), ATTEMPT_FOLDER, basename(this.#output));
    return [
      `mkvmerge -J each source, then: ${formatCommand([this.#mkvmerge, '--gui-mode', '--output', writing, '...', '--track-order', order])}`,
      `then read it back with mkvmerge -J and rename it -> ${this.#output}`,
    ];
  }

  outputs(): string[] {
    return [this.#output];
  }

  inputs(): string[] {
    return this.#inputs;
  }

  async run(): Promise<void> {
    const data = this.#data;
    const identified: IdentifiedTrack[][] = [];
    const durations: Array<number | undefined> = [];
    for (const source of data.sources) {
      const found = await identifyFile(this.runner, this.#mkvmerge, source.filename);
      identified.push(found.tracks);
      durations.push(found.seconds);
    }
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
    const optionFiles = await this.#pinXmlFiles();
    const claim = await this.files.claim(this.#output, { field: 'output_file', overwrite: true, kind: this.#kind });
    if (claim.superseded) this.logger.warn(`took over the claim on ${this.#output}: ${claim.superseded.reason}`);
    const args = buildMkvmergeArgs(data, identified, attachments, claim.path, optionFiles);
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
          // mkvmerge prints 100% as it finishes writing; 100 is reported only once the result is checked and in place.
          if (parsed.kind === 'progress') this.progress.report({ percent: Math.min(parsed.percent!, 99.9) });
          else if (parsed.kind === 'warning') this.logger.warn(parsed.text);
          else if (parsed.kind === 'error') errors.push(parsed.text);
          else if (line.trim()) other.push(line.trim());
        },
      });
      if (result.exitCode === 1) this.logger.info('mkvmerge finished with warnings');
    } catch (error) {
      if (!(error instanceof ProcessError) || error.isCanceled || error.timedOut || error.notStarted) throw error;
      const said = errors.length ? errors : error.stderrTail.length ? error.stderrTail : other.slice(-5);
      throw new RunError(`mkvmerge failed (exit ${error.exitCode ?? error.signal}): ${said.join('; ') || 'no message'}`, {
        cause: error,
        details: { exitCode: error.exitCode, errors: said },
      });
    }
    await claim.promote((files) => verifyMux(this.runner, this.#mkvmerge, files, this.#expected(identified, durations)));
    this.progress.report({ percent: 100 });
  }

  /**
   * Chapter, tag and segment-info XML can make mkvmerge read any file
   * (`@NAME` values). Each is copied into the task's own folder, the copy
   * is checked, and mkvmerge reads the copy: what was checked is what it reads.
   */
  async #pinXmlFiles(): Promise<Record<string, string>> {
    const files = { ...this.#optionFiles };
    for (const [i, ref] of this.#refs.entries()) {
      if (!ref.xml) continue;
      const pinned = join(this.workspace, `option-${i}.xml`);
      await copyFile(files[ref.field]!, pinned);
      await checkEmbeddedFiles(pinned, ref.field, 'run');
      files[ref.field] = pinned;
    }
    return files;
  }

  /** Tracks the output must hold, and how long it should last. */
  #expected(identified: readonly IdentifiedTrack[][], durations: ReadonlyArray<number | undefined>): ExpectedMux {
    const data = this.#data;
    let tracks = 0;
    const contributing = new Set<number>();
    for (const [index, source] of data.sources.entries()) {
      const listed = data.tracks.filter((t) => t.source === index);
      const all = identified[index] ?? [];
      for (const [type, option] of Object.entries(COPY_ALL)) {
        const copyAll = source.options?.[option];
        const count = copyAll !== undefined && copyAll !== false ? all.filter((t) => t.type === type).length : listed.filter((t) => all.find((x) => x.id === t.track)?.type === type).length;
        tracks += count;
        if (count) contributing.add(index);
      }
    }
    const keys = [data.options, ...data.sources.map((s) => s.options), ...data.tracks.map((t) => t.options)].flatMap((o) => Object.keys(o ?? {}));
    const timed = keys.some((k) => TIMING_OPTIONS.has(k));
    const lengths = [...contributing].map((i) => durations[i]);
    const seconds = !timed && lengths.length && lengths.every((l) => l !== undefined) ? Math.max(...(lengths as number[])) : undefined;
    return { tracks, ...(seconds !== undefined ? { seconds } : {}) };
  }
}
