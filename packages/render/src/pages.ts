/**
 * Pages and emails from templates: one nunjucks environment with autoescaping on (the one place
 * where text becomes HTML: `{{ value }}` is always escaped; nothing in the templates is marked
 * safe), templates in `templates/`, the stylesheet and the page script in `assets/`.
 */
import { readFileSync } from 'node:fs';
import type { Report } from '@mailaudit/engine';
import nunjucks from 'nunjucks';
import { type OverviewItem, type OverviewState, overviewView } from './overview-view.js';
import { type HistoryPoint, type MessageTests, reportView } from './report-view.js';
import { type Locale, t } from './texts.js';

const root = new URL('../', import.meta.url);

/** The one HTML environment, autoescaping: pages and the emails' HTML parts. */
export const htmlEnv = new nunjucks.Environment(new nunjucks.FileSystemLoader(new URL('templates', root).pathname), {
  autoescape: true,
  throwOnUndefined: false,
  trimBlocks: true,
  lstripBlocks: true,
});

/** What a tenant's customers see instead of our name. */
export interface Brand {
  /** The tenant's product name, else the tenant's name. */
  name: string;
  /** URL of the logo as the page loads it (served from our own origin). */
  logoUrl?: string | null;
  /** `#rrggbb`. @default '#1f6feb' */
  accentColor?: string | null;
  footerText?: string | null;
  supportUrl?: string | null;
}

export const DEFAULT_ACCENT = '#1f6feb';

/** What the templates show for a tenant's stored branding: its product name, else its own name. */
export function brandOf(b: {
  tenantName: string;
  productName: string | null;
  logo: string | null;
  accentColor: string | null;
  footerText: string | null;
  supportUrl: string | null;
}): Brand {
  return {
    name: b.productName ?? b.tenantName,
    logoUrl: b.logo,
    accentColor: b.accentColor,
    footerText: b.footerText,
    supportUrl: b.supportUrl,
  };
}
const HEX = /^#[0-9a-f]{6}$/i;

/** White or near-black text, whichever reads better on `hex` (WCAG relative luminance). */
export function textOn(hex: string): string {
  const lin = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const l = 0.2126 * (lin[0] ?? 0) + 0.7152 * (lin[1] ?? 0) + 0.0722 * (lin[2] ?? 0);
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#111111';
}

export interface PageOptions {
  locale: Locale;
  brand: Brand;
  /** The CSP nonce of this response, for the one `<style>` block (the accent colour). */
  nonce: string;
  /** Where `style.css` and `page.js` are served. @default '/assets' */
  assetBase?: string;
}

function common(opts: PageOptions) {
  const accent = opts.brand.accentColor && HEX.test(opts.brand.accentColor) ? opts.brand.accentColor : DEFAULT_ACCENT;
  return {
    lang: opts.locale,
    t: (key: string, params?: Record<string, unknown>) => t(opts.locale, key, params),
    brand: { ...opts.brand, accent, onAccent: textOn(accent) },
    nonce: opts.nonce,
    assets: opts.assetBase ?? '/assets',
  };
}

export interface ReportPageOptions extends PageOptions {
  timeZone: string;
  history?: HistoryPoint[];
  /** The domain's test messages up to the next report. */
  messageTests?: MessageTests;
  /** Links to the same page in each language (`?lang=`). */
  languageLinks?: { locale: Locale; href: string }[];
}

export function renderReportPage(report: Report, opts: ReportPageOptions): string {
  return htmlEnv.render('report.njk', {
    ...common(opts),
    r: reportView(report, opts),
    languages: opts.languageLinks ?? [],
    timeZone: opts.timeZone,
  });
}

export interface OverviewPageOptions extends PageOptions {
  timeZone: string;
  state: OverviewState;
  languageLinks?: { locale: Locale; href: string }[];
}

export function renderOverviewPage(items: OverviewItem[], opts: OverviewPageOptions): string {
  return htmlEnv.render('overview.njk', {
    ...common(opts),
    o: overviewView(items, opts.state, opts.locale, opts.timeZone),
    languages: opts.languageLinks ?? [],
  });
}

/**
 * A recipient's email preferences, the page of the List-Unsubscribe link: where it stands now
 * (`subscribed`; `unsubscribed` after a POST or when it already was; `resubscribed`) and a button
 * that POSTs the change. Opening it changes nothing.
 */
export function renderUnsubscribePage(
  state: 'subscribed' | 'unsubscribed' | 'resubscribed',
  address: string,
  opts: PageOptions,
): string {
  return htmlEnv.render('unsubscribe.njk', { ...common(opts), state, address });
}

/** A page for a link that is broken or expired, or a report that is gone. */
export function renderErrorPage(kind: 'notFound' | 'expired', opts: PageOptions): string {
  return htmlEnv.render('error.njk', { ...common(opts), kind });
}

const ASSET_TYPES: Record<string, string> = {
  'style.css': 'text/css; charset=utf-8',
  'page.js': 'text/javascript; charset=utf-8',
};
const assetCache = new Map<string, { body: Buffer; type: string }>();

/** A file of `assets/` by name, or undefined when there is none by that name. */
export function asset(name: string): { body: Buffer; type: string } | undefined {
  const type = ASSET_TYPES[name];
  if (!type) return undefined;
  let a = assetCache.get(name);
  if (!a) {
    a = { body: readFileSync(new URL(`assets/${name}`, root)), type };
    assetCache.set(name, a);
  }
  return a;
}
