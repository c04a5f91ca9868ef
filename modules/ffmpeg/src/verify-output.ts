import { ErrorCodes, RunError, type ProcessRunner } from '@sisyphus/core';
import { basename } from 'node:path';

/** What ffmpeg said it wrote, from its last `-progress` block. */
export interface EncodeReport {
  /** `frame=`: video frames written (of the first video stream), when there is video. */
  frames?: number;
  /** `out_time_us` in seconds: how far the output's timeline got. */
  outSeconds?: number;
  /** The task asked for one image that each frame replaces (`update`): one frame in the file is right. */
  singleImage?: boolean;
}

interface CountedStream {
  index: number;
  codec_type: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_read_packets?: string;
  disposition?: { attached_pic?: number };
}

/** The longest audio frame in common use (FLAC 4096 samples at 44.1 kHz is 93 ms; AAC, Opus, MP3, AC-3 are 20-32 ms). */
const AUDIO_FRAME_SECONDS = 0.1;

/** Seconds of one frame of a video stream (1/fps), when known. */
function videoFrameSeconds(stream: CountedStream | undefined): number | undefined {
  const [n, d] = (stream?.avg_frame_rate ?? stream?.r_frame_rate ?? '').split('/').map(Number);
  return n && d ? d / n : undefined;
}

const unverified = (message: string, details: Record<string, unknown>) =>
  new RunError(message, { code: ErrorCodes.OUTPUT_UNVERIFIED, details: { field: 'output_file', ...details } });

/**
 * Check a finished encode before it is promoted: ffprobe must read it, and
 * it must hold what ffmpeg reported writing: the first video stream's packet
 * count within one frame of `frame=` (a demux, no decode: ~1 GB/s from the
 * page cache), else the container's duration within one frame (plus 5 ms of
 * container rounding) of `out_time`. A truncated or unreadable file throws a
 * RunError `SIS_OUTPUT_UNVERIFIED` naming what is wrong.
 */
export async function verifyEncode(runner: ProcessRunner, ffprobe: string, file: string, report: EncodeReport): Promise<void> {
  const lines: string[] = [];
  try {
    await runner.run(ffprobe, ['-v', 'error', '-count_packets', '-show_entries', 'format=duration,format_name:stream=index,codec_type,avg_frame_rate,r_frame_rate,nb_read_packets:stream_disposition=attached_pic', '-of', 'json', '--', file], {
      onStdoutLine: (line) => lines.push(line),
    });
  } catch (error) {
    const tail = (error as { stderrTail?: string[] }).stderrTail?.filter((l) => l.trim()).at(-1) ?? (error as Error).message;
    throw unverified(`output_file: ffprobe cannot read the encode (${basename(file)}): ${tail}; not promoted`, { path: file });
  }
  const doc = JSON.parse(lines.join('\n') || '{}') as { streams?: CountedStream[]; format?: { duration?: string; format_name?: string } };
  const streams = doc.streams ?? [];
  if (!streams.length) throw unverified(`output_file: the encode (${basename(file)}) has no streams; not promoted`, { path: file });

  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  // An image that each frame replaces (update) keeps one of the frames encoded. Anything else is
  // counted: a multi-frame image stream cut short reads back as one image too (jpeg_pipe).
  if (video && report.frames && report.frames > 0 && video.nb_read_packets !== undefined) {
    const got = Number(video.nb_read_packets);
    if (report.singleImage && got === 1) return;
    if (Math.abs(got - report.frames) > 1) {
      throw unverified(`output_file: the encode holds ${got} video frames but ffmpeg reported writing ${report.frames}; not promoted`, { path: file, frames: got, reported: report.frames });
    }
    return;
  }
  const duration = Number(doc.format?.duration);
  if (report.outSeconds && report.outSeconds > 0 && Number.isFinite(duration)) {
    const frame = videoFrameSeconds(video) ?? AUDIO_FRAME_SECONDS;
    if (Math.abs(duration - report.outSeconds) > frame + 0.005) {
      throw unverified(`output_file: the encode lasts ${duration.toFixed(3)} s but ffmpeg reported writing ${report.outSeconds.toFixed(3)} s; not promoted`, { path: file, duration, reported: report.outSeconds });
    }
  }
}

/**
 * A set of segments (HLS, DASH, segment muxer): the files are named by the
 * muxer (`part%03d.ts`, `out_%v.m3u8`, ...), so the playlist named like the
 * target is read back when there is one, else the last file written.
 */
export async function verifySegments(runner: ProcessRunner, ffprobe: string, files: readonly string[], target: string): Promise<void> {
  const pick = files.find((f) => basename(f) === basename(target)) ?? [...files].sort().at(-1);
  if (pick) await verifyEncode(runner, ffprobe, pick, {});
}

/** A numbered sequence must hold one file per frame ffmpeg reported. */
export function verifySequence(files: readonly string[], report: EncodeReport): void {
  if (report.frames && Math.abs(files.length - report.frames) > 1) {
    throw unverified(`output_file: the sequence holds ${files.length} files but ffmpeg reported ${report.frames} frames; not promoted`, { files: files.length, reported: report.frames });
  }
}
