/// <reference lib="dom" />
// (DOM types: the functions given to page.evaluate and waitForFunction run in the page.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { formatProblems, launchBrowser, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { processesMentioning, until } from '../support/processes.js';
import { Farm, api, encodeJob, go, jobIn, submit, tid, waitText, type FarmServer } from './farm.js';

// Steering a live farm from the dashboard: a real server (SQLite file), one
// real worker running real ffmpeg encodes read at their native rate (`-re`,
// so an encode lasts as long as its source whatever the load), headless
// Chromium. Live updates come through `GET /events` (no polling); the last
// test restarts the server under the page. Screenshots: test-artifacts/dashboard/live-*.png.
let farm: Farm;
let browser: Browser;
let server: FarmServer;
let w: WatchedPage;
let page: Page;
let tiny = '';
let clip = '';
/** The messages of the page's `confirm()` dialogs, in order (openPage accepts them). */
const dialogs: string[] = [];

const shot = (name: string) => screenshot(page, `live-${name}`);

/** A copy of the 8 s clip under a name of its own, so its ffmpeg can be found by its command line. */
async function source(name: string): Promise<string> {
  const file = join(farm.dir, 'in', `${name}.mkv`);
  await farm.copy(clip, file);
  return file;
}

/** aria-valuenow of the progress bar in job `id`'s running row, once it is above `above`. */
async function progressAbove(id: string, above: number, timeout = 15_000): Promise<number> {
  const handle = await page.waitForFunction(
    ([jobId, min]) => {
      const bar = document.querySelector(`[data-testid="running-row"][data-job-id="${jobId}"] [data-testid="progress"]`);
      const now = Number(bar?.getAttribute('aria-valuenow'));
      return bar?.hasAttribute('aria-valuenow') && Number.isFinite(now) && now > min ? now : undefined;
    },
    [id, above] as const,
    { timeout },
  );
  return (await handle.jsonValue()) as number;
}

const queueDisabled = async () => (await api(server.url, 'GET', '/queue?limit=1')).json.attributes.disabled as boolean;
const workerDisabled = async (id: string) => (await api(server.url, 'GET', `/workers/${id}`)).json.attributes.disabled as boolean;

beforeAll(async () => {
  farm = await Farm.create('live');
  [tiny, clip] = await Promise.all([farm.sample('tiny', 1, '160x120'), farm.sample('clip', 8)]);
  server = await farm.startServer('live');
  await farm.startWorker('w1', server);
  browser = await launchBrowser();
  w = await openPage(browser, `${server.url}/ui/`);
  page = w.page;
  page.on('dialog', (d) => void dialogs.push(d.message()));
  await until('worker w1', async () => (await api(server.url, 'GET', '/workers')).json.workers.some((x: any) => x.worker_id === 'w1') || undefined);
  await waitText(page, 'connection-state', 'live');
}, 60_000);

afterEach(() => {
  expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
});

afterAll(async () => {
  await browser?.close();
  await farm?.close();
});

describe('live dashboard', () => {
  it('the progress of a running encode moves on screen, with fps, speed, ETA, worker and task', async () => {
    await go(page, '#/running');
    const id = await submit(server.url, encodeJob('progress moves', await source('progress'), farm.out('progress'), true));
    const row = tid(page, 'running-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 20_000 });
    const seen = [await progressAbove(id, -1)];
    while (seen.length < 4) seen.push(await progressAbove(id, seen.at(-1)!));
    expect(seen.every((v) => v >= 0 && v <= 100), `aria-valuenow ${seen.join(', ')}`).toBe(true);
    // What is written beside the bar agrees with it (give or take a live update in between).
    const percent = Number(/(\d+(?:\.\d+)?)\s*%/.exec((await tid(row, 'progress-percent').textContent()) ?? '')?.[1]);
    expect(percent).toBeGreaterThanOrEqual(seen.at(-1)! - 1);
    for (const name of ['fps', 'speed', 'eta', 'task']) expect((await tid(row, name).textContent())?.trim(), name).toBeTruthy();
    await expect(tid(row, 'worker').textContent()).resolves.toMatch(/w1|host-w1/);
    await shot('running-progress');
    // When it completes, it leaves the view by itself.
    await row.waitFor({ state: 'detached', timeout: 20_000 });
    expect((await jobIn(server.url, id, ['completed', 'failed'])).state).toBe('completed');
  }, 60_000);

  it('cancel a running job: it ends cancelled and its ffmpeg is gone', async () => {
    const file = await source('cancelled');
    const id = await submit(server.url, encodeJob('to be cancelled', file, farm.out('cancelled'), true));
    const row = tid(page, 'running-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 20_000 });
    await until('its ffmpeg', () => processesMentioning('ffmpeg', file).length > 0 || undefined, 10_000);
    await progressAbove(id, -1);
    await tid(row, 'cancel').click();
    expect((await jobIn(server.url, id, ['cancelled', 'completed', 'failed'], 10_000)).state).toBe('cancelled');
    // It asked first.
    expect(dialogs.at(-1)).toMatch(/^Cancel the running job "to be cancelled"\?/);
    await until('its ffmpeg to be gone', () => processesMentioning('ffmpeg', file).length === 0 || undefined, 10_000);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('pause and resume the queue: the queue state on screen and GET /queue agree, both ways', async () => {
    await go(page, '#/overview');
    await waitText(page, 'queue-state', 'running');
    await tid(page, 'queue-toggle').click();
    await waitText(page, 'queue-state', 'paused');
    await until('GET /queue to say disabled', async () => (await queueDisabled()) || undefined, 5000);
    await waitText(page, 'queue-toggle', /Resume queue/);
    await shot('overview-paused');

    // Paused, a job waits; resumed from the queue view, it runs.
    const id = await submit(server.url, encodeJob('waits for the queue', tiny, farm.out('waits')));
    await waitText(page, 'overview-queued', '1');
    expect((await api(server.url, 'GET', `/jobs/${id}`)).json.state).toBe('queued');
    await go(page, '#/queue');
    await tid(page, 'queue-row', { 'data-job-id': id }).waitFor();
    await shot('queue-paused');
    await tid(page, 'queue-toggle').click();
    await until('GET /queue to say enabled', async () => !(await queueDisabled()) || undefined, 5000);
    await jobIn(server.url, id, ['completed'], 30_000);
    await tid(page, 'queue-row', { 'data-job-id': id }).waitFor({ state: 'detached' });

    // Changed by someone else (the API): the page follows.
    await go(page, '#/overview');
    await waitText(page, 'queue-state', 'running');
    await api(server.url, 'PATCH', '/queue', { disabled: true });
    await waitText(page, 'queue-state', 'paused');
    await api(server.url, 'PATCH', '/queue', { disabled: false });
    await waitText(page, 'queue-state', 'running');
  }, 60_000);

  it('disable and enable a worker: a disabled worker takes no job', async () => {
    await go(page, '#/workers');
    const row = tid(page, 'worker-row', { 'data-worker-id': 'w1' });
    await row.waitFor();
    expect(await row.getAttribute('data-online')).toBe('true');
    await waitText(page, 'worker-toggle', /Disable/);
    await tid(row, 'worker-toggle').click();
    await until('w1 to be disabled', async () => (await workerDisabled('w1')) || undefined, 5000);
    await page.waitForFunction(() => /Enable/.test(document.querySelector('[data-testid="worker-row"][data-worker-id="w1"] [data-testid="worker-toggle"]')?.textContent ?? ''));
    for (const name of ['worker-status', 'worker-version', 'worker-heartbeat']) expect((await tid(row, name).textContent())?.trim(), name).toBeTruthy();
    await shot('workers-disabled');

    const id = await submit(server.url, encodeJob('waits for a worker', tiny, farm.out('waits-worker')));
    await go(page, '#/overview');
    await waitText(page, 'overview-workers-disabled', '1');
    await waitText(page, 'overview-queued', '1');
    expect((await api(server.url, 'GET', `/jobs/${id}`)).json.state).toBe('queued');

    await go(page, '#/workers');
    await tid(row, 'worker-toggle').click();
    await until('w1 to be enabled', async () => !(await workerDisabled('w1')) || undefined, 5000);
    await jobIn(server.url, id, ['completed'], 30_000);
    await page.waitForFunction(() => /Disable/.test(document.querySelector('[data-testid="worker-row"][data-worker-id="w1"] [data-testid="worker-toggle"]')?.textContent ?? ''));
  }, 60_000);

  it('retry a failed job: the retry is linked both ways and completes', async () => {
    const late = join(farm.dir, 'in', 'arrives-late.mkv');
    const id = await submit(server.url, encodeJob('source arrives late', late, farm.out('late')));
    expect((await jobIn(server.url, id, ['failed', 'completed'], 30_000)).state).toBe('failed');
    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'failed');
    expect((await tid(page, 'job-error').textContent())?.trim()).toBeTruthy();

    await farm.copy(tiny, late);
    await tid(page, 'retry').click();
    const link = tid(page, 'retry-link');
    await link.waitFor();
    const retryId = /#\/jobs\/([^/?#]+)/.exec((await link.getAttribute('href')) ?? '')?.[1];
    expect(retryId).toBeTruthy();
    expect(retryId).not.toBe(id);
    const old = (await api(server.url, 'GET', `/jobs/${id}`)).json;
    expect(old.retried_as).toBe(retryId);
    // Retried once: no second retry button.
    await tid(page, 'retry').waitFor({ state: 'detached' });

    await link.click();
    await page.waitForFunction((r) => window.location.hash === `#/jobs/${r}`, retryId);
    await waitText(page, 'job-state', 'completed', 30_000);
    const retried = (await api(server.url, 'GET', `/jobs/${retryId}`)).json;
    expect(retried.retry_of).toBe(id);
    expect(await tid(page, 'retry-link').getAttribute('href')).toContain(id);
    await shot('job-retried');
  }, 60_000);

  it('the live stream reconnects after a server restart and shows a job that finished meanwhile', async () => {
    const file = await source('restart');
    const id = await submit(server.url, encodeJob('finishes while the server is away', file, farm.out('restart'), true));
    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'running', 20_000);
    await until('its ffmpeg', () => processesMentioning('ffmpeg', file).length > 0 || undefined, 10_000);
    // The job page shows its live progress too.
    await page.waitForFunction(() => document.querySelector('[data-testid="progress"]')?.hasAttribute('aria-valuenow'), undefined, { timeout: 10_000 });
    await shot('job-running');
    // The page is not reloaded: this mark survives only in the same document.
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    // Whatever the page asks while the server is away fails; that is expected.
    const away = w.expect({ url: new RegExp(`^${server.url.replace(/[.]/g, '\\.')}/`) });
    await farm.stopServer('live');
    await waitText(page, 'connection-state', 'reconnecting', 10_000);
    await shot('reconnecting');
    await until('the encode to finish while the server is away', () => processesMentioning('ffmpeg', file).length === 0 || undefined, 20_000);
    expect((await tid(page, 'job-state').textContent())?.trim()).toBe('running');

    await farm.startServer('live');
    await waitText(page, 'connection-state', 'live', 20_000);
    await waitText(page, 'job-state', 'completed', 20_000);
    away();
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect((await api(server.url, 'GET', `/jobs/${id}`)).json.state).toBe('completed');
    await go(page, '#/overview');
    await waitText(page, 'overview-running', '0');
    await shot('after-restart');
  }, 90_000);
});
