import { Type, type Static } from '@sisyphus/core';

/** The default of `chunking.scene_threshold`: ffmpeg's `select` scene score (0..1) from which a frame counts as a scene change. */
export const DEFAULT_SCENE_THRESHOLD = 0.3;

/**
 * `chunking` in the data of an ffmpeg task: encode the video in chunks, each
 * a child job, and join them. `seconds` is the target length of a chunk;
 * cuts are made near each multiple of it (see `chunk-plan.ts`).
 */
export const ChunkingSchema = Type.Object(
  {
    seconds: Type.Number({ minimum: 1, description: 'Target chunk length in seconds: cuts are made near each multiple of it' }),
    cut: Type.Optional(
      Type.Union([Type.Literal('scene'), Type.Literal('keyframe')], {
        description: 'Where to cut: "scene" (default) at the strongest scene change ffmpeg detects within a quarter target (at most 10 s) of each target, else the frame nearest the target; "keyframe" at the source keyframe nearest each target',
      }),
    ),
    min_seconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'No chunk is shorter than this (default seconds / 4); a short last chunk is merged into the one before' }),
    ),
    scene_keyframes: Type.Optional(
      Type.Boolean({
        description:
          'With cut "scene": let the keyframes the source\'s encoder put at scene changes (sooner than its regular keyframe interval, as x264/x265 scenecut place them) stand for the analysis: a target with one near it is cut there, and when the source has two or more, nothing is analysed (a target without one is cut at its nearest keyframe). For sources from such encoders only: forced keyframes or an encoder\'s I-frame bursts are taken for scene changes. Default false: analyse every target',
      }),
    ),
    scene_threshold: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: `Scene score (ffmpeg select's "scene", 0..1) from which a frame is a scene change (default ${DEFAULT_SCENE_THRESHOLD})` }),
    ),
  },
  { additionalProperties: false },
);

/** The `chunking` object of an ffmpeg task. */
export type Chunking = Static<typeof ChunkingSchema>;
