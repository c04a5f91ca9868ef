import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { describeWatchStore } from '../src/testing/watch-store-suite.js';

// The watch part of the SQLite store: in memory, and in a file that is closed and opened again.
describeWatchStore('sqlite :memory:', () => openSqliteStore(':memory:'));

const dir = mkdtempSync(join(tmpdir(), 'sis-watch-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let file = '';
let n = 0;
describeWatchStore(
  'sqlite file',
  () => {
    file = join(dir, `store-${n++}.db`);
    return openSqliteStore(file);
  },
  { reopen: () => openSqliteStore(file) },
);
