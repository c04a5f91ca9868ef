import { access, readdir, rm } from 'node:fs/promises';
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
  type DataStore,
  type JobOutputs,
  type Logger,
  type OutputClaim,
  type OutputFiles,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type TaskHandler,
} from '@sisyphus/core';
import { PROGRESS_ARGS, buildFfmpegArgs, stderrSummary, type ResolvedOutputMap } from './build-args.js';
import type { FfmpegData, FfmpegSettings } from './ffmpeg-schema.js';
import { resolveOptionSets } from './option-sets.js';
import { probe, type ProbeResult } from './probe.js';
import { FfmpegProgressParser } from './progress-parser.js';
import { checkSourceMaps, expectedOutput } from './stream-check.js';
import { applicableOutputMaps, mappedOutput } from './output-streams.js';
import { outputKind, reviewFfmpegOptions, reviewPathField, type OptionPolicy } from './option-policy.js';
import { REFUSED_INPUT_FORMATS } from './ffmpeg-option-table.js';
import { verifyEncode, verifySequence, type EncodeReport } from './verify-output.js';

const exists = (path: string) => access(path).then(() => true, () => false);

/** How the output is written: see `outputKind`; `url` is an output to a protocol the worker config allows. */
type Kind = 'null' | 'file' | 'sequence' | 'segments' | 'url';

/** Where the plan shows the attempt's private folder (its name is made at run time). */
const ATTEMPT_FOLDER = '.sisyphus-tmp-XXXXXXXXXXXX';

/**
 * The `ffmpeg` task. Validate: every path (also in option values) inside
 * the allowed roots, the output not one of the sources (by real identity),
 * its folder writable, option sets, and, with ffprobe, every map. Run:
 * encode into this attempt's private folder beside the output, with live
 * progress; check the result with ffprobe against what ffmpeg reported;
 * rename it into place. ffmpeg runs in the job's scratch folder, so a
 * relative name in an option can only touch that folder.
 */
@injectable()
export class FfmpegTask implements TaskHandler {
  #ffmpeg = '';
  #ffprobe = '';
  #sources: string[] = [];
  /** Indices of sources that are URLs of allowed protocols (not probed, not checked as paths). */
  readonly #urls = new Set<number>();
  #inputOptions: FfmpegData['input_options'];
  /** Files option values read, and write (resolved). */
  #optionReads: string[] = [];
  #optionWrites: Array<{ field: string; path: string }> = [];
  #output = '';
  #kind: Kind = 'file';
  #maps: ResolvedOutputMap[] = [];
  #notes: string[] = [];
  readonly #probes = new Map<number, ProbeResult>();

  constructor(
    @inject(TOKENS.TaskData) private readonly data: FfmpegData,
    @inject(TOKENS.ModuleSettings) private readonly settings: FfmpegSettings,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.DataStore) private readonly store: DataStore,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.OutputFiles) private readonly files: OutputFiles,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
    @inject(TOKENS.JobWorkspace) private readonly scratch: string,
  ) {}

  async init(): Promise<void> {
    this.#ffmpeg = await requireExecutable('ffmpeg', this.settings.ffmpeg, 'settings.ffmpeg.ffmpeg');
    this.#ffprobe = await requireExecutable('ffprobe', this.settings.ffprobe, 'settings.ffmpeg.ffprobe');
  }

  async validate(): Promise<void> {
    const { data } = this;
    const policy: OptionPolicy = { allowedProtocols: this.settings.allowed_protocols ?? [] };
    for (const [i, source] of data.sources.entries()) {
      const field = `sources[${i}]`;
      const reviewed = reviewPathField(source, field, policy);
      if (reviewed.kind === 'url') {
        this.#urls.add(i);
        this.#sources.push(source);
        continue;
      }
      await this.paths.check(reviewed.path, field);
      this.#sources.push(this.paths.resolve(reviewed.path));
    }
    for (const [i, map] of data.source_maps.entries()) {
      if (map.source >= data.sources.length) {
        throw new ValidationError(`source_maps[${i}].source is ${map.source} but there ${data.sources.length === 1 ? 'is only 1 source' : `are only ${data.sources.length} sources`}`);
      }
    }
    const withSets = await resolveOptionSets(data.output_maps ?? [], this.store);
    await this.#reviewOptions(withSets, policy);

    const output = reviewPathField(data.output_file, 'output_file', policy);
    this.#kind = output.kind === 'url' ? 'url' : outputKind({ output_file: output.path }, this.#maps);
    if (output.kind === 'url') this.#output = data.output_file;
    else if (output.path === '/dev/null') this.#output = '/dev/null';
    else {
      await this.paths.check(output.path, 'output_file');
      this.#output = this.paths.resolve(output.path);
      const same = await findSameFile(this.#output, this.#sourceCandidates());
      if (same) throw new ValidationError(`output_file ${this.#output} is the same file as ${same.field} (${same.path})`, { details: { field: 'output_file' } });
    }
    for (const written of this.#optionWrites) {
      const same = await findSameFile(written.path, this.#sourceCandidates());
      if (same) throw new ValidationError(`${written.field} names ${written.path}, which is the same file as ${same.field}; a source is never written`, { details: { field: written.field } });
    }

    for (const [i, source] of this.#sources.entries()) {
      if (this.#urls.has(i)) continue;
      if (await exists(source)) this.#probes.set(i, await this.#probe(i, 'validate'));
      else if (!this.earlier.producedEarlier(source)) {
        throw new ValidationError(`sources[${i}]: ${source} does not exist (and no earlier task of the job writes it)`);
      }
    }
    this.#applyProbes();
    if (this.#kind === 'file' || this.#kind === 'sequence' || this.#kind === 'segments') {
      await this.files.check(this.#output, 'output_file');
      if (!data.overwrite && (await exists(this.#output))) {
        throw new ValidationError(`output_file ${this.#output} exists and overwrite is false`);
      }
    }
  }

  /**
   * Every option value that names a file, folder, URL or protocol (also
   * inside filter graphs and encoder parameter strings) is checked against
   * the allowed roots, or refused (see docs/modules.md); the argv is built
   * from the resolved paths.
   */
  async #reviewOptions(withSets: Parameters<typeof reviewFfmpegOptions>[1], policy: OptionPolicy): Promise<void> {
    const review = reviewFfmpegOptions(this.data, withSets, policy);
    const resolved = new Map<string, string>();
    for (const ref of review.files) {
      const real = await this.paths.check(ref.path, ref.field);
      resolved.set(ref.field, real);
      if (ref.access !== 'write') this.#optionReads.push(real);
      if (ref.access !== 'read') this.#optionWrites.push({ field: ref.field, path: real });
    }
    const safe = review.apply(resolved);
    this.#inputOptions = safe.input_options;
    this.#maps = safe.output_maps;
  }

  #sourceCandidates(): Array<{ path: string; field: string }> {
    return this.#sources.flatMap((path, i) => (this.#urls.has(i) ? [] : [{ path, field: `sources[${i}]` }]));
  }

  /** ffprobe a source; a playlist or other file that makes ffmpeg open further files is refused. */
  async #probe(i: number, phase: 'validate' | 'run'): Promise<ProbeResult> {
    const result = await probe(this.runner, this.#ffprobe, this.#sources[i]!, phase);
    const refused = (result.format.format_name ?? '').split(',').find((name) => REFUSED_INPUT_FORMATS.has(name));
    if (refused) {
      const E = phase === 'validate' ? ValidationError : RunError;
      throw new E(`sources[${i}]: ${this.#sources[i]} is read by ffmpeg as "${refused}", which ${REFUSED_INPUT_FORMATS.get(refused)}; such sources are refused`, {
        details: { field: `sources[${i}]`, format: refused },
      });
    }
    return result;
  }

  /** With every source probed: check the maps and leave out options of streams an optional map did not find. */
  #applyProbes(): void {
    checkSourceMaps(this.data, this.#probes);
    const output = mappedOutput(this.data, this.#probes);
    if (!output) return;
    const { maps, notes } = applicableOutputMaps(this.#maps, output);
    this.#maps = maps;
    this.#notes = notes;
  }

  /** The exact argv ffmpeg gets (program first), writing to `outputPath`. */
  argv(outputPath = this.#direct() ? this.#output : join(dirname(this.#output), ATTEMPT_FOLDER, basename(this.#output))): string[] {
    const data = { ...this.data, input_options: this.#inputOptions, sources: this.#sources };
    return [this.#ffmpeg, ...PROGRESS_ARGS, ...buildFfmpegArgs(data, this.#maps, outputPath)];
  }

  plan(): string[] {
    const lines = [...this.#notes, formatCommand(this.argv())];
    if (!this.#direct()) lines.push(`then check the result with ffprobe and rename it -> ${this.#output}`);
    return lines;
  }

  /** Null outputs and allowed URLs are written in place: no claim, nothing to promote. */
  #direct(): boolean {
    return this.#kind === 'null' || this.#kind === 'url';
  }

  outputs(): string[] {
    return this.#direct() ? [] : [this.#output, ...this.#optionWrites.map((w) => w.path)];
  }

  inputs(): string[] {
    return [...this.#sourceCandidates().map((c) => c.path), ...this.#optionReads];
  }

  async run(): Promise<void> {
    const before = this.#maps.length;
    for (const [i, source] of this.#sources.entries()) {
      if (!this.#probes.has(i) && !this.#urls.has(i)) this.#probes.set(i, await this.#probe(i, 'run'));
    }
    this.#applyProbes();
    if (this.#maps.length !== before) for (const note of this.#notes) this.logger.info(note);
    const kind = this.#kind === 'sequence' || this.#kind === 'segments' ? this.#kind : 'file';
    const claim = this.#direct() ? undefined : await this.files.claim(this.#output, { field: 'output_file', overwrite: this.data.overwrite === true, kind });
    if (claim?.superseded) this.logger.warn(`took over the claim on ${this.#output}: ${claim.superseded.reason}`);
    const argv = this.argv(claim?.path ?? this.#output);
    this.logger.debug(formatCommand(argv));
    const totals = expectedOutput({ ...this.data, input_options: this.#inputOptions, sources: this.#sources }, this.#probes, this.#maps);
    const retries = this.settings.signal_retries ?? 1;

    let parser = new FfmpegProgressParser(totals);
    const report: EncodeReport = {};
    for (let attempt = 0; ; attempt++) {
      if (claim?.folder) await emptyFolder(claim.folder);
      parser = new FfmpegProgressParser(totals);
      try {
        await this.runner.run(argv[0]!, argv.slice(1), {
          cwd: this.scratch,
          onStdoutLine: (line) => {
            if (line.startsWith('frame=')) report.frames = Number(line.slice(6));
            else if (line.startsWith('out_time_us=')) {
              const us = Number(line.slice(12));
              if (Number.isFinite(us) && us >= 0) report.outSeconds = us / 1e6;
            }
            const progress = parser.push(line);
            if (progress) this.progress.report(progress);
          },
          stderrTailLines: 20,
        });
        break;
      } catch (error) {
        if (!(error instanceof ProcessError) || error.isCanceled || error.timedOut) throw error;
        if (error.signal && !error.notStarted && attempt < retries) {
          this.logger.warn(`ffmpeg was killed by ${error.signal}; starting again (attempt ${attempt + 2} of ${retries + 1})`);
          continue;
        }
        for (const line of error.stderrTail) this.logger.error(line);
        const how = error.signal ? `was killed by ${error.signal}${attempt ? ` ${attempt + 1} times` : ''}` : `exited with code ${error.exitCode}`;
        const summary = stderrSummary(error.stderrTail);
        throw new RunError(`ffmpeg ${how}${summary ? `: ${summary}` : ''}`, {
          cause: error,
          details: { exitCode: error.exitCode, signal: error.signal, stderrTail: error.stderrTail },
        });
      }
    }
    if (claim) await this.#promote(claim, report);
    this.progress.report(parser.succeeded());
  }

  /** Check what ffmpeg wrote against what it reported, then move it into place. */
  async #promote(claim: OutputClaim, report: EncodeReport): Promise<void> {
    if (claim.direct) {
      await claim.promote();
      return;
    }
    await claim.promote(async (files) => {
      if (this.#kind === 'sequence') verifySequence(files, report);
      else if (this.#kind === 'file') await verifyEncode(this.runner, this.#ffprobe, files[0]!, report);
      else await verifyEncode(this.runner, this.#ffprobe, claim.path, {});
    });
  }
}

/** Remove what a failed try left in the attempt's own folder, before the next try. */
async function emptyFolder(folder: string): Promise<void> {
  for (const name of await readdir(folder).catch(() => [] as string[])) await rm(join(folder, name), { recursive: true, force: true });
}
