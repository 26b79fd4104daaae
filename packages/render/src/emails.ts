/**
 * The summary and alert emails, worded: a view of what to say (from `summaryData`, in the
 * reader's language, through the catalogue), then the HTML part and the text part from the
 * templates in `templates/email/`. The HTML part goes through the pages' autoescaping environment;
 * its styles come from assets/email.css, inlined (email-css.ts). Nothing here says our name: the
 * tenant's brand stands in the header, the subject and the footer. Pure.
 */
import type { Finding } from '@mailaudit/engine';
import nunjucks from 'nunjucks';
import { emailCss, styleOf } from './email-css.js';
import { type Brand, DEFAULT_ACCENT, htmlEnv, textOn } from './pages.js';
import { kindOf, type Summary, type SummaryData, type SummaryDomain, summaryData } from './summary.js';
import { displayDomain, findingText, type Locale, t } from './texts.js';

/** How one recipient's email is worded and branded, and where its links go. */
export interface EmailOptions {
  /** The recipient's language. @default 'en' */
  locale?: Locale;
  /** The tenant's brand. @default { name: tenant } */
  brand?: Brand;
  /** The tenant's time zone, for dates. @default 'UTC' */
  timeZone?: string;
  /** A signed link to the tenant's overview page. */
  overviewUrl?: string | null;
  /** The recipient's own page to stop (or resume) these emails: the List-Unsubscribe URL. */
  manageUrl?: string | null;
  /** The recipient's address, named in the footer ("you receive this because…"). */
  recipient?: string | null;
}

/** The text environment: the same templates folder, no HTML escaping (the text part is not HTML). */
const textEnv = new nunjucks.Environment(
  new nunjucks.FileSystemLoader(new URL('../templates', import.meta.url).pathname),
  { autoescape: false, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true },
);
textEnv.addFilter('pad', (v: unknown, n: number) => String(v ?? '').padEnd(n));
textEnv.addFilter('padStart', (v: unknown, n: number) => String(v ?? '').padStart(n));

const HEX = /^#[0-9a-f]{6}$/i;

/**
 * Rows of the "all your domains" table, the rest being on the overview page it links to: Gmail
 * clips an HTML part past about 100 KB (and the footer with the manage link goes with it), and a
 * row costs about 700 bytes with its inline styles.
 */
export const ALL_DOMAINS_SHOWN = 100;
const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, notice: 2, info: 3 };

function gradeClass(g: string | null): string {
  if (g === null) return 'grade-none';
  if (g.startsWith('A')) return 'grade-good';
  return g === 'B' || g === 'C' ? 'grade-mid' : 'grade-bad';
}

function common(tenant: string, o: EmailOptions) {
  const locale = o.locale ?? 'en';
  const brand = o.brand ?? { name: tenant };
  const accent = brand.accentColor && HEX.test(brand.accentColor) ? brand.accentColor : DEFAULT_ACCENT;
  const tr = (key: string, params?: Record<string, unknown>) => t(locale, key, params);
  return {
    locale,
    t: tr,
    s: (...names: string[]) => styleOf(...names),
    media: emailCss().media,
    brand: { ...brand, name: brand.name || tenant, accent, onAccent: textOn(accent) },
    overviewUrl: o.overviewUrl ?? null,
    manageUrl: o.manageUrl ?? null,
    recipient: o.recipient ?? null,
    timeZone: o.timeZone ?? 'UTC',
  };
}

/** "2 December 2026" / "2 Aralık 2026" for the night's local date `YYYY-MM-DD`. */
function nightText(locale: Locale, night: string): string {
  const d = new Date(`${night}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return night;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
}

/** "+5", "−3", "=" or the word for a first check. */
function trendText(locale: Locale, d: SummaryDomain): string {
  if (kindOf(d) === 'unchecked') return '?';
  if (d.scoreChange === null) return t(locale, 'ui.email.trend.new');
  if (d.scoreChange > 0) return `+${d.scoreChange}`;
  if (d.scoreChange < 0) return `−${-d.scoreChange}`;
  return '=';
}

interface Item {
  tag: 'new' | 'resolved' | 'changed' | 'found';
  label: string;
  severity: string;
  severityName: string;
  title: string;
  subject: string;
  code: string;
}

function item(locale: Locale, tz: string, tag: Item['tag'], label: string, f: Finding): Item {
  return {
    tag,
    label,
    severity: f.severity,
    severityName: t(locale, `ui.severityName.${f.severity}`),
    title: findingText(locale, f, tz).title,
    subject: displayDomain(f.subject),
    code: f.code,
  };
}

const bySeverity = (a: Finding, b: Finding) =>
  (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || a.code.localeCompare(b.code);

/** What the email says of one domain: its grade line and its findings, worst first. */
function domainView(locale: Locale, tz: string, d: SummaryDomain) {
  const kind = kindOf(d);
  const items: Item[] = [];
  if (kind === 'first') {
    for (const f of (d.findings ?? [])
      .filter((x) => x.severity === 'critical' || x.severity === 'warning')
      .sort(bySeverity))
      items.push(item(locale, tz, 'found', '', f));
  } else if (d.diff) {
    for (const f of [...d.diff.added].sort(bySeverity))
      items.push(item(locale, tz, 'new', t(locale, 'ui.email.item.new'), f));
    for (const c of d.diff.changed)
      items.push(
        item(
          locale,
          tz,
          'changed',
          t(locale, 'ui.email.item.changed', {
            to: t(locale, `ui.severityName.${c.to.severity}`),
            from: t(locale, `ui.severityName.${c.from.severity}`),
          }),
          c.to,
        ),
      );
    for (const f of [...d.diff.resolved].sort(bySeverity))
      items.push(item(locale, tz, 'resolved', t(locale, 'ui.email.item.resolved'), f));
  }
  const score = d.score ?? 0;
  const gradeLine =
    kind === 'unchecked'
      ? t(locale, d.failed ? 'ui.email.unchecked.failed' : 'ui.email.unchecked.inconclusive')
      : kind === 'first' || !d.previousGrade || d.previousGrade === d.grade
        ? t(locale, 'ui.email.grade', { grade: d.grade ?? '-', score })
        : t(locale, 'ui.email.gradeChange', { from: d.previousGrade, to: d.grade ?? '-', score });
  return {
    kind,
    name: displayDomain(d.domain),
    url: d.reportUrl,
    grade: d.grade ?? '–',
    gradeClass: gradeClass(d.grade),
    score: d.score === null ? '–' : String(d.score),
    trend: trendText(locale, d),
    gradeLine,
    problems: kind === 'first' ? t(locale, 'ui.email.first.problems', { count: items.length }) : null,
    scoringVersions: d.diff?.scoringVersions
      ? t(locale, 'ui.email.scoringVersions', { from: d.diff.scoringVersions.from, to: d.diff.scoringVersions.to })
      : null,
    items,
  };
}

/** The subject: the brand, the night and what happened, worst first. */
function subjectOf(locale: Locale, brand: string, s: SummaryData): string {
  const names = (ds: SummaryDomain[]) => ds.map((d) => displayDomain(d.domain)).join(', ');
  const parts: string[] = [];
  if (s.worse.length) parts.push(t(locale, 'ui.email.subject.worse', { count: s.worse.length, names: names(s.worse) }));
  if (s.better.length)
    parts.push(t(locale, 'ui.email.subject.better', { count: s.better.length, names: names(s.better) }));
  if (s.changed.length) parts.push(t(locale, 'ui.email.subject.changed', { count: s.changed.length }));
  if (s.first.length) {
    const problems = s.first.filter((d) =>
      (d.findings ?? []).some((f) => f.severity === 'critical' || f.severity === 'warning'),
    ).length;
    parts.push(t(locale, 'ui.email.subject.first', { count: s.first.length, problems }));
  }
  if (s.unchecked.length) parts.push(t(locale, 'ui.email.subject.unchecked', { count: s.unchecked.length }));
  if (parts.length === 0) parts.push(t(locale, 'ui.email.subject.nochange', { count: s.all.length }));
  return `${brand} ${s.night}: ${parts.join('; ')}`;
}

/**
 * One recipient's nightly summary: regressions first, then improvements and other changes, first
 * checks, domains that could not be checked, then every domain with its grade; a link to each
 * domain's report page, to the overview and to the recipient's manage page.
 */
export function renderSummary(
  tenant: string,
  night: string,
  domains: SummaryDomain[],
  opts: EmailOptions = {},
): Summary {
  const c = common(tenant, opts);
  const s = summaryData(tenant, night, domains);
  const view = (ds: SummaryDomain[]) => ds.map((d) => domainView(c.locale, c.timeZone, d));
  const sections = (
    [
      ['worse', s.worse],
      ['better', s.better],
      ['changed', s.changed],
      ['first', s.first],
      ['unchecked', s.unchecked],
    ] as const
  )
    .filter(([, ds]) => ds.length > 0)
    .map(([kind, ds]) => ({
      kind,
      heading: t(c.locale, `ui.email.section.${kind}`, { count: ds.length }),
      domains: view(ds),
    }));
  const nothing =
    s.worse.length + s.better.length + s.changed.length + s.first.length === 0 && s.unchecked.length < s.all.length;
  const subject = subjectOf(c.locale, c.brand.name, s);
  // The table of every domain stops at ALL_DOMAINS_SHOWN when the overview page lists the rest.
  const shown = c.overviewUrl ? s.all.slice(0, ALL_DOMAINS_SHOWN) : s.all;
  const more = s.all.length - shown.length;
  const ctx = {
    ...c,
    subject,
    nightText: nightText(c.locale, night),
    sections,
    nothingChanged: nothing,
    all: view(shown),
    more: more > 0 ? t(c.locale, 'ui.email.more', { count: more }) : null,
  };
  return {
    subject,
    html: htmlEnv.render('email/summary.html.njk', ctx),
    text: tidy(textEnv.render('email/summary.txt.njk', ctx)),
    changed: s.newsworthy,
  };
}

/** The immediate alert for a domain newly on a blocklist, for one recipient. */
export function renderListingAlert(
  tenant: string,
  domain: string,
  listings: Finding[],
  reportUrl: string,
  opts: EmailOptions = {},
): Omit<Summary, 'changed'> {
  const c = common(tenant, opts);
  const name = displayDomain(domain);
  const zones = [...new Set(listings.map((f) => String(f.params.zone ?? '')))].filter(Boolean).join(', ');
  const subject = t(c.locale, 'ui.email.alert.subject', { brand: c.brand.name, domain: name, zones });
  const ctx = {
    ...c,
    subject,
    domain: name,
    reportUrl,
    heading: t(c.locale, 'ui.email.alert.heading', { domain: name, count: listings.length }),
    listings: listings.map((f) => ({
      ...item(c.locale, c.timeZone, 'new', '', f),
      message: findingText(c.locale, f, c.timeZone).message,
    })),
  };
  return {
    subject,
    html: htmlEnv.render('email/alert.html.njk', ctx),
    text: tidy(textEnv.render('email/alert.txt.njk', ctx)),
  };
}

/** At most one empty line in a row, one newline at the end. */
function tidy(text: string): string {
  // Trailing blanks go, but for the signature separator "-- " (RFC 3676 4.3).
  const lines = text.split('\n').map((l) => (l === '-- ' ? l : l.trimEnd()));
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
