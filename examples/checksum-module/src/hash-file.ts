import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Hash a file as a stream (constant memory), calling `onBytes` with the
 * bytes read so far, and stopping when `signal` fires.
 */
export async function hashFile(path: string, algorithm: string, signal: AbortSignal, onBytes: (bytes: number) => void): Promise<string> {
  const hash = createHash(algorithm);
  let bytes = 0;
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes(bytes);
  }
  return hash.digest('hex');
}
