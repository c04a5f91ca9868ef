import { basename } from 'node:path';
import type { ChildJob } from '@sisyphus/core';
import { chunkTaskData, type ChunkEncodeSpec } from './chunk-encode.js';
import { CHUNK_FOLDER_PREFIX } from './chunk-folder.js';
import type { ChunkPlan } from './chunk-plan.js';
import type { ResolvedOutputMap } from '../build-args.js';
import type { JoinExpectation } from './chunk-verify.js';
import type { ChunkOf, SourceIdentity } from './source-identity.js';

/** What the task keeps with the job while its chunks run (`ctx.children.wait` state). */
export interface ChunkState {
  /** 3: the folder is one plan's (`.sisyphus-chunks-ID.TOKEN`); a 2 (one folder per job id) is refused as another version's. */
  version: 3;
  /** The chunk folder, absolute (see `chunkFolder`). */
  folder: string;
  plan: ChunkPlan;
  /** Where the source's audio ended relative to its video (see `sourceEnds`). */
  ends: JoinExpectation['ends'];
  /** What each source was when the chunks were planned, by source index (null: a URL); the join refuses a changed one. */
  sources: Array<SourceIdentity | null>;
  /**
   * The task's output maps with their option sets merged, as the plan
   * resolved them: sets are resolved once, so the resumed run uses these
   * whatever the sets say by then (its option review and path checks run
   * on them again, the chunking refusals do not).
   */
  maps: ResolvedOutputMap[];
  /** Index of the chunked video among the output's streams. */
  video: number;
}

/** `state` as a {@link ChunkState}, or undefined when it is not one (a job from another version). */
export function asChunkState(state: unknown): ChunkState | undefined {
  const s = state as Partial<ChunkState> | undefined;
  if (!s || s.version !== 3 || typeof s.folder !== 'string' || !basename(s.folder).startsWith(CHUNK_FOLDER_PREFIX)) return undefined;
  if (!s.plan || s.plan.version !== 1 || !Array.isArray(s.plan.chunks) || !Array.isArray(s.ends) || !Array.isArray(s.sources)) return undefined;
  if (!Array.isArray(s.maps) || !Number.isInteger(s.video)) return undefined;
  return s as ChunkState;
}

/**
 * The order chunks are handed to the server in (chunk indices): the
 * costliest first, so that the last to start are the cheap ones and the
 * workers finish together (longest-processing-time-first scheduling; in
 * timeline order an expensive last chunk would leave the other workers
 * idle while one encodes it). A chunk's cost is estimated as its share of
 * the frames plus its share of the source's video bytes: the time an
 * encoder spends on a frame grows with its detail and motion, which the
 * source's own encoder paid for in bytes (on the bench's source the two
 * explain chunk times from 18 to 76 ms per frame). Ties keep timeline
 * order. Without byte counts, by frames alone.
 */
export function handOutOrder(plan: Pick<ChunkPlan, 'chunks'>): number[] {
  const frames = plan.chunks.reduce((sum, c) => sum + c.frames, 0) || 1;
  const bytes = plan.chunks.every((c) => c.bytes !== undefined) ? plan.chunks.reduce((sum, c) => sum + c.bytes!, 0) : 0;
  const cost = (c: ChunkPlan['chunks'][number]) => c.frames / frames + (bytes ? c.bytes! / bytes : 0);
  return plan.chunks
    .map((c) => ({ index: c.index, cost: cost(c) }))
    .sort((a, b) => b.cost - a.cost || a.index - b.index)
    .map((c) => c.index);
}

/**
 * One child job per chunk, in {@link handOutOrder}: an ordinary `ffmpeg`
 * task (see `chunkTaskData`), weighted by its frame count for the parent's
 * progress, titled with its place in the timeline.
 */
export function chunkJobs(title: string, spec: ChunkEncodeSpec, plan: ChunkPlan, folder: string, chunkOf?: ChunkOf): ChildJob[] {
  const n = plan.chunks.length;
  return handOutOrder(plan).map((index) => plan.chunks[index]!).map((chunk) => ({
    job_title: `${title} (chunk ${chunk.index + 1} of ${n})`,
    tasks: [{ module: 'ffmpeg', data: { ...chunkTaskData(spec, chunk, folder), ...(chunkOf ? { chunk_of: chunkOf } : {}) } as unknown as Record<string, unknown> }],
    weight: chunk.frames,
  }));
}

/**
 * The job the server runs when the parent ends failed or cancelled: remove
 * the chunk folder with the `cleanup` module.
 */
export function chunkCleanupJob(title: string, folder: string): ChildJob {
  return { job_title: `${title} (remove the chunks)`, tasks: [{ module: 'cleanup', data: { delete_folders: [folder] } }] };
}
