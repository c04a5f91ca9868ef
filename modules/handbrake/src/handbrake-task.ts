import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import {
  ProcessError,
  RunError,
  TOKENS,
  ValidationError,
  findExecutable,
  findSameFile,
  formatCommand,
  inject,
  injectable,
  isSpecialTarget,
  refuseSpecialFile,
  requireExecutable,
  type JobOutputs,
  type Logger,
  type OutputFiles,
  type PathGuard,
  type ProcessRunner,
  type ProgressReporter,
  type TaskHandler,
} from '@sisyphus/core';
import { buildHandbrakeArgs, reviewHandbrakeData, type HandbrakeReview, type ResolvedFiles } from './handbrake-args.js';
import type { HandbrakeData, HandbrakeSettings } from './handbrake-schema.js';
import { HANDBRAKE_ERRORS, HandbrakeOutputReader, handbrakeReason, progressFrom, workDoneError } from './json-output.js';
import { describeStreams, probe, refuseIndirectSource, refuseTextSource, type Probed } from './probe.js';
import { expectedSeconds, verifyEncode } from './verify-output.js';

const exists = (path: string) => lstat(path).then(() => true, () => false);

/** Where the plan shows the attempt's private folder (its name is made at run time). */
const ATTEMPT_FOLDER = '.sisyphus-tmp-XXXXXXXXXXXX';
/** A DVD or Blu-ray folder is walked to this many entries at most (a real disc has a few hundred). */
const FOLDER_ENTRY_LIMIT = 20_000;
/** Lines of HandBrake's output kept for error messages. */
const TAIL = 60;

interface Input {
  path: string;
  given: string;
  field: string;
}

/**
 * The `handbrake` task. Validate: the data beyond its schema (what
 * HandBrakeCLI cannot run), every file it names inside the allowed roots,
 * the output not one of the inputs (by real identity), the source's tracks
 * (ffprobe) when it exists, the output's folder writable. Run: encode into
 * this attempt's private folder beside the output with progress from
 * `--json`, then check the result (HandBrake exits 0 on some failures) with
 * ffprobe and rename it into place.
 */
@injectable()
export class HandbrakeTask implements TaskHandler {
  #handbrake = '';
  #ffprobe = '';
  /** `stdbuf -oL` when there is one: HandBrakeCLI's stdout to a pipe is block-buffered, which holds progress back. */
  #lineBuffered: string[] = [];
  #review!: HandbrakeReview;
  #files: ResolvedFiles = {};
  #inputs: Input[] = [];
  #output = '';

  constructor(
    @inject(TOKENS.TaskData) private readonly data: HandbrakeData,
    @inject(TOKENS.ModuleSettings) private readonly settings: HandbrakeSettings,
    @inject(TOKENS.ProcessRunner) private readonly runner: ProcessRunner,
    @inject(TOKENS.PathGuard) private readonly paths: PathGuard,
    @inject(TOKENS.JobOutputs) private readonly earlier: JobOutputs,
    @inject(TOKENS.OutputFiles) private readonly files: OutputFiles,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
    @inject(TOKENS.Workspace) private readonly workspace: string,
  ) {}

  async init(): Promise<void> {
    this.#handbrake = await requireExecutable('HandBrakeCLI', this.settings.handbrake, 'settings.handbrake.handbrake', 'install HandBrakeCLI (Debian: handbrake-cli) or set settings.handbrake.handbrake');
    this.#ffprobe = await requireExecutable('ffprobe', this.settings.ffprobe, 'settings.handbrake.ffprobe', 'install ffmpeg or set settings.handbrake.ffprobe');
    const stdbuf = await findExecutable('stdbuf');
    this.#lineBuffered = stdbuf.path ? [stdbuf.path, '-oL'] : [];
  }

  async validate(): Promise<void> {
    this.#review = reviewHandbrakeData(this.data);
    const inputs = await this.#checkPaths('validate');
    for (const input of inputs) {
      if (!(await exists(input.path)) && !this.earlier.producedEarlier(input.path) && !this.earlier.producedEarlier(this.paths.resolve(input.given))) {
        throw new ValidationError(`${input.field}: ${this.paths.resolve(input.given)} does not exist (and no earlier task of the job writes it)`);
      }
    }
    if (await isSpecialTarget(this.#output)) {
      throw new ValidationError(`output_file: ${this.#output} is not a regular file; HandBrakeCLI writes a file, which is checked before it is put in place`);
    }
    // A source that exists already is checked now: a track it lacks is found before any task runs.
    const source = await this.#probeSource('validate');
    if (source) {
      this.#checkTracks(source, ValidationError);
      this.#checkStart(source, ValidationError);
    }
    await this.files.check(this.#output, 'output_file');
  }

  /**
   * Check every path the task uses against the allowed roots (source, the
   * SRT/SSA files, files encoder options name, the output) and keep the
   * real paths for HandBrakeCLI; the output and files encoder options write
   * must not be inputs. Run at validate and again right before the encode:
   * an earlier task (or anyone) may have swapped a folder for a symlink.
   */
  async #checkPaths(phase: 'validate' | 'run'): Promise<Input[]> {
    const E = phase === 'validate' ? ValidationError : RunError;
    const inputs: Input[] = [];
    const files: ResolvedFiles = {};
    const read = async (given: string, field: string) => {
      const path = await this.paths.check(given, field);
      // Opening a FIFO or a device (also through a symlink) blocks a thread for good.
      await refuseSpecialFile(path, field, phase);
      inputs.push({ path, given, field });
      return path;
    };
    files.source = await read(this.data.source, 'source');
    const st = await stat(files.source).catch(() => undefined);
    if (st?.isDirectory()) await this.#checkFolder(files.source, 'source', phase);
    const writes: Input[] = [];
    for (const ref of this.#review.files) {
      const path = ref.access === 'write' ? await this.paths.check(ref.value, ref.field) : await read(ref.value, ref.field);
      // A written file that is a FIFO or device would hang the encoder (read ones are refused in read()).
      if (ref.access === 'write') await refuseSpecialFile(path, ref.field, phase);
      if (ref.access !== 'read') writes.push({ path, given: ref.value, field: ref.field });
      // HandBrakeCLI splits --srt-file and --ssa-file on commas.
      if (/_file\[\d+\]$/.test(ref.field) && path.includes(',')) throw new E(`${ref.field}: the real path ${path} holds a comma, which HandBrakeCLI would split`);
      files[ref.field] = path;
    }
    const output = await this.paths.check(this.data.output_file, 'output_file');
    const same = await findSameFile(output, inputs);
    if (same) throw new E(`output_file ${this.paths.resolve(this.data.output_file)} is the same file as ${same.field} (${this.paths.resolve(same.given)})`, { details: { field: 'output_file' } });
    // What the encoder writes beside a file it is given (x264/x265 `stats`): beside its real path, each like an output.
    for (const ref of this.#review.files) {
      for (const suffix of ref.derived ?? []) {
        const field = `${ref.field} (${suffix})`;
        const path = `${files[ref.field]!}${suffix}`;
        const st = await lstat(path).catch(() => undefined);
        if (st?.isSymbolicLink()) throw new E(`${field}: ${path} is a symlink; the encoder writes ${basename(path)} beside ${basename(files[ref.field]!)} (through a symlink, then renamed over it), so it must be a plain file or absent`, { details: { field, path } });
        if (st && !st.isFile()) throw new E(`${field}: ${path} is not a regular file; the encoder writes it beside ${basename(files[ref.field]!)}`, { details: { field, path } });
        writes.push({ path: await this.paths.check(path, field), given: `${ref.value}${suffix}`, field });
      }
    }
    for (const w of writes) {
      const hit = await findSameFile(w.path, inputs.filter((i) => i.field !== w.field));
      if (hit) throw new E(`${w.field} names ${w.path}, which is the same file as ${hit.field}; an input is never written`);
      if (await findSameFile(w.path, [{ path: output }])) throw new E(`${w.field} names ${w.path}, which is output_file`);
    }
    files.output_file = output;
    this.#output = output;
    this.#files = files;
    this.#inputs = inputs;
    return inputs;
  }

  /**
   * A DVD or Blu-ray folder: HandBrake reads the files in it, so none may be
   * a symlink leading out of the allowed roots, or a FIFO or device.
   */
  async #checkFolder(dir: string, field: string, phase: 'validate' | 'run'): Promise<void> {
    const E = phase === 'validate' ? ValidationError : RunError;
    let seen = 0;
    const walk = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        if (++seen > FOLDER_ENTRY_LIMIT) throw new E(`${field}: the folder ${dir} holds more than ${FOLDER_ENTRY_LIMIT} entries; name a disc folder or a file`);
        const path = join(folder, entry.name);
        const where = `${field} (${relative(dir, path)})`;
        if (entry.isSymbolicLink()) {
          const real = await this.paths.check(path, where);
          await refuseSpecialFile(real, where, phase);
        } else if (entry.isDirectory()) await walk(path);
        else if (!entry.isFile()) throw new E(`${where}: ${path} is not a file or folder`);
      }
    };
    await walk(dir);
  }

  /**
   * ffprobe of the source when it is a file that exists; undefined otherwise
   * (a disc folder, or a file only HandBrake reads). A file read as a
   * playlist, list or other multi-file format (HLS, DASH, concat...) is
   * refused, and so is a text file ffprobe cannot read: HandBrake would
   * open the files named inside it, wherever they are.
   */
  async #probeSource(phase: 'validate' | 'run'): Promise<Probed | undefined> {
    const path = this.#files.source!;
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    let probed: Probed;
    try {
      probed = await probe(this.runner, this.#ffprobe, path);
    } catch (error) {
      if (error instanceof ProcessError && (error.isCanceled || error.timedOut)) throw error;
      await refuseTextSource(path, 'source', phase);
      // A disc image is read by HandBrake, not by ffprobe: HandBrake has the last word (and its reason, when it has none).
      this.logger.info(`source: ffprobe cannot read ${path} (${phase}); HandBrakeCLI will scan it`);
      return undefined;
    }
    refuseIndirectSource(probed, 'source', path, phase);
    return probed;
  }

  /**
   * `start_at` at or past the end of a source of known length: HandBrake
   * would encode nothing, write a container without frames and exit 0.
   */
  #checkStart(source: Probed, E: typeof ValidationError | typeof RunError): void {
    const { unit, start } = this.#review.range;
    if (!unit || start === undefined) return;
    const total = source.seconds ?? source.streams.find((s) => s.type === 'video')?.seconds;
    if (total === undefined) return;
    const at = unit === 'frames' ? (source.fps ? start / source.fps : undefined) : unit === 'pts' ? start / 90_000 : start;
    if (at === undefined || at < total) return;
    throw new E(`source_options.start_at.${unit} (${start}${unit === 'seconds' ? ' s' : ''}) is at or past the end of the source (${this.#files.source}, ${+total.toFixed(3)} s): nothing would be encoded`, {
      details: { field: `source_options.start_at.${unit}` },
    });
  }

  /** Track numbers the options name must exist in the source (HandBrake skips a missing one with a warning and exits 0). */
  #checkTracks(source: Probed, E: typeof ValidationError | typeof RunError): void {
    // A crop larger than the picture: HandBrake's filter graph fails, it says so and encodes without the crop.
    const crop = this.data.picture_options?.crop;
    if (crop && source.width && source.height) {
      const [tb, lr] = [(crop.top ?? 0) + (crop.bottom ?? 0), (crop.left ?? 0) + (crop.right ?? 0)];
      if (tb >= source.height || lr >= source.width) throw new E(`picture_options.crop removes ${tb >= source.height ? `${tb} of the source's ${source.height} rows` : `${lr} of the source's ${source.width} columns`}`);
    }
    const { audioTracks, subtitleTracks } = this.#review.expect;
    for (const [type, numbers, field] of [['audio', audioTracks, 'audio_options.audio'], ['subtitle', subtitleTracks, 'subtitles_options.subtitle']] as const) {
      const have = source.streams.filter((s) => s.type === type).length;
      const list = field === 'audio_options.audio' ? (this.data.audio_options?.audio ?? []) : Array.isArray(this.data.subtitles_options?.subtitle) ? this.data.subtitles_options.subtitle : [];
      for (const n of numbers) {
        if (n <= have) continue;
        const i = list.findIndex((x) => Number(x) === n);
        throw new E(`${field}[${i}] is track ${n} but the source (${this.#files.source}) has ${describeStreams(source.streams, type)} (tracks are numbered from 1)`);
      }
    }
  }

  #argv(output: string): string[] {
    return [...this.#lineBuffered, this.#handbrake, ...buildHandbrakeArgs(this.data, { ...this.#files, output_file: output })];
  }

  plan(): string[] {
    const writing = join(dirname(this.#output), ATTEMPT_FOLDER, basename(this.#output));
    return [formatCommand(this.#argv(writing)), `then check it with ffprobe (streams, codec, duration) and rename it -> ${this.#output}`];
  }

  outputs(): string[] {
    return [this.#output];
  }

  inputs(): string[] {
    return this.#inputs.map((i) => i.path);
  }

  async run(): Promise<void> {
    await this.#checkPaths('run');
    // Validate's check again: the output may have become a FIFO or device since (HandBrake would write into it and hang).
    if (await isSpecialTarget(this.#output)) throw new RunError(`output_file: ${this.#output} is not a regular file (any more); HandBrakeCLI writes a file, which is checked before it is put in place`, { details: { field: 'output_file' } });
    const source = await this.#probeSource('run');
    if (source) {
      this.#checkTracks(source, RunError);
      this.#checkStart(source, RunError);
    }
    const claim = await this.files.claim(this.#output, { field: 'output_file', overwrite: true });
    if (claim.direct) {
      await claim.discard();
      throw new RunError(`output_file: ${this.#output} is not a regular file; HandBrakeCLI writes a file, which is checked before it is put in place`, { details: { field: 'output_file' } });
    }
    if (claim.superseded) this.logger.warn(`took over the claim on ${this.#output}: ${claim.superseded.reason}`);
    const argv = this.#argv(claim.path);
    this.logger.debug(formatCommand(argv));

    const reader = new HandbrakeOutputReader();
    const tail: string[] = [];
    const keep = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL) tail.shift();
    };
    let doneError: number | undefined;
    const onStdoutLine = (line: string) => {
      const item = reader.push(line);
      if (item.kind === 'text') keep(item.text);
      if (item.kind !== 'block') return;
      const p = progressFrom(item.block);
      if (p) this.progress.report(p);
      doneError = workDoneError(item.block) ?? doneError;
    };
    // `mux: track 0, 0 frames, 0 bytes, ...`: what HandBrake put in each output track (track 0 is the video).
    const muxed = new Map<number, string>();
    const onStderrLine = (line: string) => {
      keep(line);
      const mux = /\bmux: track (\d+), (\d+) frames\b.*/.exec(line);
      if (mux) muxed.set(Number(mux[1]), mux[0]);
      if (/^Warning:/.test(line)) this.logger.warn(line);
    };
    try {
      // HandBrake's temporary files (two-pass statistics, previews) go to the task's scratch folder.
      await this.runner.run(argv[0]!, argv.slice(1), { cwd: this.workspace, env: { TMPDIR: this.workspace }, onStdoutLine, onStderrLine });
    } catch (error) {
      if (!(error instanceof ProcessError) || error.isCanceled || error.timedOut || error.notStarted) throw error;
      const code = error.exitCode;
      const meaning = code !== undefined && HANDBRAKE_ERRORS[code] ? `: ${HANDBRAKE_ERRORS[code]}` : '';
      throw this.#failure(`HandBrakeCLI failed (${code !== undefined ? `exit ${code}${meaning}` : `killed by ${error.signal}`})`, tail, { cause: error, exitCode: code });
    }
    if (doneError) throw this.#failure(`HandBrakeCLI reported error ${doneError}${HANDBRAKE_ERRORS[doneError] ? ` (${HANDBRAKE_ERRORS[doneError]})` : ''} and exited 0`, tail, { exitCode: 0 });
    // HandBrakeCLI exits 0 when it stops before encoding (an option it refuses, a title it lacks).
    const written = await stat(claim.path).catch(() => undefined);
    if (!written?.size) throw this.#failure(`HandBrakeCLI exited 0 but wrote ${written ? 'an empty file' : 'nothing'}`, tail, { exitCode: 0 });
    // A container without frames (start_at past the end of a source of unknown length, say): HandBrake's own count is the reason.
    const video = muxed.get(0);
    if (video && /, 0 frames\b/.test(video)) throw this.#failure(`HandBrakeCLI exited 0 but wrote no video frames (${written.size} bytes)`, tail, { exitCode: 0, also: [video] });

    const expected = { ...this.#review.expect, ...(source?.fps ? { fps: source.fps } : {}) };
    const seconds = expectedSeconds(this.#review.range, source);
    const said = handbrakeReason(tail).filter((l) => /warning|skipp|could not|invalid|error/i.test(l));
    await claim.promote(([file]) => verifyEncode(this.runner, this.#ffprobe, file!, { ...expected, ...(seconds !== undefined ? { seconds } : {}) }, said));
    this.progress.report({ percent: 100 });
  }

  /** A RunError with HandBrake's own reason (the telling lines it printed last) and the last 20 lines in `details`. */
  #failure(what: string, tail: readonly string[], extra: { cause?: unknown; exitCode?: number; also?: string[] }): RunError {
    const reason = extra.also ?? handbrakeReason(tail);
    const lines = tail.slice(-20);
    for (const line of lines) this.logger.error(line);
    return new RunError(`${what}: ${reason.join('; ') || 'no message'}`, {
      ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
      details: { exitCode: extra.exitCode, reason, lines },
    });
  }
}
