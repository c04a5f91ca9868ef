import { basename, dirname, join } from 'node:path';
import type { ChildJob } from '@sisyphus/core';
import { chunkTaskData, type ChunkEncodeSpec } from './chunk-encode.js';
import type { ChunkPlan } from './chunk-plan.js';
import type { JoinExpectation } from './chunk-verify.js';

/** Prefix of the hidden folder beside the output that holds one job's chunks. */
export const CHUNK_FOLDER_PREFIX = '.sisyphus-chunks-';

/** `DIR/.sisyphus-chunks-JOBID` beside `output` (characters outside `[A-Za-z0-9._-]` of the id become `_`). */
export function chunkFolder(output: string, jobId: string): string {
  return join(dirname(output), `${CHUNK_FOLDER_PREFIX}${jobId.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}

/** What the task keeps with the job while its chunks run (`ctx.children.wait` state). */
export interface ChunkState {
  version: 1;
  /** The chunk folder, absolute. */
  folder: string;
  plan: ChunkPlan;
  /** Where the source's audio ended relative to its video (see `sourceEnds`). */
  ends: JoinExpectation['ends'];
}

/** `state` as a {@link ChunkState}, or undefined when it is not one (a job from another version). */
export function asChunkState(state: unknown): ChunkState | undefined {
  const s = state as Partial<ChunkState> | undefined;
  if (!s || s.version !== 1 || typeof s.folder !== 'string' || !basename(s.folder).startsWith(CHUNK_FOLDER_PREFIX)) return undefined;
  if (!s.plan || s.plan.version !== 1 || !Array.isArray(s.plan.chunks) || !Array.isArray(s.ends)) return undefined;
  return s as ChunkState;
}

/**
 * One child job per chunk: an ordinary `ffmpeg` task (see `chunkTaskData`),
 * weighted by its frame count for the parent's progress.
 */
export function chunkJobs(title: string, spec: ChunkEncodeSpec, plan: ChunkPlan, folder: string): ChildJob[] {
  const n = plan.chunks.length;
  return plan.chunks.map((chunk) => ({
    job_title: `${title} (chunk ${chunk.index + 1} of ${n})`,
    tasks: [{ module: 'ffmpeg', data: chunkTaskData(spec, chunk, folder) as unknown as Record<string, unknown> }],
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
