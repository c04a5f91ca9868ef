import { readDocument } from '../job/load-job-file.js';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataStore } from './data-store.js';

const SAFE_NAME = /^[\w][\w.-]*$/;

/**
 * Data kept as files: `DIR/MODULE/NAME.json` (or `.yaml`/`.yml`). Names are
 * restricted to letters, digits, `_`, `-` and `.` so a name cannot leave DIR.
 */
export function createFolderDataStore(dir: string): DataStore {
  return {
    async get(module, name) {
      if (!SAFE_NAME.test(module) || !SAFE_NAME.test(name) || name.includes('..') || module.includes('..')) return undefined;
      for (const ext of ['.json', '.yaml', '.yml']) {
        const file = join(dir, module, name + ext);
        try {
          await access(file);
        } catch {
          continue;
        }
        const doc = await readDocument(file);
        if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Record<string, unknown>;
        return undefined;
      }
      return undefined;
    },
  };
}
