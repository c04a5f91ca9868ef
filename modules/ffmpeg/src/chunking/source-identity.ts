import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Type, type Static } from '@sisyphus/core';

/**
 * What a source file was when a chunked encode was planned: size and
 * modification time (ms) anywhere; device and inode, with the host they
 * were read on (a shared folder has another device number on another
 * machine, so they are compared on the same host only).
 */
export const SourceIdentitySchema = Type.Object(
  {
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    mtime_ms: Type.Number({ description: 'Modification time, ms since the epoch' }),
    dev: Type.Number(),
    ino: Type.Number(),
    host: Type.String({ description: 'The host dev and ino were read on' }),
  },
  { additionalProperties: false },
);
export type SourceIdentity = Static<typeof SourceIdentitySchema>;

/**
 * `chunk_of` in the data of a chunk's ffmpeg task (set by the plan): the
 * parent job and what its video's source (`sources[0]` of the chunk) was
 * when the chunks were planned. The chunk refuses to encode a changed file.
 */
export const ChunkOfSchema = Type.Object(
  {
    job_id: Type.String({ minLength: 1, description: 'The job whose chunked encode this chunk belongs to' }),
    source: SourceIdentitySchema,
  },
  { additionalProperties: false, description: 'Set by a chunked encode\'s plan on its chunks: sources[0] must still be the file that was planned' },
);
export type ChunkOf = Static<typeof ChunkOfSchema>;

/** The identity of the file at `path` now, or undefined when it cannot be read. */
export async function sourceIdentity(path: string): Promise<SourceIdentity | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st ? { size: st.size, mtime_ms: st.mtimeMs, dev: st.dev, ino: st.ino, host: hostname() } : undefined;
}

/**
 * How `now` differs from `planned`, in words (`size 1000 -> 2000 bytes`,
 * `another file (inode 12 -> 34)`), or undefined when it is the same file,
 * unchanged. `now` undefined: the file is gone.
 */
export function identityChange(planned: SourceIdentity, now: SourceIdentity | undefined): string | undefined {
  if (!now) return 'it cannot be read now';
  const changes: string[] = [];
  if (planned.host === now.host && (planned.dev !== now.dev || planned.ino !== now.ino)) changes.push(`another file: device/inode ${planned.dev}/${planned.ino} -> ${now.dev}/${now.ino}`);
  if (planned.size !== now.size) changes.push(`size ${planned.size} -> ${now.size} bytes`);
  if (planned.mtime_ms !== now.mtime_ms) changes.push(`modified ${new Date(planned.mtime_ms).toISOString()} -> ${new Date(now.mtime_ms).toISOString()}`);
  return changes.length ? changes.join(', ') : undefined;
}
