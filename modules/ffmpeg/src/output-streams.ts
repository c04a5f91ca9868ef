import { ValidationError } from '@sisyphus/core';
import { describeStreams, selectStreams, type ProbeResult, type ProbedStream } from './probe.js';
import { mapSpec, streamSuffix, type ResolvedOutputMap } from './build-args.js';
import type { FfmpegData } from './ffmpeg-schema.js';

/** What the source maps give the output, once every source was probed. */
export interface MappedOutput {
  /** The output's streams, in order. */
  streams: ProbedStream[];
  /** Optional source maps (`?`) that select nothing, as `source_maps[i] (0:s:0?)`. */
  missingOptional: string[];
}

/** The output's streams per the source maps and probes; undefined while a source is not probed yet. */
export function mappedOutput(data: FfmpegData, probes: ReadonlyMap<number, ProbeResult>): MappedOutput | undefined {
  const streams: ProbedStream[] = [];
  const missingOptional: string[] = [];
  for (const [i, map] of data.source_maps.entries()) {
    const probed = probes.get(map.source);
    if (!probed) return undefined;
    const hits = selectStreams(probed.streams, map.specifier, map.stream);
    if (!hits.length && map.optional) missingOptional.push(`source_maps[${i}] (${mapSpec(map)})`);
    streams.push(...hits);
  }
  return { streams, missingOptional };
}

/**
 * The output maps to apply. A map addressing a stream the output will not
 * have is dropped, with a note, when an optional source map found nothing
 * (that is what `?` asks for: the stream may be absent, and so may its
 * options); otherwise it is a ValidationError, as it is a mistake.
 */
export function applicableOutputMaps(maps: readonly ResolvedOutputMap[], output: MappedOutput): { maps: ResolvedOutputMap[]; notes: string[] } {
  const kept: ResolvedOutputMap[] = [];
  const notes: string[] = [];
  const indexed = output.streams.map((s, index) => ({ ...s, index }));
  for (const [i, map] of maps.entries()) {
    if (map.stream === undefined || selectStreams(indexed, map.specifier, map.stream).length) {
      kept.push(map);
      continue;
    }
    const where = streamSuffix(map).slice(1);
    if (output.missingOptional.length) {
      notes.push(`output_maps[${i}] (${where}) is left out: the output has no such stream because ${output.missingOptional.join(', ')} matches nothing`);
      continue;
    }
    throw new ValidationError(`output_maps[${i}] (${where}) addresses no stream: the source maps give the output ${describeStreams(output.streams)}`);
  }
  return { maps: kept, notes };
}
