/// <reference lib="dom" />
// (DOM types: the functions given to page.evaluate and waitForFunction run in the page.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { formatProblems, launchBrowser, lowContrastText, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { until } from '../support/processes.js';
import { Farm, api, go, jobIn, submit, tid, waitText, type FarmServer } from './farm.js';

// Fan-out in the dashboard: a real server (SQLite file) and one real worker
// (concurrency 1) with the fixture plugin whose `fanout` task hands the
// server `fanout-part` child jobs (each sleeps `sleep_ms`, fails when told
// to) and resumes once they have completed. Headless Chromium; live updates
// through `GET /events`. Screenshots: test-artifacts/dashboard/flows-*.png.
const plugin = fileURLToPath(new URL('../fixtures/plugins/fanout-plugin.mjs', import.meta.url));

let farm: Farm;
let browser: Browser;
let server: FarmServer;
let w: WatchedPage;
let page: Page;

const shot = async (name: string) => {
  await screenshot(page, `flows-${name}`);
  expect(await lowContrastText(page), `text below WCAG AA contrast on ${name}`).toEqual([]);
};

/** A fan-out job: `children` parts, each sleeping `sleep_ms`; part `fail_at` (0-based) fails. */
const fanout = (title: string, data: { children: number; sleep_ms?: number; fail_at?: number }) => ({ job_title: title, tasks: [{ module: 'fanout', data }] });

/** aria-valuenow of the first progress bar under `selector`, once it is above `above`. */
async function progressAbove(selector: string, above: number, timeout = 20_000): Promise<number> {
  const handle = await page.waitForFunction(
    ([css, min]) => {
      const bar = document.querySelector(`${css} [data-testid="progress"]`);
      const now = Number(bar?.getAttribute('aria-valuenow'));
      return bar?.hasAttribute('aria-valuenow') && Number.isFinite(now) && now > min ? now : undefined;
    },
    [selector, above] as const,
    { timeout },
  );
  return (await handle.jsonValue()) as number;
}

/** The texts of test id `name` in each child row, in order. */
const childTexts = (name: string) => page.locator('[data-testid="child-row"]').evaluateAll((rows, n) => rows.map((r) => r.querySelector(`[data-testid="${n}"]`)?.textContent?.trim() ?? ''), name);

/** Wait until the child rows' states (in order) pass `test`. */
async function childStatesUntil(what: string, test: (states: string[]) => boolean, ms = 20_000): Promise<string[]> {
  return until(what, async () => {
    const states = await childTexts('child-state');
    return states.length && test(states) ? states : undefined;
  }, ms);
}

beforeAll(async () => {
  farm = await Farm.create('flows');
  // The fixture plugin is the worker's only: the server queues its modules unchecked.
  server = await farm.startServer('flows', { acceptUnknownModules: true });
  // A worker like Farm.startWorker's, with the fan-out plugin and one slot: the parent cannot hold it while it waits.
  const config = join(farm.dir, 'worker-w1.yaml');
  const worker = { concurrency: 1, heartbeatInterval: 0.5, pollInterval: 1, networkRetryInterval: 0.5, stateDir: join(farm.dir, 'state-w1') };
  await writeFile(config, JSON.stringify({ plugins: [plugin], worker }, null, 2));
  farm.cli.start('worker w1', ['worker', '--config', config], { HOST_UUID: 'w1', HOSTNAME_OVERRIDE: 'host-w1', API_URL: server.url, SISYPHUS_API: '', SISYPHUS_TOKEN: '' });
  browser = await launchBrowser();
  w = await openPage(browser, `${server.url}/ui/`);
  page = w.page;
  await until('worker w1', async () => (await api(server.url, 'GET', '/workers')).json.workers.some((x: any) => x.worker_id === 'w1') || undefined, 30_000);
  await waitText(page, 'connection-state', 'live');
}, 60_000);

afterEach(() => {
  expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
});

afterAll(async () => {
  await browser?.close();
  await farm?.close();
});

describe('fan-out in the dashboard', () => {
  it('the Running view lists a parent waiting for its children, its progress rising; a running child links to it', async () => {
    await go(page, '#/running');
    const id = await submit(server.url, fanout('three parts', { children: 3, sleep_ms: 3000 }));
    const row = tid(page, 'waiting-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 20_000 });
    await waitText(page, 'waiting-children-states', /^\d\/3 completed/);
    // Weights 1, 2, 3 and one child at a time: 0, then 16.7 (1/6), then 50 (3/6).
    const css = `[data-testid="waiting-row"][data-job-id="${id}"]`;
    const seen = [await progressAbove(css, -1)];
    seen.push(await progressAbove(css, seen[0]!));
    expect(seen[1]!, `progress ${seen.join(' -> ')}`).toBeGreaterThan(seen[0]!);
    expect(seen.every((v) => v >= 0 && v < 100)).toBe(true);
    // The child that runs is an ordinary running job, linked to its parent.
    const child = page.locator('[data-testid="running-row"]', { has: page.locator('[data-testid="parent-link"]') }).first();
    await child.waitFor({ timeout: 10_000 });
    expect(await tid(child, 'parent-link').getAttribute('href')).toBe(`#/jobs/${id}`);
    await expect(tid(row, 'waiting-children-states').textContent()).resolves.toMatch(/1 running/);
    await shot('running-waiting');
    // The overview counts it while it waits.
    await go(page, '#/overview');
    await waitText(page, 'overview-waiting', '1');
    await shot('overview-waiting');
    // Resumed after its last child, it ends completed and leaves the list.
    await go(page, '#/running');
    expect((await jobIn(server.url, id, ['completed', 'failed', 'cancelled'], 30_000)).state).toBe('completed');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    await tid(page, 'waiting-section').waitFor({ state: 'detached', timeout: 5000 });
  }, 60_000);

  it('the parent page lists the children live with links; a child page links back to its parent', async () => {
    const id = await submit(server.url, fanout('four parts', { children: 4, sleep_ms: 2000 }));
    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'waiting for children', 20_000);
    await tid(page, 'child-row').nth(3).waitFor();
    expect(await childTexts('child-weight')).toEqual(['1', '2', '3', '4']);
    const titles = await page.locator('[data-testid="child-link"]').allTextContents();
    expect(titles.map((t) => t.trim())).toEqual([1, 2, 3, 4].map((n) => `four parts · part ${n}/4`));
    // States move on the page without a reload: one running (on host-w1), the first ones completing.
    await childStatesUntil('a child to run', (s) => s.includes('running'));
    await until('the running child to show its worker', async () => {
      const [states, workers] = [await childTexts('child-state'), await childTexts('child-worker')];
      return workers[states.indexOf('running')] === 'host-w1' || undefined;
    });
    await childStatesUntil('the first child to complete', (s) => s[0] === 'completed' && s.slice(1).some((x) => x === 'running' || x === 'queued'));
    expect(await progressAbove('[data-testid="children-progress"]', 0)).toBeLessThan(100);
    await waitText(page, 'children-states', /^[1-3]\/4 completed/);
    await shot('job-parent-waiting');

    // A child's page links to its parent, and back.
    const firstChild = tid(page, 'child-link').first();
    const childHref = (await firstChild.getAttribute('href'))!;
    expect(childHref).toMatch(/^#\/jobs\/.+/);
    await firstChild.click();
    await page.waitForFunction((h) => location.hash === h, childHref);
    await waitText(page, 'job-title', 'four parts · part 1/4');
    await waitText(page, 'job-state', 'completed');
    expect(await tid(page, 'parent-link').getAttribute('href')).toBe(`#/jobs/${id}`);
    expect(await tid(page, 'retry').count(), 'a child has no retry of its own').toBe(0);
    await shot('job-child');
    await tid(page, 'parent-link').click();
    await page.waitForFunction((h) => location.hash === h, `#/jobs/${id}`);

    // All done: the parent resumed and completed; its page says so by itself.
    await waitText(page, 'job-state', 'completed', 30_000);
    await waitText(page, 'children-states', '4/4 completed');
    expect(await childTexts('child-state')).toEqual(['completed', 'completed', 'completed', 'completed']);
    await until('the total progress to reach 100', async () => (await tid(page, 'children-progress').locator('[data-testid="progress"]').getAttribute('aria-valuenow')) === '100' || undefined, 5000);
    await tid(page, 'children-all').locator('summary').click();
    await expect(tid(page, 'children-all-row').count()).resolves.toBe(4);
    await shot('job-parent-completed');
  }, 60_000);

  it('a failed child shows on its parent page with the reason; its siblings end cancelled', async () => {
    const id = await submit(server.url, fanout('one part fails', { children: 3, sleep_ms: 1000, fail_at: 1 }));
    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'failed', 30_000);
    await waitText(page, 'job-error', /^child \S+ \(one part fails · part 2\/3\) failed: .*part 1 was told to fail/);
    const states = await childStatesUntil('the children to end', (s) => s.every((x) => ['completed', 'failed', 'cancelled'].includes(x)));
    expect(states).toEqual(['completed', 'failed', 'cancelled']);
    const failed = tid(page, 'child-row').nth(1);
    await until('the failed child to show why', async () => /part 1 was told to fail/.test((await tid(failed, 'child-reason').textContent().catch(() => '')) ?? '') || undefined, 10_000);
    await expect(tid(tid(page, 'child-row').nth(2), 'child-reason').textContent()).resolves.toMatch(new RegExp(`^parent ${id} failed`));
    await shot('job-parent-failed');
  }, 60_000);

  it('History filters jobs waiting for children; cancelling one from the Running view cancels its children', async () => {
    const id = await submit(server.url, fanout('cancel me', { children: 2, sleep_ms: 60_000 }));
    await jobIn(server.url, id, ['waiting-children'], 20_000);
    await go(page, '#/history?state=waiting-children');
    const listed = tid(page, 'history-row', { 'data-job-id': id });
    await listed.waitFor({ timeout: 10_000 });
    await expect(listed.locator('.badge').textContent()).resolves.toBe('waiting for children');
    expect(await tid(page, 'filter-state').inputValue()).toBe('waiting-children');
    await shot('history-waiting');

    await go(page, '#/running');
    const row = tid(page, 'waiting-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 10_000 });
    await until('a child to run', async () => (await api(server.url, 'GET', `/jobs/${id}/children`)).json.children.some((c: any) => c.state === 'running') || undefined, 20_000);
    await tid(row, 'cancel').click();
    expect((await jobIn(server.url, id, ['cancelled', 'failed', 'completed'], 10_000)).state).toBe('cancelled');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    const all = await until('every child to end cancelled', async () => {
      const { json } = await api(server.url, 'GET', `/jobs/${id}/children`);
      return json.all.every((c: any) => c.state === 'cancelled') ? json.all : undefined;
    }, 15_000);
    expect(all).toHaveLength(2);
  }, 60_000);
});
