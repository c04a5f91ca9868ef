import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, lstat } from 'node:fs/promises';
import { fileIdentity, sameIdentity, type FileIdentity } from '../files/file-identity.js';
import type { TaskFileUse } from './file-use.js';

/**
 * The environment variable that turns the source guard on: a file path.
 * Every engine in this process (and in child processes that inherit it)
 * then hashes each source of a job before it runs and again after it ends,
 * appending one JSON line per changed source to that file. The test suite
 * sets it and fails any test after which the file is not empty: no source
 * file of a job is ever modified, on success or failure. Off in production
 * (hashing a 50 GB source twice costs minutes).
 */
export const SOURCE_GUARD_ENV = 'SISYPHUS_SOURCE_GUARD';

/** A source file as it was before the job. */
interface Snapshot {
  path: string;
  identity: FileIdentity;
  size: number;
  mtimeMs: number;
  sha256: string;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One changed source, as written to the guard file. */
export interface SourceViolation {
  jobId: string;
  path: string;
  before: { size: number; sha256: string };
  after: { size: number; sha256: string };
}

/**
 * Snapshots of the job's sources: files some task reads (`inputs()`) that
 * exist before the job and that no task of the job writes or removes on
 * purpose (a cleanup replacing the original is declared, not damage).
 */
export async function snapshotSources(tasks: readonly TaskFileUse[]): Promise<Snapshot[]> {
  const declared = await Promise.all(tasks.flatMap((t) => [...t.outputs, ...t.removes]).map((p) => fileIdentity(p)));
  const seen: FileIdentity[] = [];
  const snaps: Snapshot[] = [];
  for (const path of tasks.flatMap((t) => t.inputs)) {
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    const identity = await fileIdentity(path);
    if (seen.some((s) => sameIdentity(s, identity)) || declared.some((d) => sameIdentity(d, identity))) continue;
    seen.push(identity);
    snaps.push({ path, identity, size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256(path) });
  }
  return snaps;
}

/** Compare the sources with their snapshots; append every change to the guard file. Returns the changes. */
export async function checkSources(jobId: string, snaps: readonly Snapshot[], file = process.env[SOURCE_GUARD_ENV]): Promise<SourceViolation[]> {
  const violations: SourceViolation[] = [];
  for (const snap of snaps) {
    const st = await lstat(snap.path).catch(() => undefined);
    const after = st?.isFile() ? { size: st.size, sha256: await sha256(snap.path) } : { size: -1, sha256: 'missing' };
    if (after.sha256 !== snap.sha256) violations.push({ jobId, path: snap.path, before: { size: snap.size, sha256: snap.sha256 }, after });
  }
  if (violations.length && file) await appendFile(file, violations.map((v) => `${JSON.stringify(v)}\n`).join(''));
  return violations;
}
