import { RunError, ValidationError, type ProcessRunner } from '@sisyphus/core';

/** One stream as ffprobe describes it (the fields used here). */
export interface ProbedStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  disposition?: { attached_pic?: number; default?: number };
  tags?: Record<string, string>;
}

/** What ffprobe says about a file. */
export interface ProbeResult {
  streams: ProbedStream[];
  format: { duration?: string; format_name?: string; tags?: Record<string, string> };
}

/** Largest ffprobe JSON accepted (a file with thousands of streams is not media we handle). */
const MAX_PROBE_CHARS = 8 * 1024 * 1024;

/**
 * Run ffprobe on `file` and parse its JSON. `phase` picks the error class
 * (a file that cannot be probed during validate is a ValidationError).
 */
export async function probe(runner: ProcessRunner, ffprobe: string, file: string, phase: 'validate' | 'run'): Promise<ProbeResult> {
  const chunks: string[] = [];
  let size = 0;
  try {
    await runner.run(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', file], {
      onStdoutLine: (line) => {
        size += line.length;
        if (size <= MAX_PROBE_CHARS) chunks.push(line);
      },
    });
  } catch (error) {
    const tail = (error as { stderrTail?: string[] }).stderrTail?.filter((l) => l.trim()).at(-1) ?? (error as Error).message;
    const E = phase === 'validate' ? ValidationError : RunError;
    throw new E(`ffprobe cannot read ${file}: ${tail}`, { cause: error });
  }
  const parsed = JSON.parse(chunks.join('\n') || '{}') as Partial<ProbeResult>;
  return { streams: parsed.streams ?? [], format: parsed.format ?? {} };
}

const TYPE_OF: Record<string, (s: ProbedStream) => boolean> = {
  v: (s) => s.codec_type === 'video',
  V: (s) => s.codec_type === 'video' && !s.disposition?.attached_pic,
  a: (s) => s.codec_type === 'audio',
  s: (s) => s.codec_type === 'subtitle',
  d: (s) => s.codec_type === 'data',
  t: (s) => s.codec_type === 'attachment',
};

/** The streams `[:specifier][:stream]` selects, as ffmpeg would (absolute index without a specifier). */
export function selectStreams(streams: readonly ProbedStream[], specifier?: string, stream?: number): ProbedStream[] {
  const ofType = specifier ? streams.filter(TYPE_OF[specifier] ?? (() => false)) : [...streams];
  if (stream === undefined) return ofType;
  if (!specifier) return ofType.filter((s) => s.index === stream);
  const hit = ofType[stream];
  return hit ? [hit] : [];
}

/** `2 video (hevc, mjpeg), 1 audio (opus)` */
export function describeStreams(streams: readonly ProbedStream[]): string {
  if (!streams.length) return 'no streams';
  const byType = new Map<string, string[]>();
  for (const s of streams) byType.set(s.codec_type, [...(byType.get(s.codec_type) ?? []), s.codec_name ?? '?']);
  return [...byType].map(([type, codecs]) => `${codecs.length} ${type} (${codecs.join(', ')})`).join(', ');
}
