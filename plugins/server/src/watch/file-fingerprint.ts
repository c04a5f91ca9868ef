import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Bytes read from each sampled part of a file. */
export const FINGERPRINT_SAMPLE = 1024 * 1024;

/** What a fingerprint starts with: the method, so that a later method is never compared with this one. */
const METHOD = 'h1';

/**
 * The content fingerprint of a file version: `h1:` + SHA-256 of the size
 * (decimal, then a NUL) and of three samples of 1 MiB: the first, the one in
 * the middle and the last (a file of up to 3 MiB is hashed whole).
 *
 * Why samples and not the whole file: a fingerprint is taken for every new
 * version and whenever a file's modification time changes but its size does
 * not; hashing whole media files of tens of GB on a network share would take
 * minutes each. A re-encode or remux changes the size, the container's
 * header (start) and its index (usually at the end); a tag edit changes the
 * header. What it cannot see is an edit of the same length that keeps the
 * first, middle and last MiB: such a change of a file whose modification
 * time also changed is taken for a "touch" (no new job).
 *
 * `size` is the size the caller saw; the file is read as it is now (a file
 * that changed meanwhile gives another fingerprint than it would have: the
 * caller compares sizes and times before and after when it matters).
 */
export async function fileFingerprint(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${size}\0`);
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(FINGERPRINT_SAMPLE);
    const read = async (position: number, length: number) => {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(length - done, buffer.length), position + done);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
    };
    if (size <= 3 * FINGERPRINT_SAMPLE) await read(0, size);
    else {
      await read(0, FINGERPRINT_SAMPLE);
      await read(Math.floor((size - FINGERPRINT_SAMPLE) / 2), FINGERPRINT_SAMPLE);
      await read(size - FINGERPRINT_SAMPLE, FINGERPRINT_SAMPLE);
    }
  } finally {
    await handle.close();
  }
  return `${METHOD}:${hash.digest('hex')}`;
}
