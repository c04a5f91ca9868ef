import { lstat } from 'node:fs/promises';
import type { ProbeResult } from './probe.js';

/**
 * ffprobe's answers about files seen unchanged, shared by the ffmpeg tasks
 * of one process (a worker): every chunk of a chunked encode probes the
 * same source, and each ffprobe costs ~60 ms of a chunk's ~160 ms fixed
 * cost. Keyed by {@link probeKey}; an answer is kept only when the key was
 * the same before and after ffprobe read the file. The least recently used
 * answer goes first beyond `limit`. Answers are copied in and out: a task
 * may not change another's.
 */
export class RecentProbes {
  readonly #entries = new Map<string, ProbeResult>();

  constructor(readonly limit = 32) {}

  /** The answer for `key`, or undefined. */
  get(key: string): ProbeResult | undefined {
    const found = this.#entries.get(key);
    if (!found) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, found);
    return structuredClone(found);
  }

  set(key: string, result: ProbeResult): void {
    this.#entries.delete(key);
    this.#entries.set(key, structuredClone(result));
    while (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** The process's {@link RecentProbes}. */
export const recentProbes = new RecentProbes();

/**
 * The key of `path` in {@link RecentProbes}: the ffprobe used and the
 * file's identity, `path|dev|ino|size|mtimeMs|ctimeMs` from `lstat`. Any
 * write, rename or link changes ctime, which no one can set back, so a
 * file that changed is a new key. Undefined (not cached) for anything but
 * a regular file: a symlink's target can change under the same identity.
 */
export async function probeKey(ffprobe: string, path: string): Promise<string | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return `${ffprobe}|${path}|${st.dev}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}`;
}
