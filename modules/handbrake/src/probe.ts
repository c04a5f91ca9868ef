import { REFUSED_INPUT_FORMATS } from '@sisyphus/module-ffmpeg';
import { open } from 'node:fs/promises';
import { RunError, ValidationError, type ProcessRunner } from '@sisyphus/core';

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
  /** ffprobe's `format.format_name`: the demuxer (or comma list of its names) that read the file. */
  formatName?: string;
  /** The first video stream's frame rate. */
  fps?: number;
  /** The first video stream's size in pixels. */
  width?: number;
  height?: number;
}

interface FfprobeJson {
  streams?: Array<{ width?: number; height?: number; codec_type?: string; codec_name?: string; duration?: string; avg_frame_rate?: string; r_frame_rate?: string; tags?: Record<string, string> }>;
  format?: { duration?: string; format_name?: string };
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
  const formatName = doc.format?.format_name;
  return { streams, ...(seconds !== undefined ? { seconds } : {}), ...(fps !== undefined ? { fps } : {}), ...size, ...(formatName ? { formatName } : {}) };
}

/** `2 audio (aac, opus)` style summary of a type's streams. */
export function describeStreams(streams: readonly ProbedStream[], type: string): string {
  const of = streams.filter((s) => s.type === type);
  return of.length ? `${of.length} ${type} (${of.map((s) => s.codec).join(', ')})` : `no ${type}`;
}

/**
 * Refuse a source ffprobe read with a demuxer that opens other files, a
 * network input or a script: the ffmpeg module's `REFUSED_INPUT_FORMATS`, one
 * rule for both (HandBrake opens a file with the same libavformat, which picks
 * the demuxer by content, so a playlist named `x.mkv` is read as one); also
 * image2 with a `%` in the file name,
 * which reads a numbered sequence of files beside it.
 */
export function refuseIndirectSource(probed: Probed, field: string, path: string, phase: 'validate' | 'run'): void {
  const names = (probed.formatName ?? '').split(',');
  const refused = names.find((name) => REFUSED_INPUT_FORMATS.has(name));
  const why = refused ? REFUSED_INPUT_FORMATS.get(refused)! : names.includes('image2') && path.includes('%') ? 'reads a numbered sequence of files by its name pattern' : undefined;
  if (!why) return;
  const E = phase === 'validate' ? ValidationError : RunError;
  throw new E(`${field}: ${path} is read as "${refused ?? 'image2'}", which ${why}; only a single media file, a disc image or a DVD/Blu-ray folder is a source`, {
    details: { field, format: refused ?? 'image2' },
  });
}

/**
 * A source ffprobe cannot read is left to HandBrake (a DVD or Blu-ray
 * image), but not when it starts like a playlist or list (HLS, concat,
 * DASH/IMF XML, SDP): one ffprobe failed on (an entry missing, say) is
 * still a playlist to HandBrake's reader.
 */
export async function refuseTextSource(path: string, field: string, phase: 'validate' | 'run'): Promise<void> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return;
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  // The signatures the playlist and list demuxers probe for: HLS `#EXTM3U`, concat's `ffconcat`, DASH/IMF XML, SDP `v=`.
  const start = head.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (!/^(#EXTM3U|ffconcat|<|v=)/i.test(start)) return;
  const E = phase === 'validate' ? ValidationError : RunError;
  throw new E(`${field}: ${path} is a playlist or list ffprobe cannot read (it starts like HLS, concat, DASH/IMF XML or SDP, which name other files); only a single media file, a disc image or a DVD/Blu-ray folder is a source`, {
    details: { field },
  });
}
