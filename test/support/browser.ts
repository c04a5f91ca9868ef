/// <reference lib="dom" />
// (DOM types: the function given to page.evaluate in lowContrastText runs in the page.)
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (`scripts/ensure-deps.sh --for-tests` installs it), or `$SIS_CHROMIUM`. */
export const chromiumPath = process.env.SIS_CHROMIUM || '/usr/bin/chromium';

/** Where {@link screenshot} writes: `test-artifacts/dashboard/` at the repository root (not committed). */
export const artifactsDir = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

/** Headless Chromium through playwright-core (no browser download: the system's binary). */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: run \`bash scripts/ensure-deps.sh --for-tests\` (installs Debian's chromium) or set SIS_CHROMIUM`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
}

/** Something that went wrong on a page: a console error, an uncaught exception, a failed request or an HTTP error. */
export interface PageProblem {
  kind: 'console' | 'pageerror' | 'requestfailed' | 'response';
  text: string;
  /** The URL involved (request, or where a console message came from). */
  url?: string;
}

/** A failure a test provokes on purpose: a URL pattern and, for responses, the status it expects. */
export interface ExpectedFailure {
  url: RegExp;
  /** A response with this status (e.g. 401 for a wrong token); absent: a failed request (server away). */
  status?: number;
}

/** A page whose console errors, uncaught exceptions, failed requests and HTTP errors are recorded. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** What went wrong since the page opened (or the last {@link WatchedPage.takeProblems}), less the expected. */
  readonly problems: PageProblem[];
  /** Take what went wrong so far and start a new list. */
  takeProblems(): PageProblem[];
  /** Failures matching this are not problems until the returned function is called. */
  expect(failure: ExpectedFailure): () => void;
}

const describe = (p: PageProblem) => `${p.kind}: ${p.text}${p.url ? ` (${p.url})` : ''}`;

/** The problems as lines, for an assertion message. */
export function formatProblems(problems: readonly PageProblem[]): string {
  return problems.map(describe).join('\n');
}

/**
 * Open a page of its own context (its own sessionStorage) at `url` and record
 * what goes wrong on it: console errors, `pageerror`, `requestfailed` and
 * responses with status >= 400 (less those a test declares with
 * {@link WatchedPage.expect}). Chromium logs every failed resource load as a
 * console error too; for expected failures that line is left out as well.
 * A request aborted because the page navigated or closed (`net::ERR_ABORTED`)
 * is not a problem. Dialogs (`confirm`) are accepted.
 */
export async function openPage(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number }; expected?: ExpectedFailure[] } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  const page = await context.newPage();
  let problems: PageProblem[] = [];
  const expected = new Set<ExpectedFailure>(options.expected ?? []);
  // A failure expected without a status covers failed requests and error responses of its URLs alike.
  const isExpected = (u: string, status?: number) => [...expected].some((e) => e.url.test(u) && (e.status === undefined || e.status === status));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    // Chromium's own lines about a failed load ("Failed to load resource: the server responded with a
    // status of 401", "GET URL net::ERR_CONNECTION_REFUSED") name the URL in the text or as their location.
    const urls = [where, ...(m.text().match(/https?:\/\/[^\s)]+/g) ?? [])].filter(Boolean);
    const network = /Failed to load resource|net::ERR_|status of \d{3}/.test(m.text());
    if (network && urls.some((u) => [...expected].some((e) => e.url.test(u)))) return;
    problems.push({ kind: 'console', text: m.text(), ...(where ? { url: where } : {}) });
  });
  page.on('pageerror', (e) => problems.push({ kind: 'pageerror', text: e.stack ?? e.message }));
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText ?? 'failed';
    if (error === 'net::ERR_ABORTED') return;
    if (isExpected(r.url())) return;
    problems.push({ kind: 'requestfailed', text: `${r.method()} ${error}`, url: r.url() });
  });
  page.on('response', (r) => {
    if (r.status() < 400 || isExpected(r.url(), r.status())) return;
    problems.push({ kind: 'response', text: `${r.request().method()} ${r.status()} ${r.statusText()}`, url: r.url() });
  });
  page.on('dialog', (d) => void d.accept());
  await page.goto(url);
  return {
    page,
    context,
    get problems() {
      return problems;
    },
    takeProblems() {
      const taken = problems;
      problems = [];
      return taken;
    },
    expect(failure) {
      expected.add(failure);
      return () => expected.delete(failure);
    },
  };
}

/**
 * Save a screenshot of the page (the whole scrollable page unless `fullPage`
 * is false) as `test-artifacts/dashboard/<name>.png`; its path.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const file = join(artifactsDir, `${name}.png`);
  await mkdir(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true, animations: 'disabled' });
  return file;
}

/**
 * Text on the page whose contrast with its background is below WCAG AA (4.5:1, or 3:1 for large
 * text: 24 px, or bold 18.66 px): one line per element (ratio, element, text, colours). The
 * background is the first ancestor's opaque background colour (images and gradients are not
 * looked at); disabled controls are left out (WCAG exempts them), and so is hidden text.
 */
export function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Rgb = { r: number; g: number; b: number; a: number };
    const parse = (c: string): Rgb | undefined => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return undefined;
      const [r = 0, g = 0, b = 0, a = 1] = m[1]!.split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const channel = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const luminance = (c: Rgb) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
    const background = (el: Element): Rgb => {
      for (let e: Element | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const found = new Set<string>();
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (!Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim())) continue;
      if (el.closest(':disabled, [aria-disabled="true"]') || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
      const fg = parse(style.color);
      if (!fg) continue;
      const bg = background(el);
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x) as [number, number];
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) {
        const what = `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
        found.add(`${ratio.toFixed(2)}:1 ${what} "${el.textContent!.trim().slice(0, 40)}" (${style.color} on rgb(${bg.r}, ${bg.g}, ${bg.b}))`);
      }
    }
    return [...found];
  });
}
