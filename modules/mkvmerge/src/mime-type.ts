import { open } from 'node:fs/promises';
import { extname } from 'node:path';

/** Magic numbers of the file types people attach to Matroska files (fonts, cover art, documents). */
const SIGNATURES: Array<{ mime: string; test: (b: Buffer) => boolean }> = [
  // Apple's 'true' tag is followed by a 16-bit table count (high byte 0), so text starting with "true" is not a font.
  { mime: 'font/ttf', test: (b) => b.subarray(0, 4).equals(Buffer.from([0, 1, 0, 0])) || (b.toString('latin1', 0, 4) === 'true' && b[4] === 0) },
  { mime: 'font/otf', test: (b) => b.toString('latin1', 0, 4) === 'OTTO' },
  { mime: 'font/collection', test: (b) => b.toString('latin1', 0, 4) === 'ttcf' },
  { mime: 'font/woff', test: (b) => b.toString('latin1', 0, 4) === 'wOFF' },
  { mime: 'font/woff2', test: (b) => b.toString('latin1', 0, 4) === 'wOF2' },
  { mime: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { mime: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { mime: 'image/gif', test: (b) => b.toString('latin1', 0, 4) === 'GIF8' },
  { mime: 'image/webp', test: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP' },
  // 'BM', file size, then 4 reserved zero bytes: without them any text starting with "BM" would be a bitmap.
  { mime: 'image/bmp', test: (b) => b.toString('latin1', 0, 2) === 'BM' && b.length >= 10 && b.readUInt32LE(6) === 0 },
  { mime: 'application/pdf', test: (b) => b.toString('latin1', 0, 5) === '%PDF-' },
];

/** Text formats known by extension only (no reliable magic). */
const BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain',
  '.nfo': 'text/plain',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.srt': 'application/x-subrip',
  '.ass': 'text/x-ssa',
  '.ssa': 'text/x-ssa',
  '.cue': 'text/plain',
  '.md': 'text/markdown',
};

/**
 * The MIME type of a file from its first bytes (fonts, images, PDF), else
 * from its extension (text formats); undefined when it cannot be told.
 */
export async function detectMimeType(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytesRead >= 4) {
      const hit = SIGNATURES.find((s) => s.test(bytes));
      if (hit) return hit.mime;
    }
  } finally {
    await handle.close();
  }
  return BY_EXTENSION[extname(path).toLowerCase()];
}
