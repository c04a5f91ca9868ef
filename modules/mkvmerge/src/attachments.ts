import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RunError, ValidationError, type Logger } from '@sisyphus/core';
import type { ResolvedAttachment } from './build-args.js';
import type { MkvAttachment } from './mkvmerge-schema.js';
import { detectMimeType } from './mime-type.js';

/**
 * Give every attachment a name and a MIME type. A listed file whose type
 * cannot be told is an error; files in attachment directories (top level
 * only) whose type cannot be told are skipped and logged. `phase` picks the
 * error class.
 */
export async function resolveAttachments(
  files: ReadonlyArray<MkvAttachment & { path: string; field: string }>,
  directories: ReadonlyArray<{ path: string; field: string }>,
  logger: Logger,
  phase: 'validate' | 'run',
): Promise<ResolvedAttachment[]> {
  const E = phase === 'validate' ? ValidationError : RunError;
  const out: ResolvedAttachment[] = [];
  for (const a of files) {
    // Opening a FIFO or a device would block a thread for good: attachments are files.
    const st = await stat(a.path).catch(() => undefined);
    if (st && !st.isFile()) throw new E(`${a.field}: ${a.path} is not a regular file`);
    const mimeType = a.mime_type ?? (await detectMimeType(a.path).catch(() => undefined));
    if (!mimeType) throw new E(`${a.field}: cannot tell the MIME type of ${a.path}; give mime_type`);
    out.push({ path: a.path, name: a.name ?? basename(a.path), mimeType, ...(a.description !== undefined ? { description: a.description } : {}) });
  }
  for (const dir of directories) {
    let entries;
    try {
      entries = await readdir(dir.path, { withFileTypes: true });
    } catch (error) {
      throw new E(`${dir.field}: cannot read folder ${dir.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    for (const entry of entries.filter((e) => e.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir.path, entry.name);
      const mimeType = await detectMimeType(path).catch(() => undefined);
      if (!mimeType) {
        logger.info(`${dir.field}: skipping ${path} (unknown file type)`);
        continue;
      }
      out.push({ path, name: entry.name, mimeType });
    }
  }
  return out;
}
