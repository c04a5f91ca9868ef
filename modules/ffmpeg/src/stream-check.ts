import { ValidationError } from '@sisyphus/core';
import { describeStreams, selectStreams, type ProbeResult, type ProbedStream } from './probe.js';
import { mapSpec, streamSuffix, type ResolvedOutputMap } from './build-args.js';
import type { FfmpegData } from './ffmpeg-schema.js';

/**
 * Check the source maps against what ffprobe found. A non-optional map that
 * selects nothing is a ValidationError listing the streams the file has.
 * Returns the output's streams in order when every source was probed.
 */
export function checkSourceMaps(data: FfmpegData, probes: ReadonlyMap<number, ProbeResult>): ProbedStream[] | undefined {
  const mapped: ProbedStream[] = [];
  let complete = true;
  for (const [i, map] of data.source_maps.entries()) {
    const probed = probes.get(map.source);
    if (!probed) {
      complete = false;
      continue;
    }
    const hits = selectStreams(probed.streams, map.specifier, map.stream);
    if (!hits.length && !map.optional) {
      throw new ValidationError(
        `source_maps[${i}] (${mapSpec(map)}) matches no stream: ${data.sources[map.source]} has ${describeStreams(probed.streams)}`,
        { details: { field: `source_maps[${i}]`, streams: probed.streams.map((s) => ({ index: s.index, type: s.codec_type, codec: s.codec_name })) } },
      );
    }
    mapped.push(...hits);
  }
  return complete ? mapped : undefined;
}

/** Check that each output map addresses a stream the output will have (known only when every source was probed). */
export function checkOutputMaps(maps: readonly ResolvedOutputMap[], output: readonly ProbedStream[]): void {
  for (const [i, map] of maps.entries()) {
    if (map.stream === undefined) continue;
    if (!selectStreams(output.map((s, index) => ({ ...s, index })), map.specifier, map.stream).length) {
      throw new ValidationError(
        `output_maps[${i}] (${streamSuffix(map).slice(1)}) addresses no stream: the source maps give the output ${describeStreams(output)}`,
      );
    }
  }
}

/** Seconds of `0:10:00`, `01:02:03.5`, `90`, `1.5s`, `1500ms`, `250000us`; undefined when unparsable. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  const unit = /^(-?\d+(?:\.\d+)?)(s|ms|us)$/.exec(v);
  if (unit) return Number(unit[1]) / (unit[2] === 'ms' ? 1000 : unit[2] === 'us' ? 1e6 : 1);
  const clock = /^(-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(v);
  if (clock) return (clock[1] ? -1 : 1) * (Number(clock[2] ?? 0) * 3600 + Number(clock[3]) * 60 + Number(clock[4]));
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
}

/** How much media the encode covers, in seconds, taking `ss`, `t` and `to` into account. */
export function expectedDuration(data: FfmpegData, probes: ReadonlyMap<number, ProbeResult>): number | undefined {
  const first = probes.get(data.source_maps[0]?.source ?? 0);
  const total = Number(first?.format.duration);
  const opts = data.input_options ?? {};
  const ss = parseTime(opts.ss) ?? 0;
  const t = parseTime(opts.t);
  const to = parseTime(opts.to);
  let seconds = Number.isFinite(total) && total > 0 ? total - ss : undefined;
  if (t !== undefined) seconds = seconds === undefined ? t : Math.min(seconds, t);
  if (to !== undefined) seconds = seconds === undefined ? to - ss : Math.min(seconds, to - ss);
  return seconds !== undefined && seconds > 0 ? seconds : undefined;
}

/** Frames of the first mapped video stream, when ffprobe knows them and no trimming applies. */
export function expectedFrames(data: FfmpegData, output: readonly ProbedStream[] | undefined): number | undefined {
  const opts = data.input_options ?? {};
  if (opts.ss !== undefined || opts.t !== undefined || opts.to !== undefined) return undefined;
  const video = output?.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const frames = Number(video?.nb_frames);
  return Number.isFinite(frames) && frames > 0 ? frames : undefined;
}
