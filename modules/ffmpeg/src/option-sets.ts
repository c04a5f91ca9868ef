import { ErrorCodes, ValidationError, schemaProblems, formatProblems, type DataStore } from '@sisyphus/core';
import { OptionSetSchema, type FfmpegOptions, type OutputMap } from './ffmpeg-schema.js';
import type { ResolvedOutputMap } from './build-args.js';

/**
 * Lay each map's option set (server-side data of module `ffmpeg`) over the
 * map's own options and drop the set's name. A missing or malformed set is a
 * ValidationError naming it and the map.
 */
export async function resolveOptionSets(maps: readonly OutputMap[], store: DataStore): Promise<ResolvedOutputMap[]> {
  const cache = new Map<string, FfmpegOptions>();
  const resolved: ResolvedOutputMap[] = [];
  for (const [i, map] of maps.entries()) {
    const { option_set: name, ...rest } = map;
    if (name === undefined) {
      resolved.push(rest);
      continue;
    }
    let options = cache.get(name);
    if (!options) {
      const record = await store.get('ffmpeg', name);
      if (record === undefined) {
        throw new ValidationError(`output_maps[${i}].option_set: option set "${name}" does not exist`, {
          code: ErrorCodes.DATA_NOT_FOUND,
          details: { module: 'ffmpeg', name },
        });
      }
      const problems = schemaProblems(OptionSetSchema, record);
      if (problems.length) {
        throw new ValidationError(`output_maps[${i}].option_set: option set "${name}" is malformed: ${formatProblems(problems)}`);
      }
      options = (record as { options: FfmpegOptions }).options;
      cache.set(name, options);
    }
    resolved.push({ ...rest, options: { ...rest.options, ...options } });
  }
  return resolved;
}
