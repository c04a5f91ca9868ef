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
/** The messages of the page's `confirm()` dialogs, in order (openPage accepts them). */
const dialogs: string[] = [];

/** Text below WCAG AA contrast, and layout faults, by the screenshot they were seen on (checked in afterEach). */
const lowContrast: string[] = [];
const layout: string[] = [];

/**
 * Layout faults on the page as it is: a table header whose text does not fit its column
 * (clipped, or running under the next one), a page wider than the window (it would scroll
 * sideways; a table may scroll inside its own box), and, with `toasts`, a control (link,
 * button, input) under a message.
 */
function layoutFaults(toasts: boolean): Promise<string[]> {
  return page.evaluate((checkToasts) => {
    const faults: string[] = [];
    for (const th of Array.from(document.querySelectorAll('th'))) {
      if (!th.textContent?.trim() || th.getClientRects().length === 0) continue;
      const range = document.createRange();
      range.selectNodeContents(th);
      const text = range.getBoundingClientRect();
      const box = th.getBoundingClientRect();
      const style = getComputedStyle(th);
      const right = box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
      const left = box.left + parseFloat(style.paddingLeft);
      if (text.right > right + 0.5 || text.left < left - 0.5) faults.push(`header "${th.textContent.trim()}" does not fit its column (${Math.round(text.width)} px of text, ${Math.round(right - left)} px of room)`);
    }
    const wide = document.documentElement.scrollWidth;
    if (wide > window.innerWidth) faults.push(`the page is ${wide} px wide in a ${window.innerWidth} px window`);
    if (checkToasts) {
      const messages = Array.from(document.querySelectorAll('[data-testid="toast"] > *')).map((t) => t.getBoundingClientRect());
      for (const el of Array.from(document.querySelectorAll('a, button, input, select, textarea, summary'))) {
        if (el.closest('[data-testid="toast"]') || el.getClientRects().length === 0) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (messages.some((m) => m.left < r.right && r.left < m.right && m.top < r.bottom && r.top < m.bottom)) {
          faults.push(`a message covers ${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || el.getAttribute('data-testid') || '').trim().slice(0, 40)}"`);
        }
      }
    }
    return faults;
  }, toasts);
}

/** A screenshot of the page as it is, after looking at the contrast of its text and its layout. */
async function shot(name: string, options?: { fullPage?: boolean }): Promise<void> {
  for (const line of await lowContrastText(page)) lowContrast.push(`${name}: ${line}`);
  const desktop = (page.viewportSize()?.width ?? 0) >= 1000;
  for (const line of await layoutFaults(desktop)) layout.push(`${name}: ${line}`);
  await screenshot(page, `views-${name}`, options);
}

/** The same view at a phone's width too (layout check: nothing wider than the window), then back to the desktop size. */
async function shotNarrow(name: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(`${name}-narrow`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The same view 1000 px wide too (the narrowest desktop layout), then back to 1280 px. */
async function shot1000(name: string): Promise<void> {
  await page.setViewportSize({ width: 1000, height: 800 });
  await shot(`${name}-1000`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The computed `font-family` of the element with test id `name`. */
const fontOf = (name: string) => tid(page, name).first().evaluate((el) => getComputedStyle(el).fontFamily);
const monospace = /mono|courier|consolas|menlo/i;

/** The text of each row's cell in the column headed `header` (of the table holding the rows with test id `row`). */
const columnText = (row: string, header: string) =>
  page.evaluate(
    ([r, h]) => {
      const rows = Array.from(document.querySelectorAll(`[data-testid="${r}"]`)) as HTMLTableRowElement[];
      const heads = Array.from(rows[0]?.closest('table')?.querySelectorAll('th') ?? []);
      const at = heads.findIndex((th) => th.textContent?.trim() === h);
      return at < 0 ? [] : rows.map((tr) => tr.cells[at]?.textContent?.trim() ?? '');
    },
    [row, header] as const,
  );

/** "Retry all failed" is disabled, and its tooltip says why (matching `why`). */
async function retryAllDisabled(why: RegExp): Promise<void> {
  await page.waitForFunction(() => (document.querySelector('[data-testid="retry-all-failed"]') as HTMLButtonElement | null)?.disabled === true, undefined, { timeout: 10_000 });
  expect(await tid(page, 'retry-all-failed').getAttribute('title')).toMatch(why);
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
  page.on('dialog', (d) => void dialogs.push(d.message()));
}, 60_000);

afterEach(() => {
  const [contrast, faults] = [lowContrast.splice(0), layout.splice(0)];
  expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
  expect(contrast.join('\n'), 'text below WCAG AA contrast').toBe('');
  expect(faults.join('\n'), 'layout faults').toBe('');
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
      await shotNarrow(`empty-${view}`);
    }
    await go(page, '#/submit');
    await tid(page, 'submit-text').waitFor();
    await shot('empty-submit');
    await go(page, '#/data');
    await tid(page, 'data-module').waitFor();
    await shot('empty-data');
    await shotNarrow('empty-data');
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
    // Values are file paths: wide inputs, in a monospace font like the job file.
    for (const name of ['submit-text', 'placeholder-source']) expect(await fontOf(name), `${name} font`).toMatch(monospace);
    const inputWidth = (await tid(page, 'placeholder-source').boundingBox())?.width ?? 0;
    expect(inputWidth, 'width of a placeholder input at 1280 px').toBeGreaterThanOrEqual(480);
    const pathFits = await tid(page, 'placeholder-source').evaluate((el) => el.scrollWidth <= el.clientWidth);
    expect(pathFits, `the path ${tiny} fits its input`).toBe(true);
    // One left empty: the form says which.
    await tid(page, 'submit-button').click();
    await tid(page, 'placeholder-error-output').waitFor();
    await shot('submit-placeholders-missing');
    await shotNarrow('submit-placeholders-missing');

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
    // Tasks are numbered from 1, as the CLI and the worker logs count them (the record's index is 0-based).
    expect((await tid(page, 'job-task').first().locator('td').first().textContent())?.trim()).toBe('1');
    expect(done.result.tasks[0].index).toBe(0);
    await tid(page, 'job-result').waitFor();
    // A sub-second runtime reads as such, not "0:00:00".
    const summary = (await tid(page, 'job-result').textContent()) ?? '';
    expect(summary).toMatch(/Completed in (\d+ ms|\d+\.\d s|\d+:\d\d:\d\d) on/);
    if (done.result.runtime < 60) expect(summary).not.toContain('0:00:00');
    await shot('job-completed');
    await shotNarrow('job-completed');
  }, 60_000);

  it('submit: an unparsable job file is explained in full; another file or no text resets the priority and values that no longer apply', async () => {
    w.expect({ url: /\/queue\/template$/, status: 400 });
    await go(page, '#/submit');
    const broken = ['job_title: broken', 'tasks:', '  - module: ffmpeg', '    data: { sources: ["/in/a.mkv }', ''].join('\n');
    await tid(page, 'submit-text').fill(broken);
    const problem = tid(page, 'problem', { 'data-path': 'template' });
    await problem.waitFor();
    // Whatever the server says about it, every line of it (a parser's message may be several).
    const answer = await api<{ problems: Array<{ path: string; message: string }> }>(server.url, 'POST', '/queue/template', { template: broken, check: true });
    expect(answer.status).toBe(400);
    const message = answer.json.problems.find((p) => p.path === 'template')!.message;
    const shown = await problem.innerText();
    for (const line of message.split('\n').filter((l) => l.trim())) expect(shown).toContain(line.trim());
    // And no claim about placeholders while the text does not parse.
    expect(await page.getByText(/has no \{\{ placeholders \}\}/).count()).toBe(0);
    await shot('submit-unparsable');

    const fileA = ['job_title: "{{ title }}"', 'tasks:', '  - module: ffmpeg', '    data: { sources: ["{{ source }}"], output_file: "{{ output }}" }', ''].join('\n');
    const fileB = ['job_title: other job', 'tasks:', '  - module: ffmpeg', '    data: { sources: ["{{ source }}"], output_file: "{{ dest }}" }', ''].join('\n');
    await writeFile(join(farm.dir, 'a.yaml'), fileA);
    await writeFile(join(farm.dir, 'b.yaml'), fileB);
    await tid(page, 'submit-file').setInputFiles(join(farm.dir, 'a.yaml'));
    for (const name of ['title', 'source', 'output']) await tid(page, `placeholder-${name}`).waitFor();
    await expect(tid(page, 'problem').count()).resolves.toBe(0);
    await tid(page, 'placeholder-title').fill('a title');
    await tid(page, 'placeholder-source').fill('/in/a.mkv');
    await tid(page, 'submit-priority').fill('7');
    // Another file: the priority goes, and so does the value of {{ title }}, which it does not have.
    await tid(page, 'submit-file').setInputFiles(join(farm.dir, 'b.yaml'));
    await tid(page, 'placeholder-dest').waitFor();
    await tid(page, 'placeholder-title').waitFor({ state: 'detached' });
    expect(await tid(page, 'submit-text').inputValue()).toBe(fileB);
    expect(await tid(page, 'submit-priority').inputValue()).toBe('');
    expect(await tid(page, 'placeholder-source').inputValue()).toBe('/in/a.mkv');
    await tid(page, 'submit-file').setInputFiles(join(farm.dir, 'a.yaml'));
    await tid(page, 'placeholder-title').waitFor();
    expect(await tid(page, 'placeholder-title').inputValue()).toBe('');
    // No text at all: nothing of the last job is kept.
    await tid(page, 'submit-priority').fill('3');
    await tid(page, 'submit-text').fill('');
    await tid(page, 'placeholder-source').waitFor({ state: 'detached' });
    expect(await tid(page, 'submit-priority').inputValue()).toBe('');
    await tid(page, 'submit-text').fill(fileA);
    await tid(page, 'placeholder-source').waitFor();
    expect(await tid(page, 'placeholder-source').inputValue()).toBe('');
    await tid(page, 'submit-text').fill('');
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

    // The overview's "failed (last hour)" card opens the history filtered as it counts; Back returns.
    await go(page, '#/overview');
    await waitText(page, 'overview-failed-hour', /^[1-9]/);
    const card = tid(page, 'overview-failed-hour').locator('xpath=ancestor::a[1]');
    expect(await card.getAttribute('href')).toMatch(/^#\/history\?state=failed&since=\d{4}-/);
    await card.click();
    await page.waitForFunction(() => location.hash.startsWith('#/history?state=failed&since='));
    await until('the failed jobs of the last hour', async () => ((await rowIds('history-row')).join() === failedId ? true : undefined), 10_000);
    expect(await tid(page, 'filter-state').inputValue()).toBe('failed');
    expect(await tid(page, 'filter-since').inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);
    await page.goBack();
    await tid(page, 'overview-failed-hour').waitFor();

    await go(page, '#/history');
    await until('the history to list the five jobs', async () => ((await rowIds('history-row')).length >= 5 ? true : undefined), 10_000);
    // Runtimes under a second read in seconds ("0.4 s"), not "0:00:00".
    const runtimes = await columnText('history-row', 'Runtime');
    expect(runtimes.length).toBeGreaterThanOrEqual(5);
    for (const text of runtimes) expect(text).toMatch(/^(\d+ ms|\d+\.\d s|\d+:\d\d:\d\d)$/);
    expect(runtimes).not.toContain('0:00:00');
    // With failures on the page, "Retry all failed" can act.
    expect(await tid(page, 'retry-all-failed').isEnabled()).toBe(true);
    await shot('history');
    await shotNarrow('history');
    await shot1000('history');

    await tid(page, 'filter-title').fill('needle-7');
    await tid(page, 'filter-apply').click();
    await until('the title filter to apply', async () => {
      const shown = await rowIds('history-row');
      return shown.length === 1 && shown[0] === ids[2] ? true : undefined;
    }, 10_000);
    await shot('history-filtered-title');
    // The applied filter is in the URL: a filtered view can be linked.
    expect(await page.evaluate(() => location.hash)).toBe('#/history?title=needle-7');

    // The same title among failed jobs: none, and so nothing to retry.
    await tid(page, 'filter-state').selectOption('failed');
    await tid(page, 'filter-apply').click();
    await emptyState(page).waitFor({ timeout: 10_000 });
    expect(await tid(page, 'history-row').count()).toBe(0);
    await retryAllDisabled(/no failed jobs/i);
    expect(await page.evaluate(() => location.hash)).toBe('#/history?state=failed&title=needle-7');
    // Back restores the filter before (the form too).
    await page.goBack();
    await page.waitForFunction(() => location.hash === '#/history?title=needle-7');
    await until('the title filter again', async () => ((await rowIds('history-row')).join() === ids[2] ? true : undefined), 10_000);
    expect(await tid(page, 'filter-state').inputValue()).toBe('');
    expect(await tid(page, 'filter-title').inputValue()).toBe('needle-7');

    // Completed (or cancelled) jobs only: never a failed one to retry.
    await tid(page, 'filter-title').fill('');
    await tid(page, 'filter-state').selectOption('completed');
    await tid(page, 'filter-apply').click();
    await until('the completed jobs alone', async () => {
      const states = await columnText('history-row', 'State');
      return states.length >= 4 && states.every((x) => x === 'completed') ? true : undefined;
    }, 10_000);
    await retryAllDisabled(/excludes failed/i);
    await shot('history-completed');
    await tid(page, 'filter-state').selectOption('failed');

    await tid(page, 'filter-apply').click();
    await until('the failed job alone', async () => {
      const shown = await rowIds('history-row');
      return shown.length === 1 && shown[0] === failedId ? true : undefined;
    }, 10_000);
    expect(await tid(page, 'retry-all-failed').isEnabled()).toBe(true);
    await tid(page, 'filter-worker').fill('w1');
    await tid(page, 'filter-apply').click();
    await until('the worker filter to keep it', async () => ((await rowIds('history-row'))[0] === failedId ? true : undefined), 10_000);
    // The known workers are offered as "host name (id)"; the host name people see finds its worker's id.
    expect(await page.locator('#history-workers option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toContain('host-w1 (w1)');
    await tid(page, 'filter-worker').fill('');
    await tid(page, 'filter-apply').click();
    await page.waitForFunction(() => location.hash === '#/history?state=failed');
    await tid(page, 'filter-worker').fill('host-w1');
    await tid(page, 'filter-apply').click();
    await page.waitForFunction(() => location.hash === '#/history?state=failed&worker=w1');
    await until('the host name filter to keep it', async () => ((await rowIds('history-row'))[0] === failedId ? true : undefined), 10_000);
    expect(await tid(page, 'filter-worker').inputValue()).toBe('host-w1 (w1)');
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
    // When the server's limit (1000 a call) stopped it with matching jobs left, its answer says `more: true`
    // (more than 1000 failed jobs are not made here: the real answer gets the flag added on its way).
    await page.route('**/jobs/retry', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...(await response.json()), more: true } });
    });
    await tid(page, 'retry-all-failed').click();
    await tid(page, 'toast').getByText('1 retried; more remain: press again').waitFor();
    await page.unroute('**/jobs/retry');
    expect(dialogs.at(-1)).toMatch(/at most 1000/);
    const retriedAs = await until('the bulk retry', async () => (await api(server.url, 'GET', `/jobs/${failedId}`)).json.retried_as as string | undefined, 10_000);
    expect((await jobIn(server.url, retriedAs, ['failed', 'completed'], 30_000)).state).toBe('failed');
    await until('the retry in the filtered list', async () => ((await rowIds('history-row')).includes(retriedAs) ? true : undefined), 10_000);
    await shot('history-retried-all');
    // At a phone's width "← retry of" stays on one line.
    await page.setViewportSize({ width: 390, height: 844 });
    const retryLinks = await page.locator('td.col-retry a').evaluateAll((links) => links.map((a) => ({ text: a.textContent, lines: a.getClientRects().length })));
    expect(retryLinks.map((l) => l.text)).toContain('← retry of');
    for (const link of retryLinks) expect(link.lines, `lines of "${link.text}"`).toBe(1);
    // (The table scrolled sideways, to show its retry column.)
    await page.locator('.table-wrap').first().evaluate((el) => (el.scrollLeft = el.scrollWidth));
    await shot('history-retried-all-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
    await tid(page, 'filter-state').selectOption('all');
    await tid(page, 'filter-apply').click();
  }, 90_000);

  it('the history form keeps a choice made before the view settled (its first effects run after the first paint)', async () => {
    await go(page, '#/overview');
    // The state is chosen as soon as the form is in the DOM, before the next frame runs the view's effects.
    const shown = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const select = () => document.querySelector<HTMLSelectElement>('[data-testid="filter-state"]');
          const observer = new MutationObserver(() => {
            if (!select()) return;
            observer.disconnect();
            select()!.value = 'failed';
            select()!.dispatchEvent(new Event('change', { bubbles: true }));
            requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => resolve(select()!.value), 300)));
          });
          observer.observe(document.body, { childList: true, subtree: true });
          location.hash = '#/history';
        }),
    );
    expect(shown).toBe('failed');
    await tid(page, 'filter-apply').click();
    await page.waitForFunction(() => location.hash === '#/history?state=failed');
    await tid(page, 'filter-state').selectOption('all');
    await tid(page, 'filter-apply').click();
    await page.waitForFunction(() => location.hash === '#/history');
  });

  it('a job that fails in ffmpeg: its page shows the stderr tail ffmpeg left', async () => {
    const job = encodeJob('bad preset', tiny, farm.out('bad-preset'));
    job.tasks[0]!.data.output_maps[0]!.options.preset = 'no-such-preset';
    const id = await submit(server.url, job);
    const view = await jobIn(server.url, id, ['completed', 'failed'], 30_000);
    expect(view.state).toBe('failed');
    // What the ffmpeg module keeps: the last lines of ffmpeg's stderr, in the run error's details.
    const error = view.result.tasks[0].error;
    expect(error.phase).toBe('run');
    expect(Array.isArray(error.details?.stderrTail), JSON.stringify(error)).toBe(true);
    expect(error.details.stderrTail.join('\n')).toMatch(/no-such-preset/);

    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'failed');
    await expect(tid(page, 'job-error').textContent()).resolves.toMatch(/ffmpeg exited with code/);
    const stderr = (await tid(page, 'job-stderr').textContent()) ?? '';
    for (const line of error.details.stderrTail as string[]) expect(stderr).toContain(line);
    await shot('job-failed-ffmpeg');
    await shotNarrow('job-failed-ffmpeg');
  }, 60_000);

  it('queue: a priority change moves a job up, remove takes one out', async () => {
    await api(server.url, 'PATCH', '/queue', { disabled: true });
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) ids.push(await submit(server.url, encodeJob(`queued ${name}`, tiny, farm.out(`queued-${name}`))));
    // The history ("all" states) lists finished jobs only: not these.
    await go(page, '#/history');
    await until('the history', async () => ((await rowIds('history-row')).length > 0 ? true : undefined), 10_000);
    expect((await rowIds('history-row')).filter((id) => ids.includes(id!))).toEqual([]);
    expect((await columnText('history-row', 'State')).every((x) => ['completed', 'failed', 'cancelled'].includes(x))).toBe(true);
    await go(page, '#/queue');
    await until('the three in submission order', async () => ((await rowIds('queue-row')).join() === ids.join() ? true : undefined), 10_000);
    const third = tid(page, 'queue-row', { 'data-job-id': ids[2]! });
    await tid(third, 'priority-input').fill('5');
    await tid(third, 'priority-save').click();
    await until('the third to move first', async () => ((await rowIds('queue-row')).join() === [ids[2], ids[0], ids[1]].join() ? true : undefined), 10_000);
    // Its message covers no control (checked by shot), and can be dismissed.
    await tid(page, 'toast').getByText(/Priority of queued third/).waitFor();
    const listed = (await api(server.url, 'GET', '/queue?limit=10')).json.queue.map((j: { job_id: string }) => j.job_id);
    expect(listed).toEqual([ids[2], ids[0], ids[1]]);
    expect((await api(server.url, 'GET', `/jobs/${ids[2]}`)).json.priority).toBe(5);
    await shot('queue-priority');
    await shot1000('queue-priority');
    await tid(page, 'toast').getByRole('button', { name: 'Dismiss' }).first().click();
    await tid(page, 'toast').getByText(/Priority of queued third/).waitFor({ state: 'detached' });

    await tid(tid(page, 'queue-row', { 'data-job-id': ids[1]! }), 'remove').click();
    await tid(page, 'queue-row', { 'data-job-id': ids[1]! }).waitFor({ state: 'detached' });
    expect((await api(server.url, 'GET', `/jobs/${ids[1]}`)).status).toBe(404);
    expect(dialogs.at(-1)).toMatch(/^Remove "queued second" from the queue\?/);
    // Cancelling from a job's page asks first too.
    const cancelId = await submit(server.url, encodeJob('cancelled from its page', tiny, farm.out('cancelled-page')));
    await go(page, `#/jobs/${cancelId}`);
    await waitText(page, 'job-state', 'queued');
    await tid(page, 'cancel').click();
    await waitText(page, 'job-state', 'cancelled');
    expect(dialogs.at(-1)).toMatch(/^Cancel this queued job\?/);
    await go(page, '#/queue');
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
    await shot1000('queue-long-titles');
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
    // The job page shows the whole title, wrapped (lists cut it with an ellipsis).
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width > 1000 ? 800 : 844 });
      const title = await tid(page, 'job-title').evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { text: el.textContent, right: r.right, lines: Math.round(r.height / parseFloat(getComputedStyle(el).lineHeight)), overflow: el.scrollWidth > el.clientWidth };
      });
      expect(title.text).toBe(unbroken);
      expect(title.lines, `lines of the title at ${width} px`).toBeGreaterThan(1);
      expect(title.right, `right edge of the title at ${width} px`).toBeLessThanOrEqual(width);
      expect(title.overflow).toBe(false);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot('job-long-title');
    await shotNarrow('job-long-title');
  }, 90_000);

  it('option sets: list, edit with JSON checking, delete', async () => {
    const record = { options: { codec: 'libx264', preset: 'fast', crf: 20 } };
    expect((await api(server.url, 'POST', '/data/ffmpeg/x264-fast', record)).status).toBe(200);
    await go(page, '#/data');
    await tid(page, 'data-module').selectOption('ffmpeg');
    const row = tid(page, 'data-row', { 'data-name': 'x264-fast' });
    await row.click();
    await page.waitForFunction(() => ((document.querySelector('[data-testid="data-editor"]') as HTMLTextAreaElement | null)?.value ?? '').includes('crf'));
    expect(await fontOf('data-editor'), 'the JSON editor font').toMatch(monospace);
    await shot('data');

    await tid(page, 'data-editor').fill('{ "options": ');
    await tid(page, 'data-save').click();
    await tid(page, 'data-error').waitFor();
    await shot('data-error');

    await tid(page, 'data-editor').fill(JSON.stringify({ options: { codec: 'libx264', preset: 'slow', crf: 18 } }, null, 2));
    await tid(page, 'data-save').click();
    await until('the saved record', async () => ((await api(server.url, 'GET', '/data/ffmpeg/x264-fast')).json?.options?.crf === 18 ? true : undefined), 10_000);

    // "New" with a name that exists: refused, the stored record untouched (never overwritten unseen).
    const dataError = async () => ((await tid(page, 'data-error').textContent()) ?? '').trim();
    await tid(page, 'data-new-name').fill('x264-fast');
    await tid(page, 'data-new').click();
    await waitText(page, 'data-error', 'ffmpeg/x264-fast exists already: open it from the list');
    await shot('data-new-exists');
    expect((await api(server.url, 'GET', '/data/ffmpeg/x264-fast')).json.options.crf).toBe(18);
    // Names are checked with the server's rule before anything is sent, and refused in plain words.
    for (const [name, why] of [
      ['.hidden', /cannot start with "\." or "-"/],
      ['-dash', /cannot start with "\." or "-"/],
      ['my set/1', /only have letters, digits, "_", "\." and "-" \(not spaces, "\/"\)/],
      ['x'.repeat(129), /at most 128 characters long \(this one has 129\)/],
    ] as const) {
      await tid(page, 'data-new-name').fill(name);
      await tid(page, 'data-new').click();
      await page.waitForFunction((n) => document.querySelector('[data-testid="data-error"]') !== null && (document.querySelector('[data-testid="data-new-name"]') as HTMLInputElement).value === n, name);
      const text = await dataError();
      expect(text, name).toMatch(why);
      expect(text, name).not.toMatch(/\^|\[A-Za-z/);
    }
    await shot('data-new-bad-name');
    // A good name: a new record, saved.
    await tid(page, 'data-new-name').fill('my-new.set_1');
    await tid(page, 'data-new').click();
    await page.waitForFunction(() => ((document.querySelector('[data-testid="data-editor"]') as HTMLTextAreaElement | null)?.value ?? '').includes('"options"'));
    expect(await tid(page, 'data-error').count()).toBe(0);
    await tid(page, 'data-save').click();
    await until('the new record', async () => ((await api(server.url, 'GET', '/data/ffmpeg/my-new.set_1')).status === 200 ? true : undefined), 10_000);
    // Made by someone else between "New" and "Save": the save is refused, theirs kept.
    await tid(page, 'data-new-name').fill('made-meanwhile');
    await tid(page, 'data-new').click();
    await page.waitForFunction(() => /made-meanwhile/.test(document.querySelector('.data-editor h2')?.textContent ?? ''));
    expect((await api(server.url, 'POST', '/data/ffmpeg/made-meanwhile', { options: { crf: 30 } })).status).toBe(200);
    await tid(page, 'data-save').click();
    await waitText(page, 'data-error', 'ffmpeg/made-meanwhile exists already: open it from the list');
    expect((await api(server.url, 'GET', '/data/ffmpeg/made-meanwhile')).json.options).toEqual({ crf: 30 });
    await tid(page, 'data-row', { 'data-name': 'x264-fast' }).click();
    await page.waitForFunction(() => ((document.querySelector('[data-testid="data-editor"]') as HTMLTextAreaElement | null)?.value ?? '').includes('"crf": 18'));

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
    await shotNarrow('workers-1000');
    await tid(page, 'worker-row').last().scrollIntoViewIfNeeded();
    await shot('workers-1000-scrolled', { fullPage: false });
    // Still responsive: another view opens at once.
    await go(page, '#/overview');
    await waitText(page, 'overview-workers-online', '1001', 5000);
  }, 60_000);

  it('a running job whose worker reports no percent: an indeterminate bar, on the running view and the job page', async () => {
    // The real worker stays out of it; a worker of our own takes the job and heartbeats without progress.
    await api(server.url, 'PATCH', '/workers/w1', { disabled: true });
    const id = await submit(server.url, encodeJob('progress unknown', tiny, farm.out('unknown')));
    const leased = await api(server.url, 'GET', '/queue/poll?worker_id=sim-unknown');
    expect(leased.status).toBe(200);
    expect(leased.json.job_id).toBe(id);
    await go(page, '#/running');
    const row = tid(page, 'running-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 10_000 });
    const beat = { status: 'running', hostname: 'sim-unknown-host', version: '1.0.0', online_at: new Date().toISOString(), job_id: id, job_title: 'progress unknown', task: 'ffmpeg' };
    expect((await api(server.url, 'POST', '/workers/sim-unknown', beat)).status).toBe(200);
    await page.waitForFunction((jobId) => document.querySelector(`[data-testid="running-row"][data-job-id="${jobId}"] [data-testid="task"]`)?.textContent === 'ffmpeg', id, { timeout: 10_000 });
    const bar = tid(row, 'progress');
    expect(await bar.getAttribute('aria-valuenow')).toBeNull();
    expect(await bar.getAttribute('class')).toMatch(/\bindeterminate\b/);
    expect((await tid(row, 'progress-percent').textContent())?.trim()).toBe('—');
    await expect(tid(row, 'worker').textContent()).resolves.toContain('sim-unknown-host');
    await shot('running-indeterminate');
    await shotNarrow('running-indeterminate');

    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'running');
    const jobBar = tid(page, 'progress');
    await jobBar.waitFor();
    expect(await jobBar.getAttribute('aria-valuenow')).toBeNull();
    expect(await jobBar.getAttribute('class')).toMatch(/\bindeterminate\b/);
    await shot('job-running-indeterminate');

    // Our worker reports it failed; the real one takes jobs again.
    const report = await api(server.url, 'PATCH', `/jobs/${id}/completed`, { failed: true, info: { worker_id: 'sim-unknown', message: 'stopped by the test' } });
    expect(report.status, JSON.stringify(report.json)).toBe(200);
    await waitText(page, 'job-state', 'failed');
    await api(server.url, 'PATCH', '/workers/w1', { disabled: false });
  }, 60_000);
  it('worker statuses read as words: running, idle, starting (the raw value in the tooltip)', async () => {
    const beat = (status: string, hostname: string) => ({ status, hostname, version: '1.0.0', online_at: new Date().toISOString() });
    expect((await api(server.url, 'POST', '/workers/sim-busy', beat('in_progress', 'status-busy'))).status).toBe(200);
    expect((await api(server.url, 'POST', '/workers/sim-starting', beat('startup', 'status-starting'))).status).toBe(200);
    await go(page, '#/workers');
    const filter = page.getByPlaceholder('Filter by host or id');
    for (const [id, shown, raw] of [['sim-busy', 'running', 'in_progress'], ['sim-starting', 'starting', 'startup'], ['w1', 'idle', 'idle']] as const) {
      await filter.fill(id);
      const status = tid(tid(page, 'worker-row', { 'data-worker-id': id }), 'worker-status');
      await status.waitFor();
      expect((await status.textContent())?.trim(), id).toBe(shown);
      expect(await status.getAttribute('title'), id).toBe(raw);
    }
    await filter.fill('status-');
    await tid(page, 'worker-row', { 'data-worker-id': 'sim-busy' }).waitFor();
    await shot('workers-statuses');
    await filter.fill('');
  }, 30_000);

  it('history: a host name shared by two workers asks which; the page is in the URL too', async () => {
    const beat = { status: 'idle', hostname: 'twin-host', version: '1.0.0', online_at: new Date().toISOString() };
    for (const id of ['twin-a', 'twin-b']) expect((await api(server.url, 'POST', `/workers/${id}`, beat)).status).toBe(200);
    await go(page, '#/history');
    await page.waitForFunction(() => document.querySelectorAll('#history-workers option[value^="twin-host ("]').length === 2);
    await tid(page, 'filter-worker').fill('twin-host');
    await tid(page, 'filter-apply').click();
    await waitText(page, 'filter-worker-error', /2 workers have the host name twin-host: pick one/);
    expect(await page.evaluate(() => location.hash)).toBe('#/history');
    await shot('history-worker-ambiguous');
    await tid(page, 'filter-worker').fill('twin-host (twin-b)');
    await expect(tid(page, 'filter-worker-error').count()).resolves.toBe(0);
    await tid(page, 'filter-apply').click();
    await page.waitForFunction(() => location.hash === '#/history?worker=twin-b');
    await emptyState(page).waitFor({ timeout: 10_000 });

    // 55 cancelled jobs: two pages; the second is a link of its own (its cursor in the URL), kept by a reload.
    await api(server.url, 'PATCH', '/queue', { disabled: true });
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) ids.push(await submit(server.url, encodeJob(`paged ${i}`, tiny, farm.out(`paged-${i}`))));
    for (const id of ids) expect((await api(server.url, 'POST', `/jobs/${id}/cancel`)).status).toBe(200);
    await api(server.url, 'PATCH', '/queue', { disabled: false });
    await tid(page, 'filter-worker').fill('');
    await tid(page, 'filter-state').selectOption('cancelled');
    await tid(page, 'filter-title').fill('paged');
    await tid(page, 'filter-apply').click();
    await page.waitForFunction(() => location.hash === '#/history?state=cancelled&title=paged');
    await until('the first page', async () => ((await rowIds('history-row')).length === 50 ? true : undefined), 10_000);
    const first = await rowIds('history-row');
    await tid(page, 'next-page').click();
    await page.waitForFunction(() => /^#\/history\?state=cancelled&title=paged&cursor=[^&]+$/.test(location.hash));
    await until('the second page', async () => ((await rowIds('history-row')).length === 5 ? true : undefined), 10_000);
    const second = await rowIds('history-row');
    expect(new Set([...first, ...second]).size).toBe(55);
    await page.reload();
    await waitText(page, 'connection-state', 'live');
    await until('the second page after a reload', async () => ((await rowIds('history-row')).join() === second.join() ? true : undefined), 10_000);
    expect(await tid(page, 'filter-title').inputValue()).toBe('paged');
    expect(await tid(page, 'prev-page').isEnabled()).toBe(true);
    await tid(page, 'prev-page').click();
    await page.waitForFunction(() => location.hash === '#/history?state=cancelled&title=paged');
    await until('the first page again', async () => ((await rowIds('history-row')).join() === first.join() ? true : undefined), 10_000);
    // Back: the second page again.
    await page.goBack();
    await until('the second page by Back', async () => ((await rowIds('history-row')).join() === second.join() ? true : undefined), 10_000);
    await shot('history-page-2');
  }, 60_000);
});
