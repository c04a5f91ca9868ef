import { access, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  ErrorCodes,
  ProcessError,
  RunError,
  TOKENS,
  ValidationError,
  findSameFile,
  refuseSpecialFile,
  removeTree,
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
  type RunOutcome,
  type TaskChildren,
  type TaskHandler,
  type TaskInfo,
} from '@sisyphus/core';
import { PROGRESS_ARGS, buildFfmpegArgs, stderrSummary, type ResolvedOutputMap } from './build-args.js';
import type { FfmpegData, FfmpegSettings } from './ffmpeg-schema.js';
import { resolveOptionSets } from './option-sets.js';
import { probe, type ProbeResult } from './probe.js';
import { probeKey, recentProbes } from './recent-probes.js';
import { FfmpegProgressParser } from './progress-parser.js';
import { checkSourceMaps, expectedOutput } from './stream-check.js';
import { applicableOutputMaps, mappedOutput } from './output-streams.js';
import { outputKind, refuseGlobPattern, reviewFfmpegOptions, reviewPathField, type OptionPolicy, type OptionReview } from './option-policy.js';
import { REFUSED_INPUT_FORMATS } from './ffmpeg-option-table.js';
import { verifyEncode, verifySegments, verifySequence, type EncodeReport } from './verify-output.js';
import { refuseUnchunkable } from './chunking/chunk-refusals.js';
import { concatList, expandSourceMaps, joinArgs, type OutputStreamSource } from './chunking/chunk-join.js';
import { asChunkState, chunkCleanupJob, chunkJobs, type ChunkState } from './chunking/chunk-job.js';
import { closeChunkFolder, handingOver, isChunkFolderNamed, isChunkFolderOf, openChunkFolder } from './chunking/chunk-folder.js';
import { chunkCountBound, planChunks, refuseChunkCount, refuseVideoStream, videoSpan } from './chunking/chunk-plan.js';
import { sourceEnds, verifyChunks, verifyJoin } from './chunking/chunk-verify.js';
import { scanPackets, type PacketScan, type ScannedStream } from './chunking/packet-scan.js';
import { splitOutputMaps, type SplitMaps } from './chunking/option-split.js';
import { identityChange, sourceIdentity, type SourceIdentity } from './chunking/source-identity.js';

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
  /** Sources as ffmpeg gets them: the real paths from the latest check (the URL itself for an allowed protocol). */
  #sources: string[] = [];
  /** Sources as the job names them (resolved against the workdir), for messages. */
  #sourceNames: string[] = [];
  /** Indices of sources that are URLs of allowed protocols (not probed, not checked as paths). */
  readonly #urls = new Set<number>();
  /** Sources after `reviewPathField` (the `file:` prefix removed). */
  #sourcePaths: string[] = [];
  #outputPath = '';
  #review?: OptionReview;
  #inputOptions: FfmpegData['input_options'];
  /** Files option values read, and write (real paths of the latest check); media files ffmpeg opens with format detection. */
  #optionReads: string[] = [];
  #optionWrites: Array<{ field: string; path: string }> = [];
  #optionMedia: Array<{ field: string; path: string }> = [];
  #output = '';
  #kind: Kind = 'file';
  #maps: ResolvedOutputMap[] = [];
  #notes: string[] = [];
  readonly #probes = new Map<number, ProbeResult>();
  #running = false;
  /** What each source was when it was probed: a probe is reused at run only for the very same, unchanged file. */
  readonly #probedAs = new Map<number, string>();
  /** Packet scans of sources (chunking), by source index, with what the file was when scanned (as `#probedAs`). */
  readonly #scans = new Map<number, { seen: string; scan: PacketScan }>();
  /** The output maps with option sets merged, before the option review (what a chunk plan keeps). */
  #withSets: ResolvedOutputMap[] = [];
  /** The chunk folder this run made (`plan`) or joins from (`join`), for `cleanup`. */
  #chunkFolder?: { path: string; phase: 'plan' | 'join' };

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
    @inject(TOKENS.Children) private readonly children: TaskChildren,
    @inject(TOKENS.TaskInfo) private readonly info: TaskInfo,
  ) {}

  async init(): Promise<void> {
    this.#ffmpeg = await requireExecutable('ffmpeg', this.settings.ffmpeg, 'settings.ffmpeg.ffmpeg');
    this.#ffprobe = await requireExecutable('ffprobe', this.settings.ffprobe, 'settings.ffmpeg.ffprobe');
  }

  async validate(): Promise<void> {
    const { data } = this;
    const policy: OptionPolicy = { allowedProtocols: this.settings.allowed_protocols ?? [] };
    for (const [i, source] of data.sources.entries()) {
      const reviewed = reviewPathField(source, `sources[${i}]`, policy);
      if (reviewed.kind === 'url') this.#urls.add(i);
      this.#sourcePaths.push(reviewed.kind === 'url' ? source : reviewed.path);
    }
    await this.#checkSources();
    await this.#checkChunkOf();
    for (const [i, map] of data.source_maps.entries()) {
      if (map.source >= data.sources.length) {
        throw new ValidationError(`source_maps[${i}].source is ${map.source} but there ${data.sources.length === 1 ? 'is only 1 source' : `are only ${data.sources.length} sources`}`);
      }
    }
    // A chunked encode's resumed run uses the options its plan resolved (sets are resolved once).
    const planned = data.chunking && this.children.resumed ? asChunkState(this.children.resumed.state) : undefined;
    const withSets = planned ? planned.maps : await resolveOptionSets(data.output_maps ?? [], this.store);
    this.#withSets = withSets;
    this.#review = reviewFfmpegOptions(data, withSets, policy);
    await this.#checkOptionFiles();

    const output = reviewPathField(data.output_file, 'output_file', policy);
    this.#kind = output.kind === 'url' ? 'url' : outputKind({ output_file: output.path }, this.#maps);
    this.#outputPath = output.kind === 'url' ? data.output_file : output.path;
    this.#checkOutputName();
    await this.#checkOutput();

    for (const [i, source] of this.#sources.entries()) {
      if (this.#urls.has(i)) continue;
      if (await exists(source)) this.#probes.set(i, await this.#probe(i, 'validate'));
      else if (!this.earlier.producedEarlier(this.#sourceNames[i]!) && !this.earlier.producedEarlier(source)) {
        throw new ValidationError(`sources[${i}]: ${this.#sourceNames[i]} does not exist (and no earlier task of the job writes it)`);
      }
    }
    for (const media of this.#optionMedia) if (await exists(media.path)) await this.#probeMedia(media, 'validate');
    this.#applyProbes();
    if (this.#kind === 'file' || this.#kind === 'sequence' || this.#kind === 'segments') {
      await this.files.check(this.#output, 'output_file');
      if (!data.overwrite && (await exists(this.#output))) {
        throw new ValidationError(`output_file ${this.#output} exists and overwrite is false`);
      }
      if (!data.overwrite) await this.#checkSetNotPresent();
    }
    if (data.chunking) await this.#validateChunking();
  }

  /**
   * Refuse what cannot be encoded in chunks (see `refuseUnchunkable`); with
   * the video's source at hand, scan its packets (a demux) and refuse a
   * variable frame rate. A resumed run has its plan already: no scan.
   */
  async #validateChunking(): Promise<void> {
    if (this.children.resumed) return;
    const checked = this.#chunkingCheck();
    if (!checked) return;
    const from = checked.streams[checked.video]!;
    const scan = await this.#scan(from.source, 'validate');
    const video = scan.streams.get(from.stream);
    refuseVideoStream(video, `sources[${from.source}] stream ${from.stream}`);
    refuseChunkCount(chunkCountBound(videoSpan(video as ScannedStream & { pts: number[] }), this.data.chunking!.seconds), ValidationError, true);
  }

  /**
   * A chunk of a chunked encode (`chunk_of`) encodes only the very file its
   * parent planned: `sources[0]` replaced or changed since then is refused
   * (the parent's join would refuse it too, after every chunk).
   */
  async #checkChunkOf(): Promise<void> {
    const of = this.data.chunk_of;
    if (!of || this.#urls.has(0)) return;
    const change = identityChange(of.source, await sourceIdentity(this.#sources[0]!));
    if (change) {
      const E = this.#phase === 'validate' ? ValidationError : RunError;
      throw new E(`sources[0] changed since the chunks of job ${of.job_id} were planned (${change}); this chunk is not encoded`, { details: { field: 'sources[0]' } });
    }
  }

  /** The refusals over the task data and probes; with every source probed, the split of the options and the output's streams. */
  #chunkingCheck(): { split: SplitMaps; video: number; streams: OutputStreamSource[] } | undefined {
    const output = mappedOutput(this.data, this.#probes);
    const streams = output ? expandSourceMaps(this.data, this.#probes) : undefined;
    const checked = refuseUnchunkable({
      data: this.data,
      maps: this.#maps,
      kind: this.#kind,
      ...(output ? { output: output.streams, outputSources: streams!.map((s) => s.source) } : {}),
      urls: this.#urls,
      files: this.#review?.files ?? [],
    });
    return checked && streams ? { ...checked, streams } : undefined;
  }

  /** The packet scan of source `i`, reused while the file is the very same, unchanged (as probes are). */
  async #scan(i: number, phase: 'validate' | 'run'): Promise<PacketScan> {
    const path = this.#sources[i]!;
    const st = await stat(path).catch(() => undefined);
    const seen = st ? `${path}|${st.dev}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}` : '';
    const known = this.#scans.get(i);
    if (known && seen && known.seen === seen) return known.scan;
    const scan = await scanPackets(this.runner, this.#ffprobe, path, phase);
    if (seen) this.#scans.set(i, { seen, scan });
    return scan;
  }

  /** The output format the options set (`f` in a map without specifier), lower case. */
  #format(): string | undefined {
    let format: string | undefined;
    for (const map of this.#maps) for (const [k, v] of Object.entries(map.options ?? {})) if (k.split(':')[0] === 'f' && typeof v === 'string') format = v.toLowerCase();
    return format;
  }

  /** What can be told from the name and format alone, before anything runs. */
  #checkOutputName(): void {
    const name = this.data.output_file;
    if (this.#kind === 'url') return;
    if (/[/\\]$/.test(name)) throw new ValidationError(`output_file ${JSON.stringify(name)} ends with a slash: name the file to write`);
    if (this.#outputPath === '/dev/null' && this.#format() === undefined) {
      throw new ValidationError('output_file /dev/null needs a format: give f (e.g. f: null) in an output map without specifier');
    }
    const format = this.#format();
    if ((format === 'segment' || format === 'ssegment' || format === 'stream_segment') && !/%0?\d*d/.test(basename(name).replace(/%%/g, ''))) {
      throw new ValidationError(`output_file ${JSON.stringify(basename(name))}: the ${format} muxer numbers its files; put a number pattern in the name (part%03d.ts)`);
    }
    const playlist = format === 'hls' || format === 'dash' || (format === undefined && /\.(m3u8|mpd)$/i.test(name));
    if (this.#kind === 'segments' && playlist && /[$%]/.test(stemOf(name).replace(/%v/g, '').replace(/%%/g, ''))) {
      throw new ValidationError(`output_file ${JSON.stringify(basename(name))}: a playlist name may not contain $ or % (other than %v), as the muxer reads them as patterns`);
    }
  }

  /**
   * Without overwrite, files of the set this output writes (a sequence's
   * numbered files; a playlist's segments, named after it) must not exist:
   * found now, not after the encode.
   */
  async #checkSetNotPresent(): Promise<void> {
    if (this.#kind !== 'sequence' && this.#kind !== 'segments') return;
    const dir = dirname(this.#output);
    const name = basename(this.#output);
    const format = this.#format();
    const numbered = this.#kind === 'sequence' || format === 'segment' || format === 'ssegment' || format === 'stream_segment';
    const stem = stemOf(name);
    const pattern = numbered
      ? new RegExp(`^${name.split(/(%0?\d*d|%%)/).map((part) => (/^%0?\d*d$/.test(part) ? '\\d+' : part === '%%' ? '%' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`)
      : new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[-_0-9]`);
    const present = (await readdir(dir).catch(() => [] as string[])).filter((n) => pattern.test(n)).sort();
    if (present.length) {
      throw new ValidationError(`output_file: ${present.length} file${present.length === 1 ? '' : 's'} of this ${this.#kind === 'sequence' ? 'sequence' : 'set'} exist already in ${dir} (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}) and overwrite is false`);
    }
  }

  /**
   * HLS with fMP4 segments and DASH name their init and media files the same
   * whatever the playlist is called (`init.mp4`, `init-stream0.m4s`): two
   * sets in one folder would overwrite each other's. The module names them
   * after the playlist (those options are not for jobs to set).
   */
  #setNames(): ResolvedOutputMap[] {
    if (this.#kind !== 'segments') return [];
    const stem = stemOf(this.#output);
    const format = this.#format() ?? (this.#output.toLowerCase().endsWith('.mpd') ? 'dash' : this.#output.toLowerCase().endsWith('.m3u8') ? 'hls' : undefined);
    const fmp4 = this.#maps.some((m) => Object.entries(m.options ?? {}).some(([k, v]) => k === 'hls_segment_type' && String(v).toLowerCase() === 'fmp4'));
    if (format === 'hls' && fmp4) return [{ options: { hls_fmp4_init_filename: `${stem}_init.mp4` } }];
    if (format === 'dash') {
      return [{ options: { init_seg_name: `${stem}-init-stream$RepresentationID$.$ext$`, media_seg_name: `${stem}-chunk-stream$RepresentationID$-$Number%05d$.$ext$` } }];
    }
    return [];
  }

  /**
   * Check every source against the allowed roots and keep the real path
   * for ffmpeg. Run again right before the encode: an earlier task (or
   * anyone) may have swapped a folder for a symlink since validate.
   */
  async #checkSources(): Promise<void> {
    const sources: string[] = [];
    const names: string[] = [];
    for (const [i, path] of this.#sourcePaths.entries()) {
      if (this.#urls.has(i)) {
        sources.push(path);
        names.push(path);
        continue;
      }
      refuseGlobPattern(path, `sources[${i}]`);
      const real = await this.paths.check(path, `sources[${i}]`);
      refuseGlobPattern(real, `sources[${i}]`);
      await refuseSpecialFile(real, `sources[${i}]`, this.#phase);
      sources.push(real);
      names.push(this.paths.resolve(path));
    }
    this.#sources = sources;
    this.#sourceNames = names;
  }

  /**
   * Every option value that names a file, folder, URL or protocol (also
   * inside filter graphs and encoder parameter strings) is checked against
   * the allowed roots, or refused (see docs/modules.md); the argv gets the
   * real paths of this check. Run again right before the encode.
   */
  async #checkOptionFiles(): Promise<void> {
    const review = this.#review!;
    const resolved = new Map<string, string>();
    const reads: string[] = [];
    const writes: Array<{ field: string; path: string }> = [];
    const media: Array<{ field: string; path: string }> = [];
    for (const ref of review.files) {
      const real = await this.paths.check(ref.path, ref.field);
      await refuseSpecialFile(real, ref.field, this.#phase);
      resolved.set(ref.field, real);
      if (ref.kind === 'prefix') await this.#checkPrefixFiles(real, ref.field);
      if (ref.access === 'read') reads.push(real);
      else {
        // Anything ffmpeg may write (a two-pass log too, which is scratch state: neither a source nor a result) is never a source.
        const same = await findSameFile(real, this.#sourceCandidates());
        if (same) throw new ValidationError(`${ref.field} names ${real}, which is the same file as ${same.field}; a source is never written`, { details: { field: ref.field } });
        if (ref.access !== 'readwrite') writes.push({ field: ref.field, path: real });
      }
      if (ref.media) {
        refuseGlobPattern(ref.path, ref.field);
        refuseGlobPattern(real, ref.field);
        media.push({ field: ref.field, path: real });
      }
    }
    for (const written of writes) {
      // ffmpeg writes these side files in place: without overwrite, an existing one is never replaced.
      if (!this.data.overwrite && (await exists(written.path)) && !this.earlier.producedEarlier(written.path)) {
        const E = this.#phase === 'validate' ? ValidationError : RunError;
        throw new E(`${written.field}: ${written.path} exists and overwrite is false`, { details: { field: written.field } });
      }
    }
    const safe = review.apply(resolved);
    this.#inputOptions = safe.input_options;
    this.#maps = safe.output_maps;
    this.#optionReads = reads;
    this.#optionWrites = writes.filter((w) => !reads.includes(w.path));
    this.#optionMedia = media;
  }

  /**
   * A two-pass log option names a prefix: ffmpeg writes `PREFIX-N.log`
   * (and x264 `PREFIX-N.log.mbtree`) beside it, following symlinks. Every
   * such name that exists must resolve inside the roots too.
   */
  async #checkPrefixFiles(prefix: string, field: string): Promise<void> {
    const dir = dirname(prefix);
    const stem = `${basename(prefix)}-`;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(stem)) continue;
      const path = join(dir, name);
      await this.paths.check(path, `${field} (${name})`);
      await refuseSpecialFile(path, `${field} (${name})`, this.#phase);
    }
  }

  /** Where the task is: errors of the same check are ValidationErrors before the run, RunErrors in it. */
  get #phase(): 'validate' | 'run' {
    return this.#running ? 'run' : 'validate';
  }

  /** Check the output path (again right before the encode) and compare it with the sources by real identity. */
  async #checkOutput(): Promise<void> {
    if (this.#kind === 'url') {
      this.#output = this.#outputPath;
      return;
    }
    if (this.#outputPath === '/dev/null') {
      this.#output = '/dev/null';
      return;
    }
    this.#output = await this.paths.check(this.#outputPath, 'output_file');
    const same = await findSameFile(this.#output, this.#sourceCandidates());
    if (same) {
      throw new ValidationError(`output_file ${this.paths.resolve(this.#outputPath)} is the same file as ${same.field} (${same.named})`, {
        details: { field: 'output_file' },
      });
    }
  }

  /** The sources that are files, by real path, with their field and the path as the job named it. */
  #sourceCandidates(): Array<{ path: string; field: string; named: string }> {
    return this.#sources.flatMap((path, i) => (this.#urls.has(i) ? [] : [{ path, field: `sources[${i}]`, named: this.#sourceNames[i]! }]));
  }

  /** A file a filter opens as media (movie, subtitles) is probed like a source: no playlists there either. */
  async #probeMedia(media: { field: string; path: string }, phase: 'validate' | 'run'): Promise<void> {
    const result = await probe(this.runner, this.#ffprobe, media.path, phase);
    this.#refuseIndirect(result, media.field, media.path, phase);
  }

  #refuseIndirect(result: ProbeResult, field: string, path: string, phase: 'validate' | 'run'): void {
    const refused = (result.format.format_name ?? '').split(',').find((name) => REFUSED_INPUT_FORMATS.has(name));
    if (!refused) return;
    const E = phase === 'validate' ? ValidationError : RunError;
    throw new E(`${field}: ${path} is read by ffmpeg as "${refused}", which ${REFUSED_INPUT_FORMATS.get(refused)}; such sources are refused`, {
      details: { field, format: refused },
    });
  }

  /**
   * ffprobe a source; a playlist or other file that makes ffmpeg open
   * further files is refused. A probe is reused only for the very same
   * file, unchanged (device, inode, size, mtime and ctime: any write
   * changes ctime): at run, the probe of validate; and any task's recent
   * probe of it in this process (`recentProbes`: the chunks of one source).
   * An earlier task that replaced it gets it probed again.
   */
  async #probe(i: number, phase: 'validate' | 'run'): Promise<ProbeResult> {
    const path = this.#sources[i]!;
    const st = await stat(path).catch(() => undefined);
    const seen = st ? `${path}|${st.dev}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}` : undefined;
    const known = this.#probes.get(i);
    if (phase === 'run' && known && seen !== undefined && this.#probedAs.get(i) === seen) return known;
    const key = await probeKey(this.#ffprobe, path);
    let result = key === undefined ? undefined : recentProbes.get(key);
    if (!result) {
      result = await probe(this.runner, this.#ffprobe, path, phase);
      // Kept only when ffprobe read the very file the key names (it was not swapped meanwhile).
      if (key !== undefined && key === (await probeKey(this.#ffprobe, path))) recentProbes.set(key, result);
    }
    this.#refuseIndirect(result, `sources[${i}]`, this.#sourceNames[i]!, phase);
    if (seen !== undefined) this.#probedAs.set(i, seen);
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
    return [this.#ffmpeg, ...PROGRESS_ARGS, ...buildFfmpegArgs(data, [...this.#maps, ...this.#setNames()], outputPath)];
  }

  plan(): string[] {
    const chunking = this.data.chunking;
    if (chunking) {
      return [
        ...this.#notes,
        `encode the video in chunks of about ${chunking.seconds} s, cut at ${chunking.cut === 'keyframe' ? 'the source\'s keyframes' : 'scene changes'}, each chunk a child job (an ffmpeg task)`,
        `then join the chunks with the other streams (concat demuxer, video copied), check the result and rename it -> ${this.#output}`,
      ];
    }
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

  /**
   * Everything again, right before the encode: an earlier task may have replaced a source
   * (stale probe) or swapped a folder for a symlink (stale path check) since validate.
   */
  async #recheck(): Promise<void> {
    this.#running = true;
    await this.#checkSources();
    await this.#checkChunkOf();
    await this.#checkOptionFiles();
    await this.#checkOutput();
    const before = this.#maps.length;
    for (const i of this.#sources.keys()) if (!this.#urls.has(i)) this.#probes.set(i, await this.#probe(i, 'run'));
    for (const media of this.#optionMedia) await this.#probeMedia(media, 'run');
    this.#applyProbes();
    if (this.#maps.length !== before) for (const note of this.#notes) this.logger.info(note);
  }

  async run(): Promise<void> {
    await this.#recheck();
    if (this.data.chunking) return this.children.resumed ? this.#joinChunks() : this.#planChunks();
    const kind = this.#kind === 'sequence' || this.#kind === 'segments' ? this.#kind : 'file';
    const claim = this.#direct() ? undefined : await this.files.claim(this.#output, { field: 'output_file', overwrite: this.data.overwrite === true, kind });
    if (claim?.superseded) this.logger.warn(`took over the claim on ${this.#output}: ${claim.superseded.reason}`);
    const argv = this.argv(claim?.path ?? this.#output);
    this.logger.debug(formatCommand(argv));
    const totals = expectedOutput({ ...this.data, input_options: this.#inputOptions, sources: this.#sources }, this.#probes, this.#maps);
    const retries = this.settings.signal_retries ?? 1;

    let parser = new FfmpegProgressParser(totals);
    const report: EncodeReport = {};
    let stderr: readonly string[] = [];
    for (let attempt = 0; ; attempt++) {
      if (claim?.folder) await emptyFolder(claim.folder);
      parser = new FfmpegProgressParser(totals);
      try {
        const done = await this.runner.run(argv[0]!, argv.slice(1), {
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
        stderr = done.stderrTail;
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
    if (claim) await this.#promote(claim, report, stderr);
    this.progress.report(parser.succeeded());
  }

  /**
   * First run of a chunked encode: plan the cuts, make the chunk folder
   * beside the output, and hand one ffmpeg child job per chunk to the
   * server (this run ends there; the task runs again when they have all
   * completed). A cleanup job removes the folder if the job fails or is
   * cancelled meanwhile.
   */
  async #planChunks(): Promise<never> {
    const checked = this.#chunkingCheck();
    if (!checked) throw new RunError('chunking: the sources could not all be probed');
    const { split, video, streams } = checked;
    const from = streams[video]!;
    // The folder first: a second run writing this output is refused before any work.
    // Everything the task reads (sources, files named in option values), as named and as real paths: never swept with a
    // leftover (a source named through a link in a leftover folder is read through that link).
    const named = [...this.#sourceNames.filter((_, i) => !this.#urls.has(i)), ...(this.#review?.files ?? []).filter((f) => f.access !== 'write').map((f) => this.paths.resolve(f.path))];
    const reads = new Set([...this.inputs(), ...this.#optionMedia.map((m) => m.path), ...named]);
    const inputs = new Set(reads);
    for (const path of reads) inputs.add(await realpath(path).catch(() => path));
    const opened = await openChunkFolder(this.#output, this.info.jobId, this.children.inline, [...inputs]);
    const folder = opened.folder;
    this.#chunkFolder = { path: folder, phase: 'plan' };
    for (const gone of opened.removed) this.logger.info(`removed ${gone}: chunks of an earlier run of this job or this output whose process is gone`);
    for (const { folder: other, job, why } of opened.kept) {
      this.logger.info(`left ${other} alone: ${why} (remove it by hand once no run of ${job === this.info.jobId ? 'this job' : `job ${job}`} uses it)`);
    }
    await this.paths.check(folder, 'output_file (its chunk folder)');
    const scan = await this.#scan(from.source, 'run');
    const codec = this.#probes.get(from.source)?.streams.find((s) => s.index === from.stream)?.codec_name;
    const plan = await planChunks(this.runner, this.#ffmpeg, this.#sources[from.source]!, scan, from.stream, codec, this.data.chunking!);
    const scans = new Map<number, PacketScan>([[from.source, scan]]);
    for (const s of streams) if (s.codecType === 'audio' && !scans.has(s.source) && !this.#urls.has(s.source)) scans.set(s.source, await this.#scan(s.source, 'run'));
    const ends = sourceEnds(streams, video, scans);

    const identities: Array<SourceIdentity | null> = [];
    for (const [i, path] of this.#sources.entries()) {
      const id = this.#urls.has(i) ? null : await sourceIdentity(path);
      if (id === undefined) throw new RunError(`sources[${i}]: ${this.#sourceNames[i]} cannot be read`, { details: { field: `sources[${i}]` } });
      identities.push(id);
    }
    const spec = {
      source: this.#sources[from.source]!,
      stream: from.stream,
      ...(from.source === 0 && this.#inputOptions ? { inputOptions: this.#inputOptions } : {}),
      maps: split.chunk,
    };
    const counts = plan.chunks.map((c) => c.frames);
    const clean = plan.chunks.filter((c) => c.clean_start).length;
    this.logger.info(
      `chunked encode: ${plan.total_frames} frames in ${plan.chunks.length} chunk${plan.chunks.length === 1 ? '' : 's'} (${Math.min(...counts)}-${Math.max(...counts)} frames, cut at ${plan.settings.cut === 'keyframe' ? 'keyframes' : 'scene changes'}${plan.open_gop ? '; open GOPs' : ''}; ${clean} start${clean === 1 ? 's' : ''} at a clean keyframe) in ${folder}`,
    );
    const state: ChunkState = { version: 3, folder, plan, ends, sources: identities, maps: this.#withSets, video };
    const videoSource = identities[from.source];
    const chunkOf = videoSource ? { job_id: this.info.jobId, source: videoSource } : undefined;
    await handingOver(folder, opened.owner);
    this.children.wait(chunkJobs(this.info.jobTitle, spec, plan, folder, chunkOf), { state, finally: chunkCleanupJob(this.info.jobTitle, folder) });
  }

  /**
   * The resumed run of a chunked encode: every chunk is there with its
   * planned frame count; join them with the other streams (encoded here,
   * once) into this attempt's claim of the output, verify the result
   * against the plan and the source, promote it, remove the chunk folder.
   */
  async #joinChunks(): Promise<void> {
    const state = asChunkState(this.children.resumed!.state);
    if (!state) throw new RunError('chunking: the job resumed without its chunk plan (it was made by another version?); retry it');
    for (const [i, planned] of state.sources.entries()) {
      if (!planned || i >= this.#sources.length) continue;
      const change = identityChange(planned, await sourceIdentity(this.#sources[i]!));
      if (change) {
        throw new RunError(`sources[${i}] changed since the chunks were planned (${change}); the chunks cannot be joined: retry the job to encode it again`, { details: { field: `sources[${i}]` } });
      }
    }
    const output = mappedOutput(this.data, this.#probes);
    if (!output) throw new RunError('chunking: the sources could not all be probed');
    // The plan's options (this.#maps comes from state.maps), split as the plan split them; no refusal is checked again.
    const checked = { streams: expandSourceMaps(this.data, this.#probes), video: state.video, split: splitOutputMaps(this.#maps, output.streams, state.video) };
    const { plan, folder, ends } = state;
    if (!isChunkFolderOf(folder, this.#output, this.info.jobId)) throw new RunError(`chunking: the chunks are in ${folder}, not beside output_file ${this.#output}`);
    this.#chunkFolder = { path: folder, phase: 'join' };
    await this.paths.check(folder, 'output_file (its chunk folder)');
    const starts = await verifyChunks(this.runner, this.#ffmpeg, this.#ffprobe, folder, plan);
    const list = join(folder, 'chunks.ffconcat');
    await writeFile(list, concatList(plan, starts));

    const claim = await this.files.claim(this.#output, { field: 'output_file', overwrite: this.data.overwrite === true, kind: 'file' });
    if (claim.superseded) this.logger.warn(`took over the claim on ${this.#output}: ${claim.superseded.reason}`);
    const spec = { sources: this.#sources, inputOptions: this.#inputOptions, streams: checked.streams, video: checked.video, list, maps: checked.split.join, output: claim.path, overwrite: true };
    const argv = [this.#ffmpeg, ...PROGRESS_ARGS, ...joinArgs(plan, spec)];
    this.logger.debug(formatCommand(argv));
    const totals = expectedOutput({ ...this.data, input_options: this.#inputOptions, sources: this.#sources }, this.#probes, this.#maps);
    const parser = new FfmpegProgressParser(totals);
    try {
      await this.runner.run(argv[0]!, argv.slice(1), {
        cwd: this.scratch,
        onStdoutLine: (line) => {
          const progress = parser.push(line);
          if (progress) this.progress.report(progress);
        },
        stderrTailLines: 20,
      });
    } catch (error) {
      if (!(error instanceof ProcessError) || error.isCanceled || error.timedOut) throw error;
      for (const line of error.stderrTail) this.logger.error(line);
      const summary = stderrSummary(error.stderrTail);
      throw new RunError(`chunking: the join (ffmpeg) ${error.signal ? `was killed by ${error.signal}` : `exited with code ${error.exitCode}`}${summary ? `: ${summary}` : ''}`, {
        cause: error,
        details: { exitCode: error.exitCode, signal: error.signal, stderrTail: error.stderrTail },
      });
    }
    await claim.promote((files) => verifyJoin(this.runner, this.#ffprobe, files[0]!, plan, { video: checked.video, ends }));
    this.progress.report(parser.succeeded());
  }

  /**
   * The chunk folder goes once the join succeeded, or when the first run
   * failed before handing over its chunks. It stays while the chunks run,
   * and after a failed join: a retry of the job's resumed run joins the
   * same chunks, and if none comes, the job's cleanup job removes them.
   */
  async cleanup(outcome: RunOutcome): Promise<void> {
    // A chunk that failed inline ends its parent's run in this process: the parent's folder is no longer in use here
    // (the parent's finally job removes it).
    const of = this.data.chunk_of;
    if (of && this.#output && outcome.failed && this.children.inline && this.info.jobId.startsWith(`${of.job_id}-`) && isChunkFolderNamed(dirname(this.#output), of.job_id)) {
      await closeChunkFolder(dirname(this.#output), false);
    }
    const folder = this.#chunkFolder;
    if (!folder) return;
    if (outcome.waiting) {
      // Handed to a server: its workers encode and join the chunks, this process need not outlive them.
      if (!this.children.inline) await closeChunkFolder(folder.path, false);
      return;
    }
    if (folder.phase === 'join' && outcome.failed) {
      this.logger.info(`the chunks stay in ${folder.path} for a retry of the join (the job's cleanup job removes them if the job fails)`);
      // Inline, nothing retries it here: the run is over (its finally job comes next).
      if (this.children.inline) await closeChunkFolder(folder.path, false);
      return;
    }
    await closeChunkFolder(folder.path, true).catch((error: unknown) => this.logger.warn(`could not remove the chunk folder ${folder.path}: ${(error as Error).message}`));
  }

  /**
   * Check what ffmpeg wrote against what it reported, then move it into
   * place. ffmpeg 5.1 exits 0 on some write errors (a full disk while
   * writing the trailer): a failed check then quotes ffmpeg's own error line.
   */
  async #promote(claim: OutputClaim, report: EncodeReport, stderr: readonly string[]): Promise<void> {
    if (claim.direct) {
      await claim.promote();
      return;
    }
    try {
      await claim.promote(async (files) => {
        if (this.#kind === 'sequence') verifySequence(files, report);
        else if (this.#kind === 'file') {
          const update = this.#maps.some((m) => m.specifier === undefined && Object.entries(m.options ?? {}).some(([k, v]) => k === 'update' && v !== false && v !== 0 && v !== '0'));
          await verifyEncode(this.runner, this.#ffprobe, files[0]!, { ...report, singleImage: update });
        }
        else await verifySegments(this.runner, this.#ffprobe, files, this.#output);
      });
    } catch (error) {
      const said = stderr.map((l) => l.trim()).find((l) => /error|no space|failed/i.test(l));
      if (said && error instanceof Error && (error as { code?: string }).code === ErrorCodes.OUTPUT_UNVERIFIED) error.message += `; ffmpeg said: ${said}`;
      throw error;
    }
  }
}

/** Remove what a failed try left in the attempt's own folder, before the next try. */
async function emptyFolder(folder: string): Promise<void> {
  for (const name of await readdir(folder).catch(() => [] as string[])) await removeTree(join(folder, name));
}

/** `index` of `index.m3u8`. */
function stemOf(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
