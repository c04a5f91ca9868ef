import { access, rename, rm } from 'node:fs/promises';
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
  type DataStore,
  type JobOutputs,
  type Logger,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type TaskHandler,
  type RunOutcome,
} from '@sisyphus/core';
import { PROGRESS_ARGS, buildFfmpegArgs, stderrSummary, type ResolvedOutputMap } from './build-args.js';
import type { FfmpegData, FfmpegSettings } from './ffmpeg-schema.js';
import { resolveOptionSets } from './option-sets.js';
import { probe, type ProbeResult, type ProbedStream } from './probe.js';
import { FfmpegProgressParser } from './progress-parser.js';
import { checkOutputMaps, checkSourceMaps, expectedDuration, expectedFrames } from './stream-check.js';

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * The `ffmpeg` task: validates sources, maps and option sets before the job
 * runs (with ffprobe), encodes into a hidden partial file with live
 * progress, and renames it into place only when ffmpeg succeeded.
 */
@injectable()
export class FfmpegTask implements TaskHandler {
  #ffmpeg = '';
  #ffprobe = '';
  #sources: string[] = [];
  #output = '';
  #maps: ResolvedOutputMap[] = [];
  readonly #probes = new Map<number, ProbeResult>();
  #mapped?: ProbedStream[];
  /** Set when a finished encode could not be renamed into place: keep it. */
  #keepPartial = false;

  constructor(
    @inject(TOKENS.TaskData) private readonly data: FfmpegData,
    @inject(TOKENS.ModuleSettings) private readonly settings: FfmpegSettings,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.DataStore) private readonly store: DataStore,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async init(): Promise<void> {
    this.#ffmpeg = await requireExecutable('ffmpeg', this.settings.ffmpeg, 'settings.ffmpeg.ffmpeg');
    this.#ffprobe = await requireExecutable('ffprobe', this.settings.ffprobe, 'settings.ffmpeg.ffprobe');
  }

  async validate(): Promise<void> {
    const { data } = this;
    for (const [i, source] of data.sources.entries()) {
      await this.paths.check(source, `sources[${i}]`);
      this.#sources.push(this.paths.resolve(source));
    }
    await this.paths.check(data.output_file, 'output_file');
    this.#output = this.paths.resolve(data.output_file);
    if (this.#sources.includes(this.#output)) throw new ValidationError(`output_file ${this.#output} is also one of the sources`);
    for (const [i, map] of data.source_maps.entries()) {
      if (map.source >= data.sources.length) {
        throw new ValidationError(`source_maps[${i}].source is ${map.source} but there ${data.sources.length === 1 ? 'is only 1 source' : `are only ${data.sources.length} sources`}`);
      }
    }
    this.#maps = await resolveOptionSets(data.output_maps ?? [], this.store);

    for (const [i, source] of this.#sources.entries()) {
      if (await exists(source)) this.#probes.set(i, await probe(this.runner, this.#ffprobe, source, 'validate'));
      else if (!this.earlier.producedEarlier(source)) {
        throw new ValidationError(`sources[${i}]: ${source} does not exist (and no earlier task of the job writes it)`);
      }
    }
    this.#mapped = checkSourceMaps(data, this.#probes);
    if (this.#mapped) checkOutputMaps(this.#maps, this.#mapped);
    if (!data.overwrite && (await exists(this.#output))) {
      throw new ValidationError(`output_file ${this.#output} exists and overwrite is false`);
    }
  }

  /** The exact argv ffmpeg gets (program first). */
  argv(): string[] {
    const data = { ...this.data, sources: this.#sources };
    return [this.#ffmpeg, ...PROGRESS_ARGS, ...buildFfmpegArgs(data, this.#maps, partialPathFor(this.#output))];
  }

  plan(): string[] {
    return [formatCommand(this.argv()), `then rename ${partialPathFor(this.#output)} -> ${this.#output}`];
  }

  outputs(): string[] {
    return [this.#output];
  }

  async run(): Promise<void> {
    for (const [i, source] of this.#sources.entries()) {
      if (!this.#probes.has(i)) this.#probes.set(i, await probe(this.runner, this.#ffprobe, source, 'run'));
    }
    this.#mapped ??= checkSourceMaps(this.data, this.#probes);
    if (this.#mapped) checkOutputMaps(this.#maps, this.#mapped);
    const seconds = expectedDuration(this.data, this.#probes);
    const frames = expectedFrames(this.data, this.#mapped);
    const partial = partialPathFor(this.#output);
    const retries = this.settings.signal_retries ?? 1;
    const argv = this.argv();
    this.logger.debug(formatCommand(argv));

    for (let attempt = 0; ; attempt++) {
      await rm(partial, { force: true });
      const parser = new FfmpegProgressParser(seconds, frames);
      try {
        await this.runner.run(argv[0]!, argv.slice(1), {
          onStdoutLine: (line) => {
            const report = parser.push(line);
            if (report) this.progress.report(report);
          },
          stderrTailLines: 20,
        });
        break;
      } catch (error) {
        await rm(partial, { force: true });
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

    if (!this.data.overwrite && (await exists(this.#output))) {
      this.#keepPartial = true;
      throw new RunError(`output_file ${this.#output} appeared during the encode and overwrite is false; the encode is kept as ${partial}`);
    }
    await rename(partial, this.#output);
  }

  async cleanup(outcome: RunOutcome): Promise<void> {
    // The partial file of a failed or cancelled encode must never look complete.
    if (outcome.failed && !this.#keepPartial) {
      await rm(partialPathFor(this.#output), { force: true });
    }
  }
}
