/** Where a chunk starts, and why there. */
export interface Cut {
  /** Display index of the chunk's first frame. */
  frame: number;
  /**
   * `start`: the first chunk; `keyframe`: a source keyframe; `scene`: a
   * scene change ffmpeg's analysis found; `scene_keyframe`: a keyframe the
   * source's encoder put at a scene change (see {@link encoderSceneKeyframes});
   * `target`: the frame nearest the target (no scene change near it).
   */
  reason: 'start' | 'keyframe' | 'scene' | 'scene_keyframe' | 'target';
  /** The scene score of the frame, when it was analysed. */
  score?: number;
}

/** What {@link chooseCuts} works from. */
export interface CutInput {
  /** Every frame's time in seconds from the first frame, display order (so `times[0]` is 0). */
  times: readonly number[];
  /** Seconds from the first frame to the end of the last. */
  end: number;
  /** Target chunk length in seconds. */
  seconds: number;
  /** Shortest chunk allowed, in seconds. */
  minSeconds: number;
  cut: 'scene' | 'keyframe';
  /** `keyframe`: display indices of the source keyframes. */
  keyframes?: readonly number[];
  /** `scene`: scene score by display index (frames of {@link sceneWindows}). */
  scores?: ReadonlyMap<number, number>;
  /** `scene`: the score from which a frame is a scene change. */
  threshold?: number;
  /** `scene`: keyframes the source's encoder put at scene changes ({@link encoderSceneKeyframes}), taken without analysis. */
  sceneKeyframes?: readonly number[];
  /**
   * `scene`: the source's encoder marks every scene change with a keyframe
   * ({@link encoderMarksScenes}): a target without one of `sceneKeyframes`
   * near it cuts at the keyframe (of `keyframes`) nearest it, else at the
   * frame nearest it, and no frame is analysed.
   */
  scenesAtKeyframes?: boolean;
}

/**
 * The keyframes a source's encoder put at scene changes, by its keyframe
 * rhythm (display indices, sorted): encoders such as x264, x265 and SVT-AV1
 * place a keyframe every `keyint` frames after the one before and, with
 * their scene-cut detection (`scenecut`, on by default), at each scene
 * change in between. So the stream's cadence is the longest distance
 * between two keyframes that occurs at least twice, and a keyframe that
 * comes sooner after the one before was put there for a scene change.
 * Empty when no distance repeats (no rhythm to tell them apart by) and for
 * a stream of fixed GOPs or of keyframes only (every distance the
 * cadence). Frame 0 is never one.
 */
export function encoderSceneKeyframes(keyframes: readonly number[]): number[] {
  const keys = [...new Set(keyframes)].filter((k) => k >= 0).sort((a, b) => a - b);
  const seen = new Map<number, number>();
  for (let i = 1; i < keys.length; i++) {
    const d = keys[i]! - keys[i - 1]!;
    seen.set(d, (seen.get(d) ?? 0) + 1);
  }
  let cadence = 0;
  for (const [d, count] of seen) if (count >= 2 && d > cadence) cadence = d;
  if (!cadence) return [];
  return keys.filter((k, i) => i > 0 && k > 0 && k - keys[i - 1]! < cadence);
}

/** Slack for float comparisons of seconds. */
const EPS = 1e-9;

/** Index of the first time >= t (times sorted). */
function lowerBound(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The search window around each target in `scene` mode reaches at most this far (s): the analysis decodes it. */
export const MAX_WINDOW_HALF = 10;

/** Half the width of the search window around each target in `scene` mode: a quarter of the target length, at most {@link MAX_WINDOW_HALF}. */
export const windowHalf = (seconds: number) => Math.min(seconds / 4, MAX_WINDOW_HALF);

/**
 * Whether a source's encoder evidently marks its scene changes with
 * keyframes: at least two of its {@link encoderSceneKeyframes} besides the
 * first keyframe after frame 0 (a stream cut out of a longer one starts
 * with a short GOP; two are a habit). Then every scene change is at a
 * keyframe: one off the cadence, or one that fell due there anyway, and the
 * source's keyframes stand for the scene analysis (see
 * {@link CutInput.scenesAtKeyframes}).
 */
export function encoderMarksScenes(keyframes: readonly number[], sceneKeyframes: readonly number[]): boolean {
  let first = Infinity; // a loop, not Math.min(...): an intra-only stream has a keyframe per frame
  for (const k of keyframes) if (k > 0 && k < first) first = k;
  return sceneKeyframes.filter((k) => k !== first).length >= 2;
}

/**
 * The frames the scene analysis must score: for each target (every
 * multiple of `seconds` before the end) the frames within a quarter target
 * length (at most 10 s) of it that could start a chunk at all (at least `minSeconds` from
 * the start and from the end), unless one of `sceneKeyframes` is among
 * them (the cut is taken there, see {@link chooseCuts}). Display indices,
 * both ends included.
 */
export function sceneWindows(input: Pick<CutInput, 'times' | 'end' | 'seconds' | 'minSeconds' | 'sceneKeyframes' | 'scenesAtKeyframes'>): Array<{ from: number; to: number }> {
  const { times, end, seconds, minSeconds } = input;
  if (input.scenesAtKeyframes) return [];
  const half = windowHalf(seconds);
  const known = input.sceneKeyframes ?? [];
  const windows: Array<{ from: number; to: number }> = [];
  for (let k = 1; k * seconds < end - EPS; k++) {
    const lo = Math.max(k * seconds - half, minSeconds);
    const hi = Math.min(k * seconds + half, end - minSeconds);
    if (hi < lo - EPS) continue;
    const from = Math.max(1, lowerBound(times, lo - EPS));
    const to = lowerBound(times, hi + EPS) - 1;
    if (to >= from && !known.some((f) => f >= from && f <= to)) windows.push({ from, to });
  }
  return windows;
}

/**
 * Choose where chunks start: one cut near each multiple of `seconds`
 * (targets at whole multiples from the start, so lengths do not drift),
 * never making a chunk shorter than `minSeconds` (so a short last piece is
 * merged into the chunk before it). `keyframe`: the source keyframe
 * nearest the target (sparse keyframes give longer chunks; a target behind
 * the last cut is skipped). `scene`: within a quarter target length of the
 * target (at most 10 s), the one of `sceneKeyframes` nearest the target,
 * else (`scenesAtKeyframes`) the keyframe nearest it, else the frame with
 * the highest scene score if it reaches the threshold, else the frame
 * nearest the target. Pure; the first cut is frame 0.
 */
export function chooseCuts(input: CutInput): Cut[] {
  const { times, end, seconds, minSeconds } = input;
  const cuts: Cut[] = [{ frame: 0, reason: 'start' }];
  if (!times.length) return cuts;
  const allowed = (i: number) => i > cuts.at(-1)!.frame && times[i]! - times[cuts.at(-1)!.frame]! >= minSeconds - EPS && end - times[i]! >= minSeconds - EPS;
  const keyframes = (input.keyframes ?? []).filter((k) => k > 0 && k < times.length);
  const isKeyframe = new Set(keyframes);
  const half = windowHalf(seconds);
  const threshold = input.threshold ?? 0;

  for (let k = 1; k * seconds < end - EPS; k++) {
    const target = k * seconds;
    if (target <= times[cuts.at(-1)!.frame]! + EPS) continue;
    let pick: Cut | undefined;
    if (input.cut === 'keyframe') {
      let best = -1;
      for (const i of keyframes) {
        if (!allowed(i)) continue;
        if (best < 0 || Math.abs(times[i]! - target) < Math.abs(times[best]! - target) - EPS) best = i;
      }
      if (best >= 0) pick = { frame: best, reason: 'keyframe' };
    } else {
      const from = lowerBound(times, target - half - EPS);
      const to = lowerBound(times, target + half + EPS) - 1;
      let known = -1;
      for (const i of input.sceneKeyframes ?? []) {
        if (i < from || i > to || !allowed(i)) continue;
        if (known < 0 || Math.abs(times[i]! - target) < Math.abs(times[known]! - target) - EPS) known = i;
      }
      if (known >= 0) {
        cuts.push({ frame: known, reason: 'scene_keyframe' });
        continue;
      }
      if (input.scenesAtKeyframes) {
        let key = -1;
        let near = -1;
        for (let i = from; i <= to; i++) {
          if (!allowed(i)) continue;
          if (isKeyframe.has(i) && (key < 0 || Math.abs(times[i]! - target) < Math.abs(times[key]! - target) - EPS)) key = i;
          if (near < 0 || Math.abs(times[i]! - target) < Math.abs(times[near]! - target) - EPS) near = i;
        }
        if (key >= 0) cuts.push({ frame: key, reason: 'keyframe' });
        else if (near >= 0) cuts.push({ frame: near, reason: 'target' });
        continue;
      }
      let scene = -1;
      let near = -1;
      for (let i = from; i <= to; i++) {
        if (!allowed(i)) continue;
        const score = input.scores?.get(i);
        if (score !== undefined && score >= threshold && (scene < 0 || score > input.scores!.get(scene)!)) scene = i;
        if (near < 0 || Math.abs(times[i]! - target) < Math.abs(times[near]! - target) - EPS) near = i;
      }
      if (scene >= 0) pick = { frame: scene, reason: 'scene', score: input.scores!.get(scene)! };
      else if (near >= 0) {
        const score = input.scores?.get(near);
        pick = { frame: near, reason: 'target', ...(score !== undefined ? { score } : {}) };
      }
    }
    if (pick) cuts.push(pick);
  }
  return cuts;
}
