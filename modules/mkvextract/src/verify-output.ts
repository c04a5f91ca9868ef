import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ErrorCodes, RunError, type ProcessRunner } from '@sisyphus/core';
import { identifySource } from './identify.js';
import type { ResolvedExtraction } from './select.js';

const unverified = (x: ResolvedExtraction, file: string, why: string) =>
  new RunError(`${x.field}: the extracted ${what(x)} (${basename(file)}) ${why}; nothing was promoted`, {
    code: ErrorCodes.OUTPUT_UNVERIFIED,
    details: { field: x.field, path: file },
  });

function what(x: ResolvedExtraction): string {
  switch (x.mode) {
    case 'tracks': return `track ${x.sourceId}`;
    case 'attachments': return `attachment ${x.sourceId}`;
    case 'timestamps': return `timestamps of track ${x.sourceId}`;
    case 'cues': return `cues of track ${x.sourceId}`;
    default: return x.mode;
  }
}

async function head(file: string, bytes = 4096): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

/** An XML document with this root element (mkvextract writes a BOM and a comment first). */
async function checkXml(x: ResolvedExtraction, file: string, root: string): Promise<void> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  if (!/^<\?xml[^>]*\?>/.test(text.trimStart()) || !new RegExp(`<${root}[\\s>]`).test(text) || !new RegExp(`</${root}>\\s*$`).test(text)) {
    throw unverified(x, file, `is not a complete <${root}> XML document`);
  }
}

/**
 * Check one extracted file before anything is promoted: it must be what
 * mkvextract was asked for. A track reads back with `mkvmerge -J` as one
 * track of the source track's type and codec; an attachment has the
 * attachment's size; chapters and tags are complete XML documents;
 * timestamps are a `timestamp format v2` file; cues are mkvextract's cue
 * lines. (Existence and a non-zero size are the claim's own checks.)
 */
export async function verifyExtraction(runner: ProcessRunner, mkvmerge: string, x: ResolvedExtraction, file: string): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw unverified(x, file, 'was not written');
  if (st.size === 0) throw unverified(x, file, 'is empty (0 bytes)');
  switch (x.mode) {
    case 'tracks': {
      const want = x.track!;
      let found;
      try {
        found = await identifySource(runner, mkvmerge, file);
      } catch (error) {
        throw unverified(x, file, `cannot be read back: ${(error as Error).message}`);
      }
      const [track, ...more] = found.tracks;
      if (!track || more.length) throw unverified(x, file, `holds ${found.tracks.length} tracks instead of 1`);
      if (track.type !== want.type) throw unverified(x, file, `reads back as ${track.type}, not ${want.type}`);
      if (want.codec && track.codec && track.codec !== want.codec) throw unverified(x, file, `reads back as ${track.codec}, not ${want.codec}`);
      return;
    }
    case 'attachments':
      if (st.size !== x.attachment!.size) throw unverified(x, file, `has ${st.size} bytes instead of ${x.attachment!.size}`);
      return;
    case 'chapters':
      return checkXml(x, file, 'Chapters');
    case 'tags':
      return checkXml(x, file, 'Tags');
    case 'timestamps': {
      const lines = (await head(file)).split('\n');
      if (lines[0]?.trim() !== '# timestamp format v2' || !/^\d+(\.\d+)?$/.test(lines[1]?.trim() ?? '')) throw unverified(x, file, 'is not a timestamp format v2 file');
      return;
    }
    case 'cues': {
      const first = (await head(file)).split('\n')[0] ?? '';
      if (!/^timestamp=\S+ duration=\S+ cluster_position=\d+/.test(first)) throw unverified(x, file, 'does not hold cue lines');
      return;
    }
  }
}
