import { ErrorCodes, RunError, type ProcessRunner } from '@sisyphus/core';
import { basename } from 'node:path';
import { identifyFile } from './identify.js';

/** What the mux should have produced. */
export interface ExpectedMux {
  /** Tracks the output must hold. */
  tracks: number;
  /** Seconds it should last (the longest source it takes tracks from), when the options do not change timing. */
  seconds?: number;
}

/** A remux keeps the timeline: the longest source's length, within a tenth of a second (one frame at 10 fps). */
const DURATION_TOLERANCE = 0.1;

const unverified = (message: string, details: Record<string, unknown>) =>
  new RunError(message, { code: ErrorCodes.OUTPUT_UNVERIFIED, details: { field: 'output_file', ...details } });

/**
 * Check a finished mux before it is promoted: `mkvmerge -J` must read each
 * file; a single output must hold the expected tracks and last as long as
 * its longest source (when known). A split output's parts must each be
 * readable and hold the expected tracks.
 */
export async function verifyMux(runner: ProcessRunner, mkvmerge: string, files: readonly string[], expected: ExpectedMux): Promise<void> {
  for (const file of files) {
    let found;
    try {
      found = await identifyFile(runner, mkvmerge, file);
    } catch (error) {
      throw unverified(`output_file: the mux (${basename(file)}) cannot be read back: ${(error as Error).message}; not promoted`, { path: file });
    }
    if (found.tracks.length !== expected.tracks) {
      throw unverified(`output_file: the mux (${basename(file)}) holds ${found.tracks.length} tracks instead of ${expected.tracks}; not promoted`, { path: file });
    }
    if (files.length === 1 && expected.seconds !== undefined && found.seconds !== undefined && Math.abs(found.seconds - expected.seconds) > DURATION_TOLERANCE) {
      throw unverified(`output_file: the mux lasts ${found.seconds.toFixed(3)} s instead of ${expected.seconds.toFixed(3)} s; not promoted`, { path: file });
    }
  }
}
