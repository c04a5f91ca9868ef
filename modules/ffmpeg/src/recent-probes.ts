import type { ProbeResult } from './probe.js';

/**
 * ffprobe's answers about files seen unchanged, shared by the ffmpeg tasks
 * of one process (a worker): every chunk of a chunked encode probes the
 * same source, and each ffprobe costs ~60 ms of a chunk's ~160 ms fixed
 * cost. Keyed by the ffprobe used and the file's identity as
 * `path|dev|ino|size|mtimeMs|ctimeMs` (any write changes ctime, so a file
 * that changed is a new key and is probed again). The least recently used
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
