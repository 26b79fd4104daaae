/**
 * The browser harness: Debian's Chromium driven by playwright-core, headless, with a fresh profile
 * per run; every request that would leave 127.0.0.1 is aborted and recorded; console errors (a CSP
 * violation is one) and page errors are recorded; axe-core is injected through the DevTools
 * protocol (the page's CSP allows no inline script, rightly) and run on the page.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the screenshots of a run go (gitignored); docs/screenshots/ keeps a chosen few. */
export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
export const WIDTHS = [375, 1280] as const;

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface Harness {
  browser: Browser;
  close(): Promise<void>;
}

export async function launch(): Promise<Harness> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // playwright-core starts Chromium with a fresh user-data-dir of its own (a new temporary
    // directory each launch, removed on close); it refuses a --user-data-dir argument.
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export interface Visit {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Requests that tried to leave 127.0.0.1 (aborted). */
  outside: string[];
  /** Every request the page made. */
  requests: string[];
}

const LOCAL = /^(?:https?|wss?):\/\/127\.0\.0\.1(?::\d+)?\//;

export async function open(
  h: Harness,
  url: string,
  opts: { width: number; locale?: string; javaScript?: boolean },
): Promise<Visit> {
  const context = await h.browser.newContext({
    viewport: { width: opts.width, height: 900 },
    locale: opts.locale ?? 'en-US',
    javaScriptEnabled: opts.javaScript ?? true,
    timezoneId: 'Europe/Istanbul',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  const visit: Visit = { context, page: await context.newPage(), errors: [], outside: [], requests: [] };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    visit.requests.push(u);
    if (LOCAL.test(u) || u.startsWith('data:') || u === 'about:blank') return route.continue();
    visit.outside.push(u);
    return route.abort();
  });
  visit.page.on('console', (m) => {
    if (m.type() === 'error') visit.errors.push(m.text());
  });
  visit.page.on('pageerror', (e) => visit.errors.push(String(e)));
  await visit.page.goto(url, { waitUntil: 'load' });
  return visit;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  const result = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
