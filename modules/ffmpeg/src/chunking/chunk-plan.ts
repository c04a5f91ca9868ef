import { RunError, ValidationError, type ProcessRunner } from '@sisyphus/core';
import { DEFAULT_SCENE_THRESHOLD, type Chunking } from './chunking-schema.js';
import { chooseCuts, encoderMarksScenes, encoderSceneKeyframes, sceneWindows, type Cut } from './chunk-cuts.js';
import { cadenceFault, frameCadence } from './frame-cadence.js';
import { ticksToUs, type PacketScan, type ScannedStream, type TimeBase } from './packet-scan.js';
import { sceneScores } from './scene-scores.js';
import { cleanStarts } from './clean-starts.js';
import { frameSeek, seekHowFor, seeksBy, startsClean, type FrameSeek } from './seek-point.js';

/** One chunk of a {@link ChunkPlan}: an exact range of the source's frames. */
export interface PlannedChunk {
  /** 0-based, in timeline order. */
  index: number;
  /** Display index of its first frame in the source's video stream. */
  start_frame: number;
  /** How many frames it holds (`-frames:v`). */
  frames: number;
  /** pts of its first frame, in ticks of the stream's time base. */
  start_pts: number;
  /** The same in seconds on the file's timeline. */
  start_pts_time: number;
  /** How its encode starts exactly at its first frame (input and output `-ss`, `-output_ts_offset`, with `-copyts`; see `frameSeek`). */
  seek: FrameSeek;
  /** Its first frame is a keyframe a decoder can start from (see `cleanStarts`): it decodes from there, with nothing before it. */
  clean_start?: boolean;
  /** µs from the video's first frame to this chunk's first frame. */
  offset_us: number;
  /** µs it lasts on the source's timeline: to the next chunk's first frame; the last one to the end of the last frame. */
  duration_us: number;
  /** Bytes of the source's video packets in its frames (with `frames`, what its encode is expected to cost; see `handOutOrder`). */
  bytes?: number;
  /** Why it starts here (see `Cut`). */
  cut: Cut['reason'];
  /** Scene score of its first frame, when analysed. */
  score?: number;
}

/**
 * Where a chunked encode cuts its video, and everything the chunks and the
 * join need to be frame-exact. JSON: it is kept with the job while the
 * chunks run, so a resumed job joins exactly these chunks.
 */
export interface ChunkPlan {
  version: 1;
  /** The source file (as ffmpeg opens it) and its video stream's absolute index. */
  source: string;
  stream: number;
  /** The stream's time base, `num/den`. */
  time_base: string;
  /** The file's start time in µs (what `-ss` counts from). */
  start_us: number;
  /** pts of the stream's first frame, in ticks. */
  first_pts: number;
  /** Frames of the stream: the frames the output must hold. */
  total_frames: number;
  /** Average frame duration in µs (the stream has a constant frame rate). */
  frame_us: number;
  /** µs from the first frame to the end of the last. */
  duration_us: number;
  /** Open GOPs (leading pictures that refer to the GOP before a keyframe) were seen. Supported: a chunk decodes from the keyframe before its cut unless its first frame is a clean start (an HEVC CRA: its leading pictures belong to the chunk before). */
  open_gop: boolean;
  /** The settings used, defaults filled in. */
  settings: { seconds: number; cut: 'scene' | 'keyframe'; min_seconds: number; scene_threshold: number; scene_keyframes: boolean };
  chunks: PlannedChunk[];
}

/**
 * The most chunks one encode may have: every chunk is a child job whose
 * document travels in the worker's report and whose result is kept with
 * the parent, and the plan is kept with the job (at most 1 MiB of state).
 * The waiting report of 500 chunks (children and plan) is about 0.5 MB,
 * within the server's default 1 MiB request body with room for long paths;
 * 500 chunks of 60 s is more than 8 hours.
 */
export const MAX_CHUNKS = 500;

/** At most how many chunks a video of `end` seconds gets with target `seconds` (one per target before the end, plus the first). */
export const chunkCountBound = (end: number, seconds: number) => 1 + Math.max(0, Math.ceil(end / seconds - 1e-9) - 1);

/** Refuse more than {@link MAX_CHUNKS} chunks (`about`: the count is the bound, before the cuts are chosen). */
export function refuseChunkCount(count: number, E: typeof ValidationError | typeof RunError, about = false): void {
  if (count > MAX_CHUNKS) {
    throw new E(`chunking.seconds: ${about ? 'up to ' : ''}${count} chunks; at most ${MAX_CHUNKS}: raise chunking.seconds`, { details: { field: 'chunking.seconds', chunks: count, max: MAX_CHUNKS } });
  }
}

/** Seconds from the first frame of `video` to the end of its last (the last frame's own duration, else the average). */
export function videoSpan(video: ScannedStream & { pts: number[] }): number {
  const { pts, timeBase: tb } = video;
  const cadence = frameCadence(pts, tb, video.lastDuration);
  return (ticksToUs(pts.at(-1)! - pts[0]!, tb) + (video.lastDuration ? ticksToUs(video.lastDuration, tb) : cadence.frameUs)) / 1e6;
}

/** The settings with their defaults: `cut` scene, `min_seconds` a quarter of `seconds`, `scene_threshold` 0.3, `scene_keyframes` false. */
export function chunkSettings(chunking: Chunking): ChunkPlan['settings'] {
  return {
    seconds: chunking.seconds,
    cut: chunking.cut ?? 'scene',
    min_seconds: chunking.min_seconds ?? chunking.seconds / 4,
    scene_threshold: chunking.scene_threshold ?? DEFAULT_SCENE_THRESHOLD,
    scene_keyframes: chunking.scene_keyframes ?? false,
  };
}

/** The video stream `stream` of a scan, checked to be chunkable (see {@link refuseVideoStream}). */
export function videoStream(scan: PacketScan, stream: number, what: string): ScannedStream & { pts: number[] } {
  const video = scan.streams.get(stream);
  refuseVideoStream(video, what);
  return video as ScannedStream & { pts: number[] };
}

/**
 * Refuse, as a ValidationError naming `what` (`sources[0] stream 0`), a
 * video stream that cannot be chunked frame-exactly: no packets, packets
 * without timestamps, frames an edit list hides, or a variable frame rate (chunks would be timed
 * from the wrong frames: see `frameCadence`). Open GOPs are fine.
 */
export function refuseVideoStream(video: ScannedStream | undefined, what: string): void {
  if (video?.packets && video.missingPts) throw new ValidationError(`chunking: ${what} has ${video.missingPts} of ${video.packets} packets without a timestamp; chunks cannot be cut exactly`);
  if (!video?.pts?.length) throw new ValidationError(`chunking: ${what} has no video frames to chunk`);
  if (video.discarded) {
    throw new ValidationError(
      `chunking: ${what} has ${video.discarded} frames its container hides (an edit list, as a cut made by stream copy leaves); ` +
        'chunks cannot be cut exactly: encode it without chunking, or re-encode that cut first',
    );
  }
  const cadence = frameCadence(video.pts, video.timeBase, video.lastDuration);
  if (!cadence.constant) {
    const fault = cadenceFault(video.pts, video.timeBase);
    const where = fault
      ? `frame ${fault.frame} is ${(Math.abs(fault.offUs) / 1000).toFixed(1)} ms off the ${fpsText(fault.frameUs)} fps grid`
      : `frame ${cadence.worstFrame} is ${(cadence.maxDeviationUs / 1000).toFixed(1)} ms off a constant rate`;
    throw new ValidationError(
      `chunking: ${what} has a variable frame rate (${where}); ` +
        'chunked encoding needs a constant frame rate: encode it without chunking, or convert it to a constant rate first',
    );
  }
}

/** `25`, `23.976`, `29.97` for a frame duration in µs. */
function fpsText(frameUs: number): string {
  return frameUs > 0 ? String(Number((1e6 / frameUs).toFixed(3))) : '?';
}

const tbText = (tb: TimeBase) => `${tb[0]}/${tb[1]}`;

/**
 * Build the plan from cuts (pure): exact frame ranges, seek points, and the
 * timeline offsets the join gives the concat demuxer.
 */
export function buildPlan(
  source: string,
  scan: PacketScan,
  video: ScannedStream & { pts: number[] },
  settings: ChunkPlan['settings'],
  cuts: readonly Cut[],
  clean: ReadonlySet<number> = new Set(),
): ChunkPlan {
  const { pts, timeBase: tb } = video;
  const n = pts.length;
  const first = pts[0]!;
  const cadence = frameCadence(pts, tb, video.lastDuration);
  const lastDuration = video.lastDuration || Math.round((cadence.frameUs * tb[1]) / (tb[0] * 1e6));
  const durationUs = Math.round(ticksToUs(pts[n - 1]! + lastDuration - first, tb));
  const offsets = cuts.map((c) => Math.round(ticksToUs(pts[c.frame]! - first, tb)));
  const seekHow = seekHowFor(scan.formatName, clean, seeksBy(scan, video.index));
  const chunks = cuts.map((c, i): PlannedChunk => {
    const next = cuts[i + 1]?.frame ?? n;
    return {
      index: i,
      start_frame: c.frame,
      frames: next - c.frame,
      start_pts: pts[c.frame]!,
      start_pts_time: Number((ticksToUs(pts[c.frame]!, tb) / 1e6).toFixed(6)),
      seek: frameSeek(pts, video.keyframes ?? [], tb, scan.startUs, c.frame, seekHow),
      ...(startsClean(video.keyframes ?? [], c.frame, seekHow) ? { clean_start: true } : {}),
      offset_us: offsets[i]!,
      duration_us: (offsets[i + 1] ?? durationUs) - offsets[i]!,
      ...(video.sizes ? { bytes: video.sizes.slice(c.frame, next).reduce((sum, b) => sum + b, 0) } : {}),
      cut: c.reason,
      ...(c.score !== undefined ? { score: Number(c.score.toFixed(6)) } : {}),
    };
  });
  return {
    version: 1,
    source,
    stream: video.index,
    time_base: tbText(tb),
    start_us: scan.startUs,
    first_pts: first,
    total_frames: n,
    frame_us: Number(cadence.frameUs.toFixed(3)),
    duration_us: durationUs,
    open_gop: (video.leadingPictures ?? 0) > 0,
    settings,
    chunks,
  };
}

/**
 * Plan a chunked encode of video stream `stream` of `source` (scanned with
 * `scanPackets`; `codec` is the stream's ffprobe `codec_name`): find the
 * cuts (`keyframe`: from the scan; `scene`: ffmpeg scores the frames near
 * each target, see `sceneScores`), which keyframes are clean starts
 * (`cleanStarts`), and build the plan. Throws a ValidationError for a stream that cannot be chunked, a
 * RunError when the analysis fails.
 */
export async function planChunks(runner: ProcessRunner, ffmpeg: string, source: string, scan: PacketScan, stream: number, codec: string | undefined, chunking: Chunking): Promise<ChunkPlan> {
  const settings = chunkSettings(chunking);
  if (settings.min_seconds > settings.seconds) throw new ValidationError(`chunking.min_seconds (${settings.min_seconds}) is more than chunking.seconds (${settings.seconds})`);
  const video = videoStream(scan, stream, `${source} stream ${stream}`);
  const { pts, timeBase: tb } = video;
  const first = pts[0]!;
  const times = pts.map((p) => ticksToUs(p - first, tb) / 1e6);
  const end = videoSpan(video);
  refuseChunkCount(chunkCountBound(end, settings.seconds), RunError, true);
  const base = { times, end, seconds: settings.seconds, minSeconds: settings.min_seconds };
  // Which keyframes are clean starts: one more demux pass, beside the cut choice.
  const clean = cleanStarts(runner, ffmpeg, { file: source, stream, codec, pts, timeBase: tb, keyframes: video.keyframes ?? [] });
  let cuts: Cut[];
  if (settings.cut === 'keyframe') cuts = chooseCuts({ ...base, cut: 'keyframe', keyframes: video.keyframes ?? [] });
  else {
    const sceneKeyframes = settings.scene_keyframes ? encoderSceneKeyframes(video.keyframes ?? []) : [];
    const scenesAtKeyframes = settings.scene_keyframes && encoderMarksScenes(video.keyframes ?? [], sceneKeyframes);
    const windows = sceneWindows({ ...base, sceneKeyframes, scenesAtKeyframes });
    const scores = await sceneScores(runner, ffmpeg, { file: source, stream, timeBase: tb, startUs: scan.startUs, seekHow: seekHowFor(scan.formatName, undefined, seeksBy(scan, stream)), pts, keyframes: video.keyframes ?? [] }, windows);
    cuts = chooseCuts({ ...base, cut: 'scene', scores, threshold: settings.scene_threshold, sceneKeyframes, scenesAtKeyframes, keyframes: video.keyframes ?? [] });
  }
  refuseChunkCount(cuts.length, RunError);
  const plan = buildPlan(source, scan, video, settings, cuts, await clean);
  const counted = plan.chunks.reduce((sum, c) => sum + c.frames, 0);
  if (counted !== plan.total_frames) throw new RunError(`chunking: the plan covers ${counted} frames of ${plan.total_frames} (a bug)`);
  return plan;
}
