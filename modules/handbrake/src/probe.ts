import type { ProcessRunner } from '@sisyphus/core';

/** One stream as ffprobe sees it. */
export interface ProbedStream {
  type: string;
  codec: string;
  /** Seconds, from the stream's duration or its Matroska `DURATION` tag. */
  seconds?: number;
}

/** What ffprobe says about a media file. */
export interface Probed {
  streams: ProbedStream[];
  /** The container's duration in seconds. */
  seconds?: number;
  /** The first video stream's frame rate. */
  fps?: number;
  /** The first video stream's size in pixels. */
  width?: number;
  height?: number;
}

interface FfprobeJson {
  streams?: Array<{ width?: number; height?: number; codec_type?: string; codec_name?: string; duration?: string; avg_frame_rate?: string; r_frame_rate?: string; tags?: Record<string, string> }>;
  format?: { duration?: string };
}

/** `00:01:02.500000000` -> 62.5. */
function clock(value: string | undefined): number | undefined {
  const m = value && /^(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(value.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

function positive(value: string | number | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

function rate(value: string | undefined): number | undefined {
  const m = value && /^(\d+)\/(\d+)$/.exec(value);
  return m && Number(m[2]) > 0 && Number(m[1]) > 0 ? Number(m[1]) / Number(m[2]) : undefined;
}

/**
 * Probe `file` with ffprobe. Rejects (a ProcessError, or an Error for an
 * unreadable answer) when ffprobe cannot read it.
 */
export async function probe(runner: ProcessRunner, ffprobe: string, file: string): Promise<Probed> {
  const lines: string[] = [];
  await runner.run(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { onStdoutLine: (l) => lines.push(l) });
  let doc: FfprobeJson;
  try {
    doc = JSON.parse(lines.join('\n')) as FfprobeJson;
  } catch (error) {
    throw new Error(`ffprobe ${file}: unreadable answer`, { cause: error });
  }
  const streams = (doc.streams ?? []).map((s) => {
    const seconds = positive(s.duration) ?? clock(s.tags?.DURATION ?? s.tags?.duration);
    return { type: s.codec_type ?? 'unknown', codec: s.codec_name ?? 'unknown', ...(seconds !== undefined ? { seconds } : {}) };
  });
  const video = (doc.streams ?? []).find((s) => s.codec_type === 'video');
  const seconds = positive(doc.format?.duration);
  const fps = rate(video?.avg_frame_rate) ?? rate(video?.r_frame_rate);
  const size = video?.width && video.height ? { width: video.width, height: video.height } : {};
  return { streams, ...(seconds !== undefined ? { seconds } : {}), ...(fps !== undefined ? { fps } : {}), ...size };
}

/** `2 audio (aac, opus)` style summary of a type's streams. */
export function describeStreams(streams: readonly ProbedStream[], type: string): string {
  const of = streams.filter((s) => s.type === type);
  return of.length ? `${of.length} ${type} (${of.map((s) => s.codec).join(', ')})` : `no ${type}`;
}
