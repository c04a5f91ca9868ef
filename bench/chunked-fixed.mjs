// The fixed cost of a chunk for bench:chunked: what a chunk costs whatever
// its length. Each chunk's own ffmpeg command (from its child job's data, as
// the ffmpeg task builds it) is run again with one frame instead of its
// frame count, pinned to one core: ffmpeg's start, the probe of the source,
// the pre-roll decode from the keyframe before the cut, x264's set-up, one
// frame, the mux. Measured directly because a line fitted through the
// chunks' times cannot separate it from their content (every chunk is about
// the target long, and content changes the cost per frame several times over).
import { join } from 'node:path';
import { chunkArgs } from '../modules/ffmpeg/dist/chunking/chunk-encode.js';
import { run } from './chunked-media.mjs';

/**
 * For each chunk (`{data, phases}`: its child's task data and phase
 * durations) the best of `repeat` one-frame runs of its ffmpeg on `core`
 * (ms), plus the child's phases outside the encode (init, validate,
 * cleanup). Scratch files go to `dir`. Returns [{index, ffmpeg, phases, fixed}].
 */
export async function measureFixed(chunks, { core, dir, repeat = 2 }) {
  const out = [];
  for (const [i, chunk] of chunks.entries()) {
    const argv = chunkArgs('ffmpeg', chunk.data, join(dir, `one-frame-${i}.nut`));
    const at = argv.indexOf('-frames:v:0');
    if (at < 0) throw new Error(`chunk ${chunk.index}: no -frames:v:0 in its command`);
    argv[at + 1] = '1';
    let best = Infinity;
    for (let k = 0; k < repeat; k++) {
      const t0 = performance.now();
      await run('taskset', ['-c', String(core), argv[0], '-hide_banner', '-loglevel', 'error', '-nostdin', ...argv.slice(1)]);
      best = Math.min(best, performance.now() - t0);
    }
    const phases = (chunk.phases.init ?? 0) + (chunk.phases.validate ?? 0) + (chunk.phases.cleanup ?? 0);
    out.push({ index: chunk.index, ffmpeg: best, phases, fixed: best + phases });
  }
  return out;
}
