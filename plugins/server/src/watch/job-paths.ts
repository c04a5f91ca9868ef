import { isAbsolute, normalize } from 'node:path';
import { isInside } from '@sisyphus/core';

/** Most paths taken from one job document (a job naming thousands of files is cut short, not scanned whole). */
const MAX_PATHS = 1000;

/**
 * The absolute paths a job document names that lie inside one of `folders`
 * (absolute, normalised): every string value of its tasks' data, at any
 * depth, that is an absolute path (`file:` URLs too). A watch rule takes
 * those it does not know as files for the job to write (see
 * `job-settlement.ts`): paths as the server sees them, so this holds where
 * workers see the folders under the same paths.
 */
export function pathsNamedBy(job: Record<string, unknown>, folders: readonly string[]): string[] {
  const out = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (out.size >= MAX_PATHS || depth > 32) return;
    if (typeof value === 'string') {
      const text = value.startsWith('file://') ? decodeFileUrl(value) : value;
      if (text !== undefined && isAbsolute(text) && !text.includes('\0')) {
        const path = normalize(text);
        if (folders.some((folder) => path !== folder && isInside(path, folder))) out.add(path);
      }
    } else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) visit(item, depth + 1);
  };
  const tasks = job.tasks;
  if (Array.isArray(tasks)) for (const task of tasks) visit((task as { data?: unknown } | null)?.data, 0);
  return [...out];
}

/** The path of a `file://` URL, or undefined when it is not one. */
function decodeFileUrl(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
}
