import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { describeWebhookStore } from '../src/testing/webhook-store-suite.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';

// The webhook part of the SQLite store, on real files (two handles on one file: two servers sharing it).
const dir = mkdtempSync(join(tmpdir(), 'sisyphus-webhooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let file = '';

describeWebhookStore(
  'sqlite file',
  () => openSqliteStore((file = join(dir, `${randomUUID()}.db`))),
  { another: () => openSqliteStore(file) },
);
describeWebhookStore('sqlite :memory:', () => openSqliteStore(':memory:'));
