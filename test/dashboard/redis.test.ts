import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { formatProblems, launchBrowser, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { until } from '../support/processes.js';
import { deleteKeys } from '../support/redis-keys.js';
import { Farm, api, encodeJob, go, jobIn, submit, tid, waitText, type FarmServer } from './farm.js';

// Two servers on one Redis (a fresh prefix): the browser on server A sees a
// job that a worker attached to server B runs, live (its events go through
// Redis). Real servers, a real worker, real ffmpeg read at its native rate.
const REDIS = 'redis://127.0.0.1:6379/0';
const prefix = `sis-test-dashboard-${randomUUID()}`;
let farm: Farm;
let browser: Browser;
let a: FarmServer;
let b: FarmServer;
let w: WatchedPage;
let page: Page;
let clip = '';

beforeAll(async () => {
  farm = await Farm.create('redis');
  clip = await farm.sample('clip', 8);
  [a, b] = await Promise.all([farm.startServer('a', { store: REDIS, storePrefix: prefix }), farm.startServer('b', { store: REDIS, storePrefix: prefix })]);
  await farm.startWorker('wb', b);
  browser = await launchBrowser();
  w = await openPage(browser, `${a.url}/ui/`);
  page = w.page;
  await waitText(page, 'connection-state', 'live');
}, 60_000);

afterEach(() => {
  expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
});

afterAll(async () => {
  await browser?.close();
  await farm?.close();
  await deleteKeys(REDIS, prefix);
});

describe('dashboard on two servers sharing Redis', () => {
  it('the browser on server A follows a job that a worker of server B runs, to its end', async () => {
    await go(page, '#/workers');
    await tid(page, 'worker-row', { 'data-worker-id': 'wb' }).waitFor({ timeout: 15_000 });

    await go(page, '#/running');
    const id = await submit(b.url, encodeJob('runs behind server B', clip, farm.out('b'), true));
    const row = tid(page, 'running-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 20_000 });
    // Its progress arrives (heartbeats go to B; A hears of them through Redis) and moves.
    const values: number[] = [];
    await until('the progress on A to move three times', async () => {
      const v = await tid(row, 'progress').getAttribute('aria-valuenow');
      if (v !== null && Number(v) !== values.at(-1)) values.push(Number(v));
      return values.length >= 3 || undefined;
    }, 20_000);
    expect([...values].sort((x, y) => x - y)).toEqual(values);
    await expect(tid(row, 'worker').textContent()).resolves.toMatch(/wb/);
    await screenshot(page, 'redis-running-on-b');

    await row.waitFor({ state: 'detached', timeout: 20_000 });
    expect((await jobIn(a.url, id, ['completed', 'failed'])).state).toBe('completed');
    await go(page, '#/history');
    await tid(page, 'history-row', { 'data-job-id': id }).waitFor({ timeout: 10_000 });
    await go(page, '#/overview');
    await waitText(page, 'overview-completed-hour', '1');
    const both = await Promise.all([a, b].map(async (s) => (await api(s.url, 'GET', '/status/overview')).json.jobs.completed));
    expect(both).toEqual([1, 1]);
  }, 60_000);
});
