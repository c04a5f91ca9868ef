/// <reference lib="dom" />
// (DOM types: the functions given to page.evaluate and waitForFunction run in the page.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { formatProblems, launchBrowser, lowContrastText, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { until } from '../support/processes.js';
import { Farm, api, emptyState, go, tid, waitText, type FarmServer } from './farm.js';

// The dashboard with auth on: a real server with admin, submitter and worker
// tokens, a real worker using its token, headless Chromium. A token is asked
// for, kept for the browser session only, and the UI offers only what the
// role may do. Screenshots: test-artifacts/dashboard/auth-*.png.
const ADMIN = 'admin-token-0123456789abcdef';
const SUBMITTER = 'submitter-token-0123456789ab';
const WORKER = 'worker-token-0123456789abcdef';

let farm: Farm;
let browser: Browser;
let server: FarmServer;
const pages: WatchedPage[] = [];

/** A new browser session (its own sessionStorage) at the UI. Its first call (`GET /auth/whoami`, no token) answers 200 `role: null`: no error. */
async function session(): Promise<WatchedPage> {
  const w = await openPage(browser, `${server.url}/ui/`);
  pages.push(w);
  return w;
}

async function logIn(w: WatchedPage, token: string): Promise<void> {
  await tid(w.page, 'login-token').fill(token);
  await tid(w.page, 'login-submit').click();
}

beforeAll(async () => {
  farm = await Farm.create('auth');
  server = await farm.startServer('auth', {
    tokens: [
      { token: ADMIN, role: 'admin', name: 'ops' },
      { token: SUBMITTER, role: 'submitter', name: 'uploader' },
      { token: WORKER, role: 'worker', name: 'encoders' },
    ],
  });
  await farm.startWorker('w1', server, { token: WORKER });
  await until('worker w1', async () => (await api(server.url, 'GET', '/workers', undefined, ADMIN)).json.workers?.some((x: any) => x.worker_id === 'w1') || undefined);
  browser = await launchBrowser();
}, 60_000);

afterEach(() => {
  for (const w of pages) expect(formatProblems(w.takeProblems()), 'console errors, page errors or failed requests').toBe('');
});

afterAll(async () => {
  await browser?.close();
  await farm?.close();
});

describe('dashboard with auth on', () => {
  it('asks for a token; a wrong token and a worker token are refused', async () => {
    const w = await session();
    await tid(w.page, 'login-token').waitFor();
    expect(await tid(w.page, 'login-token').getAttribute('type')).toBe('password');
    await screenshot(w.page, 'auth-login');
    // The first load of the login logs nothing: no console error, no 401.
    expect(formatProblems(w.takeProblems()), 'problems of the first load').toBe('');

    // A wrong token: its 401 is expected.
    w.expect({ url: /\/auth\/whoami$/, status: 401 });
    await logIn(w, 'not-a-token-of-this-server');
    await tid(w.page, 'login-error').waitFor();
    expect((await tid(w.page, 'login-error').textContent())?.trim()).toBeTruthy();
    await screenshot(w.page, 'auth-login-wrong-token');
    expect(await lowContrastText(w.page), 'text below WCAG AA contrast').toEqual([]);
    expect(await tid(w.page, 'whoami').count()).toBe(0);

    await tid(w.page, 'login-error').waitFor();
    await logIn(w, WORKER);
    await w.page.waitForFunction(() => /worker/i.test(document.querySelector('[data-testid="login-error"]')?.textContent ?? ''));
    await screenshot(w.page, 'auth-login-worker-token');
    expect(await tid(w.page, 'nav-overview').count()).toBe(0);
    expect(await w.page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))).not.toContain(WORKER);
  }, 30_000);

  it('a submitter sees no pause toggle and no worker toggle; the token lives in sessionStorage only', async () => {
    const w = await session();
    await logIn(w, SUBMITTER);
    await waitText(w.page, 'whoami', /submitter/);
    await waitText(w.page, 'connection-state', 'live');
    await waitText(w.page, 'queue-state', 'running');
    expect(await tid(w.page, 'queue-toggle').count()).toBe(0);
    await screenshot(w.page, 'auth-submitter-overview');
    expect(await lowContrastText(w.page), 'text below WCAG AA contrast').toEqual([]);
    await go(w.page, '#/queue');
    await emptyState(w.page).waitFor();
    expect(await tid(w.page, 'queue-toggle').count()).toBe(0);
    await go(w.page, '#/workers');
    await tid(w.page, 'worker-row', { 'data-worker-id': 'w1' }).waitFor();
    expect(await tid(w.page, 'worker-toggle').count()).toBe(0);
    await screenshot(w.page, 'auth-submitter-workers');

    const stored = await w.page.evaluate(() => ({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) }));
    expect(stored.session).toContain(SUBMITTER);
    expect(stored.local).not.toContain(SUBMITTER);
    expect(await w.context.cookies()).toEqual([]);

    // Another browser session starts logged out; logging out here forgets the token.
    const other = await session();
    await tid(other.page, 'login-token').waitFor();
    await tid(w.page, 'logout').click();
    await tid(w.page, 'login-token').waitFor();
    expect(await w.page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(SUBMITTER);
  }, 30_000);

  it('an admin sees the toggles and they work with the token', async () => {
    const w = await session();
    await logIn(w, ADMIN);
    await waitText(w.page, 'whoami', /admin/);
    await waitText(w.page, 'queue-state', 'running');
    await tid(w.page, 'queue-toggle').click();
    await waitText(w.page, 'queue-state', 'paused');
    expect((await api(server.url, 'GET', '/queue?limit=1', undefined, ADMIN)).json.attributes.disabled).toBe(true);
    await tid(w.page, 'queue-toggle').click();
    await waitText(w.page, 'queue-state', 'running');
    expect((await api(server.url, 'GET', '/queue?limit=1', undefined, ADMIN)).json.attributes.disabled).toBe(false);
    await go(w.page, '#/workers');
    await tid(w.page, 'worker-row', { 'data-worker-id': 'w1' }).locator('[data-testid="worker-toggle"]').waitFor();
    await screenshot(w.page, 'auth-admin-workers');
  }, 30_000);

  it('a token removed from the server while the page is open: back to the login, saying so', async () => {
    // The pages of the tests before would see the restart too: closed first.
    for (const old of pages.splice(0)) await old.context.close();
    const w = await session();
    await logIn(w, SUBMITTER);
    await waitText(w.page, 'whoami', /submitter/);
    await waitText(w.page, 'connection-state', 'live');
    // The server restarts without the submitter's token; meanwhile the page's calls fail, then answer 401.
    const away = w.expect({ url: new RegExp(`^${server.url.replace(/[.]/g, '\\.')}/`) });
    const config = JSON.parse(await readFile(server.config, 'utf8'));
    config.server.tokens = config.server.tokens.filter((t: { token: string }) => t.token !== SUBMITTER);
    await writeFile(server.config, JSON.stringify(config, null, 2));
    await farm.stopServer('auth');
    await waitText(w.page, 'connection-state', 'reconnecting', 10_000);
    server = await farm.startServer('auth');
    await waitText(w.page, 'login-error', 'Signed out: the server no longer accepts this token (unknown token). Sign in again.', 20_000);
    expect(await w.page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(SUBMITTER);
    await screenshot(w.page, 'auth-token-removed');
    expect(await lowContrastText(w.page), 'text below WCAG AA contrast').toEqual([]);
    away();
  }, 60_000);
});
