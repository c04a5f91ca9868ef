/// <reference lib="dom" />
// (DOM types: the functions given to page.evaluate and waitForFunction run in the page.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { formatProblems, launchBrowser, lowContrastText, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { until } from '../support/processes.js';
import { Farm, api, emptyState, encodeJob, go, jobIn, submit, tid, waitText, type FarmServer } from './farm.js';

// The dashboard's views on a real server (SQLite file) with a real worker
// running real ffmpeg jobs, in headless Chromium: empty states on a fresh
// server, submitting a template through the form, the history filter, job
// pages, long titles, the queue's priorities, option sets, and 1000 workers.
// Every test ends with no console error, uncaught exception, failed request or
// unexpected HTTP error on the page, and no text below WCAG AA contrast in
// what it screenshot. Screenshots (some also at a phone's width) go to
// test-artifacts/dashboard/views-*.png.
let farm: Farm;
let browser: Browser;
let server: FarmServer;
let w: WatchedPage;
let page: Page;
let tiny = '';
let medium = '';

/** Text below WCAG AA contrast, by the screenshot it was seen on (checked in afterEach). */
const lowContrast: string[] = [];

/** A screenshot of the page as it is, after looking at the contrast of its text. */
async function shot(name: string, options?: { fullPage?: boolean }): Promise<void> {
  for (const line of await lowContrastText(page)) lowContrast.push(`${name}: ${line}`);
  await screenshot(page, `views-${name}`, options);
}

/** The same view at a phone's width too (layout check), then back to the desktop size. */
async function shotNarrow(name: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(`${name}-narrow`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The ids of the rows with test id `name` now on the page. */
const rowIds = (name: string, attr = 'data-job-id') => tid(page, name).evaluateAll((rows, a) => rows.map((r) => r.getAttribute(a)), attr);

beforeAll(async () => {
  farm = await Farm.create('views');
  [tiny, medium] = await Promise.all([farm.sample('tiny', 1, '160x120'), farm.sample('medium', 4)]);
  server = await farm.startServer('views');
  browser = await launchBrowser();
  w = await openPage(browser, `${server.url}/`);
  page = w.page;
}, 60_000);

afterEach(() => {
  expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
  expect(lowContrast.splice(0).join('\n'), 'text below WCAG AA contrast').toBe('');
});

afterAll(async () => {
  await browser?.close();
  await farm?.close();
});

describe('dashboard views', () => {
  it('a fresh server: / leads to the UI, every view loads live with its empty state', async () => {
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await waitText(page, 'connection-state', 'live');
    await waitText(page, 'overview-queued', '0');
    await waitText(page, 'overview-running', '0');
    await waitText(page, 'overview-workers-online', '0');
    await waitText(page, 'overview-workers-disabled', '0');
    await waitText(page, 'overview-completed-hour', '0');
    await waitText(page, 'overview-failed-hour', '0');
    await waitText(page, 'queue-state', 'running');
    await expect(tid(page, 'queue-toggle').textContent()).resolves.toMatch(/Pause queue/);
    await shot('empty-overview');
    await shotNarrow('empty-overview');

    for (const view of ['running', 'queue', 'workers', 'history']) {
      await go(page, `#/${view}`);
      await emptyState(page).waitFor({ timeout: 10_000 });
      await shot(`empty-${view}`);
    }
    await go(page, '#/submit');
    await tid(page, 'submit-text').waitFor();
    await shot('empty-submit');
    await go(page, '#/data');
    await tid(page, 'data-module').waitFor();
    await shot('empty-data');
    // The page of an unknown job says so (its 404 is expected), and is not a crash.
    w.expect({ url: /\/jobs\/no-such-job$/, status: 404 });
    await go(page, '#/jobs/no-such-job');
    await page.getByText(/not found|no such job|unknown job|\bno job\b/i).first().waitFor({ timeout: 10_000 });
    await shot('unknown-job');
    await go(page, '#/overview');
  }, 60_000);

  it('a job file with placeholders submitted through the form: its placeholders become inputs, problems show by path, the job completes', async () => {
    await farm.startWorker('w1', server);
    await until('worker w1', async () => (await api(server.url, 'GET', '/workers')).json.workers.some((x: any) => x.worker_id === 'w1') || undefined);

    await go(page, '#/submit');
    // A document the server refuses: its problems are listed with the paths they name.
    w.expect({ url: /\/queue(\/template)?$/, status: 400 });
    await tid(page, 'submit-text').fill(JSON.stringify({ job_title: 'no sources', tasks: [{ module: 'ffmpeg', data: { output_file: farm.out('nothing') } }] }, null, 2));
    await tid(page, 'submit-button').click();
    await tid(page, 'submit-problems').waitFor();
    const paths = await tid(page, 'problem').evaluateAll((items) => items.map((i) => i.getAttribute('data-path')));
    expect(paths.some((p) => p?.startsWith('tasks[0].data')), `problem paths: ${paths.join(', ')}`).toBe(true);
    await shot('submit-problems');

    const template = [
      'job_title: "{{ title }}"',
      'tasks:',
      '  - module: ffmpeg',
      '    data:',
      '      sources: ["{{ source }}"]',
      '      source_maps: [{ source: 0, specifier: v, stream: 0 }]',
      '      output_maps: [{ specifier: v, stream: 0, options: { codec: libx264, preset: ultrafast } }]',
      '      output_file: "{{ output }}"',
      '      overwrite: true',
      '',
    ].join('\n');
    await tid(page, 'submit-text').fill(template);
    for (const name of ['title', 'source', 'output']) await tid(page, `placeholder-${name}`).waitFor();
    await tid(page, 'placeholder-title').fill('from the form');
    await tid(page, 'placeholder-source').fill(tiny);
    // One left empty: the form says which.
    await tid(page, 'submit-button').click();
    await tid(page, 'placeholder-error-output').waitFor();
    await shot('submit-placeholders-missing');

    await tid(page, 'placeholder-output').fill(farm.out('from-the-form'));
    await tid(page, 'submit-button').click();
    const ok = tid(page, 'submit-ok');
    await ok.waitFor();
    const href = (await ok.locator('a').first().getAttribute('href')) ?? '';
    const id = /#\/jobs\/([^/?#]+)/.exec(href)?.[1];
    expect(id, `submit-ok link ${href}`).toBeTruthy();
    await shot('submit-ok');
    const done = await jobIn(server.url, id!, ['completed', 'failed'], 30_000);
    expect(done.state, JSON.stringify(done.result)).toBe('completed');
    expect(done.job_title).toBe('from the form');

    await ok.locator('a').first().click();
    await waitText(page, 'job-state', 'completed');
    await waitText(page, 'job-title', 'from the form');
    await expect(tid(page, 'job-document').textContent()).resolves.toContain(farm.out('from-the-form'));
    expect(await tid(page, 'job-task').count()).toBe(1);
    await tid(page, 'job-result').waitFor();
    await shot('job-completed');
    await shotNarrow('job-completed');
  }, 60_000);

  it('the history filter finds a job by title; state filter, job page of a failure', async () => {
    const titles = ['weekly report alpha', 'weekly report beta', 'Find the NEEDLE-7 here'];
    const ids = await Promise.all(titles.map((t, i) => submit(server.url, encodeJob(t, tiny, farm.out(`history-${i}`)))));
    // A failure with ffmpeg's own words: a source that is not a video.
    const garbage = join(farm.dir, 'in', 'garbage.mkv');
    await writeFile(garbage, 'this is not a video\n'.repeat(100));
    const failedId = await submit(server.url, encodeJob('not a video', garbage, farm.out('garbage')));
    for (const id of ids) expect((await jobIn(server.url, id, ['completed', 'failed'], 30_000)).state).toBe('completed');
    expect((await jobIn(server.url, failedId, ['completed', 'failed'], 30_000)).state).toBe('failed');

    await go(page, '#/history');
    await until('the history to list the five jobs', async () => ((await rowIds('history-row')).length >= 5 ? true : undefined), 10_000);
    await shot('history');
    await shotNarrow('history');

    await tid(page, 'filter-title').fill('needle-7');
    await tid(page, 'filter-apply').click();
    await until('the title filter to apply', async () => {
      const shown = await rowIds('history-row');
      return shown.length === 1 && shown[0] === ids[2] ? true : undefined;
    }, 10_000);
    await shot('history-filtered-title');

    // The same title among failed jobs: none.
    await tid(page, 'filter-state').selectOption('failed');
    await tid(page, 'filter-apply').click();
    await emptyState(page).waitFor({ timeout: 10_000 });
    expect(await tid(page, 'history-row').count()).toBe(0);

    await tid(page, 'filter-title').fill('');
    await tid(page, 'filter-apply').click();
    await until('the failed job alone', async () => {
      const shown = await rowIds('history-row');
      return shown.length === 1 && shown[0] === failedId ? true : undefined;
    }, 10_000);
    await tid(page, 'filter-worker').fill('w1');
    await tid(page, 'filter-apply').click();
    await until('the worker filter to keep it', async () => ((await rowIds('history-row'))[0] === failedId ? true : undefined), 10_000);
    await tid(page, 'filter-worker').fill('someone-else');
    await tid(page, 'filter-apply').click();
    await emptyState(page).waitFor({ timeout: 10_000 });

    // Back to everything, then the failure's page: its message and ffmpeg's stderr tail.
    await tid(page, 'filter-worker').fill('');
    await tid(page, 'filter-state').selectOption('all');
    await tid(page, 'filter-apply').click();
    await until('all five again', async () => ((await rowIds('history-row')).length >= 5 ? true : undefined), 10_000);
    await tid(page, 'history-row', { 'data-job-id': failedId }).locator('a').first().click();
    await waitText(page, 'job-state', 'failed');
    expect((await tid(page, 'job-error').textContent())?.trim()).toBeTruthy();
    await tid(page, 'retry').waitFor();
    await shot('job-failed');
    const stderr = await tid(page, 'job-stderr').count();
    const view = (await api(server.url, 'GET', `/jobs/${failedId}`)).json;
    const kept = JSON.stringify(view.result ?? {}).includes('stderr');
    if (kept) expect(stderr, 'the job page shows the stderr tail the module kept').toBe(1);

    // "Retry all failed" for the filter: the failure gets a retry (which fails again: still not a video).
    await go(page, '#/history');
    await tid(page, 'filter-state').selectOption('failed');
    await tid(page, 'filter-apply').click();
    await until('the failed job alone', async () => ((await rowIds('history-row')).join() === failedId ? true : undefined), 10_000);
    await tid(page, 'retry-all-failed').click();
    const retriedAs = await until('the bulk retry', async () => (await api(server.url, 'GET', `/jobs/${failedId}`)).json.retried_as as string | undefined, 10_000);
    expect((await jobIn(server.url, retriedAs, ['failed', 'completed'], 30_000)).state).toBe('failed');
    await until('the retry in the filtered list', async () => ((await rowIds('history-row')).includes(retriedAs) ? true : undefined), 10_000);
    await shot('history-retried-all');
    await tid(page, 'filter-state').selectOption('all');
    await tid(page, 'filter-apply').click();
  }, 90_000);

  it('queue: a priority change moves a job up, remove takes one out', async () => {
    await api(server.url, 'PATCH', '/queue', { disabled: true });
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) ids.push(await submit(server.url, encodeJob(`queued ${name}`, tiny, farm.out(`queued-${name}`))));
    await go(page, '#/queue');
    await until('the three in submission order', async () => ((await rowIds('queue-row')).join() === ids.join() ? true : undefined), 10_000);
    const third = tid(page, 'queue-row', { 'data-job-id': ids[2]! });
    await tid(third, 'priority-input').fill('5');
    await tid(third, 'priority-save').click();
    await until('the third to move first', async () => ((await rowIds('queue-row')).join() === [ids[2], ids[0], ids[1]].join() ? true : undefined), 10_000);
    const listed = (await api(server.url, 'GET', '/queue?limit=10')).json.queue.map((j: { job_id: string }) => j.job_id);
    expect(listed).toEqual([ids[2], ids[0], ids[1]]);
    expect((await api(server.url, 'GET', `/jobs/${ids[2]}`)).json.priority).toBe(5);
    await shot('queue-priority');

    await tid(tid(page, 'queue-row', { 'data-job-id': ids[1]! }), 'remove').click();
    await tid(page, 'queue-row', { 'data-job-id': ids[1]! }).waitFor({ state: 'detached' });
    expect((await api(server.url, 'GET', `/jobs/${ids[1]}`)).status).toBe(404);
    await api(server.url, 'PATCH', '/queue', { disabled: false });
    for (const id of [ids[0]!, ids[2]!]) expect((await jobIn(server.url, id, ['completed', 'failed'], 30_000)).state).toBe('completed');
    await emptyState(page).waitFor({ timeout: 10_000 });
  }, 60_000);

  it('long titles: queue, running, history and job page', async () => {
    const long = `A very long job title that goes on and on ${'with many words in it '.repeat(12)}and ends here`;
    const unbroken = `/srv/media/incoming/${'x'.repeat(180)}/episode.mkv`;
    await api(server.url, 'PATCH', '/queue', { disabled: true });
    const longId = await submit(server.url, encodeJob(long, medium, farm.out('long'), true));
    const unbrokenId = await submit(server.url, encodeJob(unbroken, tiny, farm.out('unbroken')));
    await go(page, '#/queue');
    await tid(page, 'queue-row', { 'data-job-id': unbrokenId }).waitFor();
    await tid(page, 'queue-row', { 'data-job-id': longId }).waitFor();
    await shot('queue-long-titles');
    await shotNarrow('queue-long-titles');
    await go(page, '#/overview');
    await waitText(page, 'overview-queued', '2');
    await waitText(page, 'queue-state', 'paused');
    await shot('overview-paused');

    await api(server.url, 'PATCH', '/queue', { disabled: false });
    await go(page, '#/running');
    await tid(page, 'running-row', { 'data-job-id': longId }).waitFor({ timeout: 20_000 });
    await page.waitForFunction((id) => document.querySelector(`[data-testid="running-row"][data-job-id="${id}"] [data-testid="progress"]`)?.hasAttribute('aria-valuenow'), longId, { timeout: 10_000 });
    await shot('running-long-title');
    await shotNarrow('running-long-title');
    await jobIn(server.url, longId, ['completed'], 30_000);
    await jobIn(server.url, unbrokenId, ['completed'], 30_000);

    await go(page, '#/history');
    await tid(page, 'history-row', { 'data-job-id': longId }).waitFor();
    await shot('history-long-titles');
    await go(page, `#/jobs/${unbrokenId}`);
    await waitText(page, 'job-state', 'completed');
    await shot('job-long-title');
  }, 90_000);

  it('option sets: list, edit with JSON checking, delete', async () => {
    const record = { options: { codec: 'libx264', preset: 'fast', crf: 20 } };
    expect((await api(server.url, 'POST', '/data/ffmpeg/x264-fast', record)).status).toBe(200);
    await go(page, '#/data');
    await tid(page, 'data-module').selectOption('ffmpeg');
    const row = tid(page, 'data-row', { 'data-name': 'x264-fast' });
    await row.click();
    await page.waitForFunction(() => ((document.querySelector('[data-testid="data-editor"]') as HTMLTextAreaElement | null)?.value ?? '').includes('crf'));
    await shot('data');

    await tid(page, 'data-editor').fill('{ "options": ');
    await tid(page, 'data-save').click();
    await tid(page, 'data-error').waitFor();
    await shot('data-error');

    await tid(page, 'data-editor').fill(JSON.stringify({ options: { codec: 'libx264', preset: 'slow', crf: 18 } }, null, 2));
    await tid(page, 'data-save').click();
    await until('the saved record', async () => ((await api(server.url, 'GET', '/data/ffmpeg/x264-fast')).json?.options?.crf === 18 ? true : undefined), 10_000);

    w.expect({ url: /\/data\/ffmpeg\/x264-fast$/, status: 404 });
    await tid(page, 'data-delete').click();
    await until('the record to be deleted', async () => ((await api(server.url, 'GET', '/data/ffmpeg/x264-fast')).status === 404 ? true : undefined), 10_000);
    await row.waitFor({ state: 'detached' });
  }, 60_000);

  it('1000 workers: overview counts them, the workers view stays usable', async () => {
    const onlineAt = new Date().toISOString();
    let next = 0;
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < 1000) {
          const n = String(++next).padStart(4, '0');
          const res = await api(server.url, 'POST', `/workers/sim-${n}`, { status: 'idle', hostname: `sim-host-${n}.farm.lan`, version: '1.0.0', online_at: onlineAt });
          if (res.status !== 200) throw new Error(`heartbeat of sim-${n}: ${res.status} ${JSON.stringify(res.json)}`);
        }
      }),
    );
    await go(page, '#/overview');
    await waitText(page, 'overview-workers-online', '1001');
    await shot('overview-1000-workers');

    const t0 = Date.now();
    await go(page, '#/workers');
    await tid(page, 'worker-row', { 'data-worker-id': 'w1' }).or(tid(page, 'worker-row').first()).first().waitFor({ timeout: 15_000 });
    const shownAfter = Date.now() - t0;
    const rendered = await tid(page, 'worker-row').count();
    console.log(`workers view with 1001 workers: first rows after ${shownAfter} ms, ${rendered} rows in the DOM`);
    await shot('workers-1000', { fullPage: false });
    await tid(page, 'worker-row').last().scrollIntoViewIfNeeded();
    await shot('workers-1000-scrolled', { fullPage: false });
    // Still responsive: another view opens at once.
    await go(page, '#/overview');
    await waitText(page, 'overview-workers-online', '1001', 5000);
  }, 60_000);
});
