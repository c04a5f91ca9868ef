/// <reference lib="dom" />
// (DOM types: the functions given to page.evaluate and waitForFunction run in the page.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { formatProblems, launchBrowser, lowContrastText, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { until } from '../support/processes.js';
import { Farm, api, encodeJob, go, jobIn, submit, tid, waitText, type FarmServer } from './farm.js';

// Fleet automation in the dashboard, on a real server (SQLite file, auth on)
// with real workers started through the CLI with tags, a real webhook
// receiver and a watch folder with real files, in headless Chromium:
// workers' capabilities and active hours, "no eligible worker" on a queued
// job until a worker with its tag starts, the webhooks with their
// deliveries, the watch rules with their last scan and a dry run, and what a
// submitter sees of the admin-only views. Screenshots:
// test-artifacts/dashboard/fleet-*.png.
const ADMIN = 'fleet-admin-token-0123456789';
const SUBMITTER = 'fleet-submitter-token-012345';
const WORKER = 'fleet-worker-token-0123456789';
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const HOUR = 3_600_000;
const hh = (h: number) => `${String(((h % 24) + 24) % 24).padStart(2, '0')}:00`;

let farm: Farm;
let browser: Browser;
let server: FarmServer;
let w: WatchedPage;
let page: Page;
let receiver: Server;
let tiny = '';
let watchDir = '';
/** What the receiver was sent: the event type of each request, in order. */
const received: string[] = [];
/** The tag schedule of `fast-disk` (active now: from an hour ago to three hours ahead, UTC) and the worker schedule of `sleeper` (one hour, three days ahead). */
const now = new Date();
const activeTo = hh(now.getUTCHours() + 3);
const sleeperDay = DAYS[(now.getUTCDay() + 3) % 7]!;
const problems: string[] = [];

/** Text below WCAG AA contrast, a table header that does not fit its column, a page wider than the window: kept by screenshot name. */
async function shot(name: string): Promise<void> {
  for (const line of await lowContrastText(page)) problems.push(`${name}: ${line}`);
  const faults = await page.evaluate(() => {
    const found: string[] = [];
    for (const th of Array.from(document.querySelectorAll('th'))) {
      if (!th.textContent?.trim() || th.getClientRects().length === 0) continue;
      const range = document.createRange();
      range.selectNodeContents(th);
      const text = range.getBoundingClientRect();
      const box = th.getBoundingClientRect();
      const style = getComputedStyle(th);
      if (text.right > box.right - parseFloat(style.paddingRight) + 0.5) found.push(`header "${th.textContent.trim()}" does not fit its column`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth) found.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`);
    return found;
  });
  for (const line of faults) problems.push(`${name}: ${line}`);
  await screenshot(page, `fleet-${name}`);
}

/** The same at 1000 px (the narrowest desktop) and at a phone's width, then back to 1280 px. */
async function shotNarrow(name: string): Promise<void> {
  for (const width of [1000, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await shot(`${name}-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** `sisyphus worker` with `tags` in its config (id `id`, host `host-ID`), heartbeating every 0.5 s. */
async function startWorker(id: string, tags: string[]) {
  const config = join(farm.dir, `worker-${id}.yaml`);
  const worker = { heartbeatInterval: 0.5, pollInterval: 1, networkRetryInterval: 0.5, stateDir: join(farm.dir, `state-${id}`), tags };
  await writeFile(config, JSON.stringify({ worker }, null, 2));
  const proc = farm.cli.start(`worker ${id}`, ['worker', '--config', config], { HOST_UUID: id, HOSTNAME_OVERRIDE: `host-${id}`, API_URL: server.url, SISYPHUS_API: '', SISYPHUS_TOKEN: WORKER });
  // Its capabilities come with its first heartbeat.
  return until(`worker ${id} with its capabilities`, async () => {
    const { json } = await api(server.url, 'GET', '/workers', undefined, ADMIN);
    return json.workers?.find((x: any) => x.worker_id === id && x.capabilities) ?? (proc.child.exitCode !== null ? Promise.reject(new Error(`worker ${id} exited`)) : undefined);
  }, 60_000);
}

beforeAll(async () => {
  farm = await Farm.create('fleet');
  tiny = await farm.sample('tiny', 1, '160x120');
  // The receiver: the first delivery gets a 500 (it is tried again), the rest 204.
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['sisyphus-event']));
      res.writeHead(received.length === 1 ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // A watched folder with a video (made into a job no worker here can run: it requires the tag archive) and a file the rule leaves out.
  watchDir = join(farm.dir, 'watch');
  await mkdir(watchDir);
  await farm.copy(tiny, join(watchDir, 'clip.mkv'));
  await writeFile(join(watchDir, 'notes.txt'), 'not a video\n');
  const template = join(farm.dir, 'watch-job.json');
  const job = encodeJob('watched {{ name }}', '{{ source_file }}', join(farm.dir, 'out', 'watched-{{ stem }}.mkv'));
  await writeFile(template, JSON.stringify({ ...job, requires: { tags: ['archive'] } }, null, 2));

  server = await farm.startServer('fleet', {
    tokens: [
      { token: ADMIN, role: 'admin', name: 'ops' },
      { token: SUBMITTER, role: 'submitter', name: 'uploader' },
      { token: WORKER, role: 'worker', name: 'encoders' },
    ],
    webhooks: [
      {
        name: 'receiver',
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        events: ['job.submitted', 'job.completed'],
        secret: 'fleet-webhook-secret-0123456789',
      },
    ],
    watch: [{ name: 'incoming', folders: [watchDir], include: ['*.mkv'], template, stable_seconds: 1 }],
    schedules: {
      tags: { 'fast-disk': { timezone: 'UTC', windows: [{ from: hh(now.getUTCHours() - 1), to: activeTo }] } },
      workers: { sleeper: { timezone: 'UTC', windows: [{ days: [sleeperDay], from: '10:00', to: '11:00' }] } },
    },
  });
  browser = await launchBrowser();
  w = await openPage(browser, `${server.url}/ui/`);
  page = w.page;
  await tid(page, 'login-token').fill(ADMIN);
  await tid(page, 'login-submit').click();
  await waitText(page, 'connection-state', 'live');
}, 120_000);

afterEach(() => {
  expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
  expect(problems.splice(0).join('\n'), 'contrast and layout').toBe('');
});

afterAll(async () => {
  await browser?.close();
  await farm?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('fleet automation in the dashboard', () => {
  it('a worker with tags shows its capabilities and its tag schedule; a worker off hours shows until when', async () => {
    await go(page, '#/workers');
    const view = await startWorker('cpu1', ['fast-disk']);
    expect(view.schedule, 'the API gives cpu1 its tag schedule').toMatchObject({ source: 'tags', active: true });
    const row = tid(page, 'worker-row', { 'data-worker-id': 'cpu1' });
    await row.waitFor({ timeout: 15_000 });

    await expect(tid(row, 'worker-tag').allTextContents()).resolves.toEqual(['fast-disk']);
    const binaries = (await tid(row, 'worker-binaries').textContent()) ?? '';
    expect(binaries).toContain(`ffmpeg ${view.capabilities.binaries.ffmpeg}`);
    const encoders: string[] = view.capabilities.encoders;
    expect(encoders.length).toBeGreaterThan(10);
    await expect(tid(row, 'worker-caps-toggle').textContent()).resolves.toMatch(new RegExp(`^${encoders.length} encoders`));
    // Its schedule came with the list loaded when it came online with a tag (heartbeats carry none).
    await page.waitForFunction(() => document.querySelector('[data-worker-id="cpu1"] [data-testid="worker-schedule"]') !== null, undefined, { timeout: 15_000 });
    expect((await tid(row, 'worker-schedule').textContent())?.trim()).toMatch(new RegExp(`^active until ${activeTo}( \\(UTC\\))?$`));
    expect(await tid(row, 'worker-schedule').getAttribute('title')).toContain('Schedule of tag fast-disk');

    // The encoders open under the row, every one listed.
    await tid(row, 'worker-caps-toggle').click();
    const detail = tid(page, 'worker-caps-detail');
    await detail.waitFor();
    const listed = ((await tid(detail, 'worker-encoders').textContent()) ?? '').split(/\s+/);
    expect(listed).toEqual(encoders);
    expect(await detail.textContent()).toContain('fast-disk');

    // sleeper never ran: listed offline by its schedule (an attribute), off hours until its day's 10:00.
    const sleeper = tid(page, 'worker-row', { 'data-worker-id': 'sleeper' });
    await sleeper.waitFor();
    expect(await sleeper.getAttribute('data-online')).toBe('false');
    const day = sleeperDay[0]!.toUpperCase() + sleeperDay.slice(1);
    expect((await tid(sleeper, 'worker-schedule').textContent())?.trim()).toMatch(new RegExp(`^off hours until ${day} 10:00( \\(UTC\\))?$`));
    expect(await tid(sleeper, 'worker-schedule').getAttribute('data-active')).toBe('false');
    await shot('workers');
    await shotNarrow('workers');
  }, 120_000);

  it('a job that needs a tag no worker has says so in the queue and on its page, and runs once a worker with the tag starts', async () => {
    const id = await submit(server.url, { ...encodeJob('needs a gpu', tiny, farm.out('gpu')), requires: { tags: ['gpu'] } }, ADMIN);
    const { json: queued } = await api(server.url, 'GET', `/jobs/${id}`, undefined, ADMIN);
    expect(queued.eligibility).toMatchObject({ eligible_workers: 0, message: 'no eligible worker: needs tag gpu' });

    await go(page, '#/queue');
    const row = tid(page, 'queue-row', { 'data-job-id': id });
    await row.waitFor({ timeout: 15_000 });
    await expect(tid(row, 'no-eligible').textContent()).resolves.toBe('no eligible worker: needs tag gpu');
    // The watch folder's job waits for a worker with the tag archive.
    await page.getByText('no eligible worker: needs tag archive').first().waitFor({ timeout: 30_000 });
    await shot('queue-no-eligible');

    await go(page, `#/jobs/${id}`);
    await waitText(page, 'job-state', 'queued');
    await expect(tid(page, 'job-eligibility').textContent()).resolves.toContain('no eligible worker: needs tag gpu');
    const requirements = await tid(page, 'job-requirement').allTextContents();
    expect(requirements).toEqual(queued.requirements);
    expect(requirements).toEqual(expect.arrayContaining(['tag:gpu', 'module:ffmpeg']));
    // What the server derived is not shown as part of the document.
    expect(await tid(page, 'job-document').textContent()).not.toContain('eligible_workers');
    await shot('job-no-eligible');
    await shotNarrow('job-no-eligible');

    // A worker with the tag: the job runs there and completes; the message is gone.
    await startWorker('gpu1', ['gpu']);
    await waitText(page, 'job-state', 'completed', 60_000);
    expect(await tid(page, 'job-eligibility').count()).toBe(0);
    const done = await jobIn(server.url, id, ['completed'], 10_000, ADMIN);
    expect(done.worker_id).toBe('gpu1');
    await go(page, '#/queue');
    await page.getByText('no eligible worker: needs tag archive').first().waitFor();
    expect(await tid(page, 'queue-row', { 'data-job-id': id }).count()).toBe(0);
  }, 120_000);

  it('webhooks: the hook with its last delivery, and its deliveries (one tried again after a 500)', async () => {
    await until('a delivered job.completed', async () => {
      const { json } = await api(server.url, 'GET', '/webhooks/receiver/deliveries', undefined, ADMIN);
      return json.deliveries.some((d: any) => d.event_type === 'job.completed' && d.status === 'delivered') && json.deliveries.some((d: any) => d.attempts > 1 && d.status === 'delivered') ? true : undefined;
    }, 60_000);
    await go(page, '#/webhooks');
    const row = tid(page, 'webhook-row', { 'data-name': 'receiver' });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('/hook');
    expect(await row.textContent()).toContain('job.submitted, job.completed');
    await page.waitForFunction(() => /delivered/.test(document.querySelector('[data-name="receiver"] [data-testid="webhook-last"]')?.textContent ?? ''), undefined, { timeout: 15_000 });

    await tid(row, 'webhook-deliveries-toggle').click();
    await tid(page, 'webhook-delivery').first().waitFor({ timeout: 15_000 });
    const { json } = await api(server.url, 'GET', '/webhooks/receiver/deliveries', undefined, ADMIN);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="webhook-delivery"]').length >= n, json.deliveries.length, { timeout: 15_000 });
    const rows = await tid(page, 'webhook-delivery').evaluateAll((trs) => trs.map((tr) => ({ status: tr.getAttribute('data-status'), cells: Array.from((tr as HTMLTableRowElement).cells).map((c) => c.textContent?.trim()) })));
    expect(rows.some((r) => r.cells[0] === 'job.completed' && r.status === 'delivered')).toBe(true);
    // The one the receiver refused first: two attempts, answered 204 in the end.
    expect(rows.some((r) => r.status === 'delivered' && Number(r.cells[3]) >= 2 && r.cells[4] === 'HTTP 204')).toBe(true);
    expect(received.length).toBeGreaterThanOrEqual(2);
    await shot('webhooks');
    await shotNarrow('webhooks');
  }, 120_000);

  it('watch folders: the rule with its last scan, and a dry run listing each file and why', async () => {
    // The video was submitted (once stable), the text file left out.
    await until('clip.mkv submitted', async () => {
      const { json } = await api(server.url, 'GET', `/watch/rules/incoming/files?path=${encodeURIComponent(join(watchDir, 'clip.mkv'))}`, undefined, ADMIN);
      return json?.job_id ? true : undefined;
    }, 60_000);
    await go(page, '#/watch');
    const rule = tid(page, 'watch-rule', { 'data-rule': 'incoming' });
    await rule.waitFor({ timeout: 15_000 });
    expect(await tid(rule, 'watch-folders').textContent()).toBe(watchDir);
    await expect(tid(rule, 'watch-last-scan').textContent()).resolves.toMatch(/ago \(took .+\): \d+ files? matched: \d+ submitted/);
    await expect(tid(rule, 'watch-attention-count').textContent()).resolves.toBe('none');

    await tid(rule, 'watch-dry-run').click();
    await tid(page, 'watch-dry-run-result').waitFor({ timeout: 30_000 });
    const entries = await tid(page, 'dry-run-entry').evaluateAll((trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells).map((c) => c.textContent?.trim() ?? '')));
    const clip = entries.find((cells) => cells[0] === join(watchDir, 'clip.mkv'));
    const notes = entries.find((cells) => cells[0] === join(watchDir, 'notes.txt'));
    // Its job waits (no worker has the tag archive), so the file is left alone.
    expect(clip?.[1]).toBe('in-progress');
    expect(notes?.[1]).toBe('not-included');
    await expect(tid(page, 'dry-run-figures').textContent()).resolves.toMatch(/0 would be submitted; skipped: .*in-progress 1/);
    await shot('watch');
    await shotNarrow('watch');
  }, 120_000);

  it('a submitter is told the watch folders and webhooks are for admins, and the page asks the server nothing it would refuse', async () => {
    await tid(page, 'logout').click();
    await tid(page, 'login-token').fill(SUBMITTER);
    await tid(page, 'login-submit').click();
    await waitText(page, 'whoami', 'submitter');
    for (const view of ['watch', 'webhooks']) {
      await go(page, `#/${view}`);
      await tid(page, 'admin-only').waitFor();
      await shot(`${view}-submitter`);
    }
    // Workers and their capabilities are for everyone who signs in.
    await go(page, '#/workers');
    await tid(page, 'worker-row', { 'data-worker-id': 'gpu1' }).waitFor({ timeout: 15_000 });
    await expect(tid(page, 'worker-row', { 'data-worker-id': 'gpu1' }).locator('[data-testid="worker-tag"]').allTextContents()).resolves.toEqual(['gpu']);
  }, 60_000);
});
