// The model of bench:chunked: from the measured costs of a chunked encode
// (per chunk, the plan, the join, dispatch), predict the time of a chunked
// encode on N workers for other file lengths, and its efficiency against one
// worker encoding the file unchunked. Pure functions, no I/O. See
// docs/architecture.md, "Chunked encoding: speed-up and its model".

/** Least squares y = a + b x: {a, b, r2}. */
export function fitLine(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  const b = sxx ? sxy / sxx : 0;
  const a = my - b * mx;
  return { a, b, r2: syy ? (sxy * sxy) / (sxx * syy) : 1 };
}

/** A line through two points (x0, y0), (x1, y1); through the origin and (x1, y1) when x0 is undefined. */
export function lineThrough(x0, y0, x1, y1) {
  if (x0 === undefined || x0 === x1) return { a: 0, b: y1 / x1 };
  const b = (y1 - y0) / (x1 - x0);
  return { a: y1 - b * x1, b };
}

/** A seeded PRNG (mulberry32): the same draws every run. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Run `jobs` (durations, ms, in the order the queue hands them out) on `n`
 * workers that each take the next job when free, `gap` ms after the last
 * (dispatch): the time until the last ends, and which worker ran each.
 */
export function makespan(jobs, n, gap = 0) {
  const free = Array.from({ length: n }, () => 0);
  for (const d of jobs) {
    let w = 0;
    for (let i = 1; i < n; i++) if (free[i] < free[w]) w = i;
    free[w] += gap + d;
  }
  return Math.max(...free);
}

/**
 * Synthetic chunks of a file of `frames` frames cut like the planner cuts:
 * a cut near every multiple of `target` frames, off it by an offset drawn
 * from `offsets` (measured: a cut's frame minus its target's), never a
 * chunk under `minFrames` (a short last piece joins the one before); each
 * chunk gets a per-frame cost drawn from `costs` (ms per frame, measured per
 * chunk). Returns [{frames, perFrame}] in timeline order.
 */
export function synthChunks({ frames, target, minFrames, offsets, costs, random }) {
  const cuts = [0];
  for (let k = 1; k * target < frames; k++) {
    const at = Math.round(k * target + offsets[Math.floor(random() * offsets.length)]);
    if (at - cuts.at(-1) >= minFrames && frames - at >= minFrames) cuts.push(at);
  }
  return cuts.map((start, i) => ({ frames: (cuts[i + 1] ?? frames) - start, perFrame: costs[Math.floor(random() * costs.length)] }));
}

/**
 * The predicted time (ms) of a chunked encode of `chunks` ([{frames,
 * perFrame}]) on `n` workers, with the measured costs `m`:
 *   dispatch (submit to the first run's start) + plan(F) + makespan of the
 *   chunks (each `fixed + perFrame * frames`, `gap` before each on its
 *   worker) + resumeGap (last chunk's end to the resumed start) + join(F),
 * F the file's frames, plan and join lines {a, b} in frames. `order`:
 * `costliest` (costliest first, as the ffmpeg task submits them: its
 * estimate from frames and source bytes taken as exact), `timeline` (in
 * timeline order) or `longest` (longest first, by frames alone; content
 * makes a chunk's cost differ from its length).
 */
export function chunkedTime(chunks, n, m, order = 'costliest') {
  const F = chunks.reduce((s, c) => s + c.frames, 0);
  const cost = (c) => m.fixed + c.perFrame * c.frames;
  const list = order === 'longest' ? [...chunks].sort((x, y) => y.frames - x.frames) : order === 'costliest' ? [...chunks].sort((x, y) => cost(y) - cost(x)) : chunks;
  const work = list.map(cost);
  return m.dispatch + m.plan.a + m.plan.b * F + makespan(work, n, m.gap) + m.resumeGap + m.join.a + m.join.b * F;
}

/** The unchunked time (ms) of the same frames on one worker: `unchunkedPerWork` times the chunks' encoding work (their per-frame costs times frames, no fixed cost). */
export function unchunkedTime(chunks, m) {
  return m.unchunkedPerWork * chunks.reduce((s, c) => s + c.perFrame * c.frames, 0);
}

/**
 * Mean efficiency (unchunked time / (n x chunked time)) over `draws`
 * synthetic files of `frames` frames, and the mean chunk count.
 */
export function predictEfficiency({ frames, n, m, cuts, order, draws = 200, seed = 1 }) {
  const random = rng(seed + frames * 31 + n);
  let sum = 0;
  let count = 0;
  let speedup = 0;
  for (let i = 0; i < draws; i++) {
    const chunks = synthChunks({ frames, ...cuts, random });
    const a = unchunkedTime(chunks, m);
    const c = chunkedTime(chunks, n, m, order);
    sum += a / (n * c);
    speedup += a / c;
    count += chunks.length;
  }
  return { efficiency: sum / draws, speedup: speedup / draws, chunks: count / draws };
}

/**
 * Where the planner would cut a file of `frames` frames with hard scene
 * changes at `scenes` (frame indices) for a target of `target` frames: at
 * each multiple of the target, the scene change within a quarter target
 * (at most `maxHalf` frames) nearest to it, else the target itself; no
 * chunk under a quarter target. (The planner takes the highest-scoring
 * change in the window; on hard cuts between unrelated scenes that is any
 * of them, so this picks the nearest.) Returns the chunks' first frames.
 */
export function sceneCuts({ frames, target, scenes, maxHalf }) {
  const half = Math.min(target / 4, maxHalf);
  const min = target / 4;
  const cuts = [0];
  for (let k = 1; k * target < frames; k++) {
    const t = k * target;
    const near = scenes.filter((s) => Math.abs(s - t) <= half && s - cuts.at(-1) >= min && frames - s >= min);
    const at = near.length ? near.reduce((x, y) => (Math.abs(y - t) < Math.abs(x - t) ? y : x)) : Math.round(t);
    if (at - cuts.at(-1) >= min && frames - at >= min) cuts.push(at);
  }
  return cuts;
}

/**
 * Replay per-frame costs (`costs[i]`: ms of frame i) over the chunks that
 * start at `cuts`, each with `fixed` ms more: the chunks' times in timeline
 * order, their sum, and the makespan on each of `workers` (costliest first,
 * as the task hands them out).
 */
export function replayCuts({ cuts, costs, fixed, workers }) {
  const times = cuts.map((c, i) => fixed + costs.slice(c, cuts[i + 1] ?? costs.length).reduce((a, x) => a + x, 0));
  const work = times.reduce((a, x) => a + x, 0);
  const costliest = [...times].sort((a, b) => b - a);
  return { chunks: cuts.length, work, makespans: workers.map((n) => makespan(costliest, n)) };
}
