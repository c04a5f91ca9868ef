import { access, copyFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  ProcessError,
  RunError,
  TOKENS,
  ValidationError,
  findSameFile,
  refuseSpecialFile,
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
import { describeTracks, identifyFile, type Identified } from './identify.js';
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
  /** Tracks of sources identified at validate (those that existed then), by source index. */
  readonly #identified: IdentifiedTrack[][] = [];

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
    this.#kind = outputKind(data);
    const inputs = await this.#checkPaths('validate');
    for (const input of inputs) {
      if (!(await exists(input.path)) && !this.earlier.producedEarlier(input.path) && !this.earlier.producedEarlier(this.paths.resolve(input.given))) {
        throw new ValidationError(`${input.field}: ${this.paths.resolve(input.given)} does not exist (and no earlier task of the job writes it)`);
      }
    }
    for (const ref of this.#refs) {
      const path = this.#optionFiles[ref.field]!;
      if (ref.xml && (await exists(path))) await checkEmbeddedFiles(path, ref.field, 'validate');
    }
    // Sources that exist already are identified now: a track id they lack, or a playlist naming files
    // outside the roots, is found before any task runs (sources an earlier task writes are identified at run).
    for (const [i, source] of this.#data.sources.entries()) {
      if (!(await exists(source.filename))) continue;
      const found = await identifyFile(this.runner, this.#mkvmerge, source.filename).catch((error: Error) => {
        throw new ValidationError(`sources[${i}].filename: ${error.message}`, { cause: error });
      });
      await this.#checkPlaylist(found, `sources[${i}].filename`);
      this.#checkTracks(i, found.tracks, ValidationError);
      this.#identified[i] = found.tracks;
    }
    await this.files.check(this.#output, 'output_file');
    // Attachments that exist already get their MIME type checked now, not after an encode.
    const ready = [];
    for (const [i, a] of (this.#data.attachments ?? []).entries()) if (await exists(a.filename)) ready.push({ ...a, path: a.filename, field: `attachments[${i}]` });
    await resolveAttachments(ready, [], this.logger, 'validate');
  }

  /**
   * Check every path the task uses against the allowed roots (sources,
   * attachments, attachment folders, files options name, the output) and
   * keep the real paths for mkvmerge; the output must not be an input.
   * Run at validate and again right before the mux: an earlier task (or
   * anyone) may have swapped a folder for a symlink in between.
   */
  async #checkPaths(phase: 'validate' | 'run'): Promise<Array<{ path: string; given: string; field: string }>> {
    const { data } = this;
    const inputs: Array<{ path: string; given: string; field: string }> = [];
    const check = async (given: string, field: string) => {
      const path = await this.paths.check(given, field);
      // Opening a FIFO or a device (also through a symlink) blocks a thread for good.
      await refuseSpecialFile(path, field, phase);
      inputs.push({ path, given, field });
      return path;
    };
    const sources = [];
    for (const [i, s] of data.sources.entries()) sources.push({ ...s, filename: await check(s.filename, `sources[${i}].filename`) });
    const attachments = [];
    for (const [i, a] of (data.attachments ?? []).entries()) attachments.push({ ...a, filename: await check(a.filename, `attachments[${i}].filename`) });
    const dirs = [];
    for (const [i, d] of (data.attachment_directories ?? []).entries()) dirs.push(await check(d, `attachment_directories[${i}]`));
    const optionFiles: Record<string, string> = {};
    for (const ref of this.#refs) {
      if (ref.access === 'read') optionFiles[ref.field] = await check(ref.value, ref.field);
      else optionFiles[ref.field] = await this.paths.check(ref.value, ref.field);
    }
    const output = await this.paths.check(data.output_file, 'output_file');
    const E = phase === 'validate' ? ValidationError : RunError;
    const same = await findSameFile(output, inputs);
    if (same) throw new E(`output_file ${this.paths.resolve(data.output_file)} is the same file as ${same.field} (${this.paths.resolve(same.given)})`, { details: { field: 'output_file' } });
    for (const ref of this.#refs.filter((r) => r.access === 'write')) {
      const hit = await findSameFile(optionFiles[ref.field]!, inputs);
      if (hit) throw new E(`${ref.field} names ${optionFiles[ref.field]}, which is the same file as ${hit.field}; an input is never written`);
    }
    this.#output = output;
    this.#optionFiles = optionFiles;
    this.#inputs = inputs.map((i) => i.path);
    this.#data = { ...data, sources, attachments, attachment_directories: dirs, output_file: output };
    return inputs;
  }

  /** A playlist makes mkvmerge read the files it lists (found by content, whatever the name): each must be inside the roots. */
  async #checkPlaylist(found: Identified, field: string): Promise<void> {
    for (const [n, file] of (found.playlistFiles ?? []).entries()) await this.paths.check(file, `${field} (playlist item ${n + 1})`);
  }

  #checkTracks(sourceIndex: number, tracks: readonly IdentifiedTrack[], E: typeof ValidationError | typeof RunError): void {
    for (const [i, t] of this.#data.tracks.entries()) {
      if (t.source !== sourceIndex || tracks.some((x) => x.id === t.track)) continue;
      throw new E(`tracks[${i}]: source ${t.source} (${this.#data.sources[t.source]!.filename}) has no track ${t.track}; its tracks are ${describeTracks(tracks)}`);
    }
  }

  plan(): string[] {
    const order = this.#data.tracks.map((t) => `${t.source}:${t.track}`).join(',');
    const writing = join(dirname(this.#output), ATTEMPT_FOLDER, basename(this.#output));
    const known = this.#data.sources.every((_, i) => this.#identified[i]);
    // With every source identified now, the exact command (attachment MIME types are told at run).
    const command = known && !(this.#data.attachments?.length || this.#data.attachment_directories?.length)
      ? formatCommand([this.#mkvmerge, ...buildMkvmergeArgs(this.#data, this.#identified, [], writing, this.#optionFiles)])
      : `mkvmerge -J each source, then: ${formatCommand([this.#mkvmerge, '--gui-mode', '--output', writing, '...', '--track-order', order])}`;
    return [command, `then read it back with mkvmerge -J and rename it -> ${this.#output}`];
  }

  outputs(): string[] {
    return [this.#output];
  }

  inputs(): string[] {
    return this.#inputs;
  }

  async run(): Promise<void> {
    await this.#checkPaths('run');
    const data = this.#data;
    const identified: IdentifiedTrack[][] = [];
    const durations: Array<number | undefined> = [];
    for (const [i, source] of data.sources.entries()) {
      const found = await identifyFile(this.runner, this.#mkvmerge, source.filename);
      await this.#checkPlaylist(found, `sources[${i}].filename`);
      identified.push(found.tracks);
      durations.push(found.seconds);
      this.#checkTracks(i, found.tracks, RunError);
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
    let whole = true;
    for (const [index, source] of data.sources.entries()) {
      const listed = data.tracks.filter((t) => t.source === index);
      const all = identified[index] ?? [];
      let taken = 0;
      for (const [type, option] of Object.entries(COPY_ALL)) {
        const copyAll = source.options?.[option];
        taken += copyAll !== undefined && copyAll !== false ? all.filter((t) => t.type === type).length : listed.filter((t) => all.find((x) => x.id === t.track)?.type === type).length;
      }
      tracks += taken;
      if (!taken) continue;
      contributing.add(index);
      // A source of which only some tracks are taken may give a shorter output (its audio ran longer): no length to expect.
      if (taken !== all.length) whole = false;
    }
    const keys = [data.options, ...data.sources.map((s) => s.options), ...data.tracks.map((t) => t.options)].flatMap((o) => Object.keys(o ?? {}));
    const timed = keys.some((k) => TIMING_OPTIONS.has(k));
    const lengths = [...contributing].map((i) => durations[i]);
    const seconds = whole && !timed && lengths.length && lengths.every((l) => l !== undefined) ? Math.max(...(lengths as number[])) : undefined;
    return { tracks, ...(seconds !== undefined ? { seconds } : {}) };
  }
}
