/**
 * The nightly summary email of one recipient: its domains with grade, score and trend, what
 * changed since the previous night (worse first), what the first audit of a domain found, which
 * domains could not be checked tonight, links to each report; a plain-text part and an HTML part
 * with inline styles only (what common mail clients render). Pure.
 *
 * Two steps: `summaryData` decides what goes in the summary (which domain is worse, better,
 * changed, new, unchanged or unchecked: the data), `renderSummary` words it (English today; a
 * catalogue of languages can word the same data).
 */
import type { Finding } from '@mailaudit/engine';
import type { ReportDiff } from './diff.js';

export interface SummaryDomain {
  domain: string;
  /** null when the domain could not be checked tonight. */
  grade: string | null;
  score: number | null;
  /** Score change since the previous conclusive report, over the categories checked in both; null for the first. */
  scoreChange: number | null;
  previousGrade: string | null;
  reportUrl: string;
  /** null when there was no previous conclusive report to compare with (the first audit). */
  diff: ReportDiff | null;
  /** The audit failed: no report this night. */
  failed?: string;
  /** The audit was inconclusive (the resolvers failed): nothing is known about the domain tonight. */
  unchecked?: boolean;
  /** For a first audit: what it found (critical and warning findings are listed). */
  findings?: Finding[];
}

/** Where a domain stands in tonight's summary. */
export type SummaryKind = 'worse' | 'better' | 'changed' | 'first' | 'unchecked' | 'unchanged';

/** What a summary says, before any wording: the domains by kind, in the order they are shown. */
export interface SummaryData {
  tenant: string;
  night: string;
  worse: SummaryDomain[];
  better: SummaryDomain[];
  changed: SummaryDomain[];
  first: SummaryDomain[];
  unchecked: SummaryDomain[];
  unchanged: SummaryDomain[];
  /** Every domain, in the order of the kinds above, by name within each. */
  all: SummaryDomain[];
  /** Whether there is anything to tell beyond "nothing changed". */
  newsworthy: boolean;
}

export interface Summary {
  subject: string;
  text: string;
  html: string;
  changed: boolean;
}

export function kindOf(d: SummaryDomain): SummaryKind {
  if (d.failed || d.unchecked || d.score === null) return 'unchecked';
  if (!d.diff) return 'first';
  if (d.diff.regressed) return 'worse';
  if (d.diff.improved) return 'better';
  if (d.diff.different) return 'changed';
  return 'unchanged';
}

const KINDS: SummaryKind[] = ['worse', 'better', 'changed', 'first', 'unchecked', 'unchanged'];

export function summaryData(tenant: string, night: string, domains: SummaryDomain[]): SummaryData {
  const by = (k: SummaryKind) =>
    domains.filter((d) => kindOf(d) === k).sort((a, b) => a.domain.localeCompare(b.domain));
  const data = {
    tenant,
    night,
    worse: by('worse'),
    better: by('better'),
    changed: by('changed'),
    first: by('first'),
    unchecked: by('unchecked'),
    unchanged: by('unchanged'),
  };
  const all = KINDS.flatMap((k) => data[k]);
  return { ...data, all, newsworthy: all.some((d) => kindOf(d) !== 'unchanged') };
}

// ---- Wording (English) ----

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** "1 domain", "2 domains". */
export const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const trend = (d: SummaryDomain) =>
  d.scoreChange === null
    ? 'new'
    : d.scoreChange > 0
      ? `+${d.scoreChange}`
      : d.scoreChange < 0
        ? `${d.scoreChange}`
        : '=';
const line = (f: Finding) => `[${f.severity}] ${f.code} (${f.subject}): ${f.message}`;
const toFix = (d: SummaryDomain) =>
  (d.findings ?? []).filter((f) => f.severity === 'critical' || f.severity === 'warning');
const LABEL: Record<'worse' | 'better' | 'changed', string> = { worse: 'WORSE', better: 'BETTER', changed: 'CHANGED' };
const names = (ds: SummaryDomain[]) => ds.map((d) => d.domain).join(', ');

function subjectOf(s: SummaryData): string {
  const parts: string[] = [];
  if (s.worse.length) parts.push(`${count(s.worse.length, 'domain')} got worse (${names(s.worse)})`);
  if (s.better.length) parts.push(`${count(s.better.length, 'domain')} got better (${names(s.better)})`);
  if (s.changed.length) parts.push(`${count(s.changed.length, 'other change')}`);
  if (s.first.length) {
    const problems = s.first.filter((d) => toFix(d).length > 0).length;
    parts.push(
      `first audit of ${count(s.first.length, 'domain')}${problems ? `, ${problems} with problems to fix` : ', nothing to fix'}`,
    );
  }
  if (s.unchecked.length) parts.push(`${count(s.unchecked.length, 'domain')} could not be checked`);
  if (parts.length === 0) parts.push(`no change in ${count(s.all.length, 'domain')}`);
  return `mailaudit ${s.night}: ${parts.join('; ')}`;
}

export function renderSummary(tenant: string, night: string, domains: SummaryDomain[]): Summary {
  const s = summaryData(tenant, night, domains);
  const moved = [...s.worse, ...s.better, ...s.changed];
  const text: string[] = [`Nightly mail audit for ${tenant}, ${night}.`, ''];
  if (moved.length) {
    text.push('What changed since the previous night:', '');
    for (const d of moved) {
      const k = kindOf(d) as keyof typeof LABEL;
      text.push(`${LABEL[k]}  ${d.domain}: ${d.previousGrade ?? '-'} -> ${d.grade} (score ${d.score}, ${trend(d)})`);
      if (d.diff?.scoringVersions)
        text.push(
          `  scored with version ${d.diff.scoringVersions.to} of the scoring table (previously ${d.diff.scoringVersions.from}); both compared with the new one`,
        );
      for (const f of d.diff?.added ?? []) text.push(`  new:      ${line(f)}`);
      for (const f of d.diff?.resolved ?? []) text.push(`  resolved: ${line(f)}`);
      for (const c of d.diff?.changed ?? [])
        text.push(`  now ${c.to.severity} (was ${c.from.severity}): ${c.to.code} (${c.to.subject})`);
      text.push(`  report: ${d.reportUrl}`, '');
    }
  } else if (s.first.length === 0 && s.unchecked.length < s.all.length) {
    text.push('Nothing changed since the previous night.', '');
  }
  if (s.first.length) {
    text.push(`First audit of ${count(s.first.length, 'domain')}: what was found`, '');
    for (const d of s.first) {
      const fix = toFix(d);
      text.push(
        `${d.domain}: grade ${d.grade} (score ${d.score}), ${fix.length ? `${count(fix.length, 'problem')} to fix` : 'nothing to fix'}`,
      );
      for (const f of fix) text.push(`  ${line(f)}`);
      text.push(`  report: ${d.reportUrl}`, '');
    }
  }
  if (s.unchecked.length) {
    text.push('Could not be checked tonight:', '');
    for (const d of s.unchecked)
      text.push(
        `  ${d.domain}: ${d.failed ? `the audit failed (${d.failed})` : 'our resolvers did not answer; nothing is known about it tonight'}`,
      );
    text.push('');
  }
  text.push('All domains:', '');
  for (const d of s.all)
    text.push(
      `  ${d.domain.padEnd(40)} ${(d.grade ?? '-').padEnd(3)} ${String(d.score ?? '-').padStart(3)}  ${(kindOf(d) === 'unchecked' ? '?' : trend(d)).padStart(4)}  ${d.reportUrl}`,
    );
  text.push('', '-- ', 'mailaudit: nightly deliverability and security audits of your mail domains.');

  const cell = 'padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;';
  const color = (g: string | null) =>
    g === null ? '#57606a' : g.startsWith('A') ? '#1a7f37' : g === 'B' || g === 'C' ? '#9a6700' : '#cf222e';
  const html: string[] = [
    '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#24292f;">',
    `<h2 style="font-size:18px;">Nightly mail audit for ${esc(tenant)}, ${esc(night)}</h2>`,
  ];
  if (moved.length) {
    html.push('<h3 style="font-size:16px;">What changed since the previous night</h3>');
    for (const d of moved) {
      const k = kindOf(d);
      const label = k === 'worse' ? 'Worse' : k === 'better' ? 'Better' : 'Changed';
      const tone = k === 'worse' ? '#cf222e' : k === 'better' ? '#1a7f37' : '#24292f';
      html.push(
        `<p style="margin:12px 0 4px;"><strong style="color:${tone};">${label}</strong> <a href="${esc(d.reportUrl)}">${esc(d.domain)}</a>: ${esc(d.previousGrade ?? '-')} &rarr; <span style="color:${color(d.grade)};font-weight:bold;">${esc(d.grade ?? '-')}</span> (score ${d.score}, ${esc(trend(d))})</p>`,
      );
      html.push('<ul style="margin:0 0 8px;">');
      for (const f of d.diff?.added ?? [])
        html.push(
          `<li><strong>new ${esc(f.severity)}</strong> <code>${esc(f.code)}</code> (${esc(f.subject)}): ${esc(f.message)}</li>`,
        );
      for (const f of d.diff?.resolved ?? [])
        html.push(`<li>resolved <code>${esc(f.code)}</code> (${esc(f.subject)})</li>`);
      for (const c of d.diff?.changed ?? [])
        html.push(`<li>now ${esc(c.to.severity)} (was ${esc(c.from.severity)}): <code>${esc(c.to.code)}</code></li>`);
      html.push('</ul>');
    }
  } else if (s.first.length === 0 && s.unchecked.length < s.all.length) {
    html.push('<p>Nothing changed since the previous night.</p>');
  }
  if (s.first.length) {
    html.push(`<h3 style="font-size:16px;">First audit of ${count(s.first.length, 'domain')}: what was found</h3>`);
    for (const d of s.first) {
      const fix = toFix(d);
      html.push(
        `<p style="margin:12px 0 4px;"><a href="${esc(d.reportUrl)}">${esc(d.domain)}</a>: grade <span style="color:${color(d.grade)};font-weight:bold;">${esc(d.grade ?? '-')}</span> (score ${d.score}), ${fix.length ? `${count(fix.length, 'problem')} to fix` : 'nothing to fix'}</p>`,
      );
      if (fix.length) {
        html.push('<ul style="margin:0 0 8px;">');
        for (const f of fix)
          html.push(
            `<li><strong>${esc(f.severity)}</strong> <code>${esc(f.code)}</code> (${esc(f.subject)}): ${esc(f.message)}</li>`,
          );
        html.push('</ul>');
      }
    }
  }
  if (s.unchecked.length) {
    html.push('<h3 style="font-size:16px;">Could not be checked tonight</h3><ul>');
    for (const d of s.unchecked)
      html.push(
        `<li>${esc(d.domain)}: ${d.failed ? `the audit failed (${esc(d.failed)})` : 'our resolvers did not answer; nothing is known about it tonight'}</li>`,
      );
    html.push('</ul>');
  }
  html.push(
    '<h3 style="font-size:16px;">All domains</h3>',
    '<table style="border-collapse:collapse;" cellpadding="0" cellspacing="0">',
    `<tr><th style="${cell}">Domain</th><th style="${cell}">Grade</th><th style="${cell}">Score</th><th style="${cell}">Trend</th></tr>`,
  );
  for (const d of s.all) {
    html.push(
      `<tr><td style="${cell}"><a href="${esc(d.reportUrl)}">${esc(d.domain)}</a></td><td style="${cell}color:${color(d.grade)};font-weight:bold;">${esc(d.grade ?? '-')}</td><td style="${cell}">${d.score ?? '-'}</td><td style="${cell}">${esc(kindOf(d) === 'unchecked' ? '?' : trend(d))}</td></tr>`,
    );
  }
  html.push(
    '</table>',
    '<p style="color:#57606a;font-size:12px;">mailaudit: nightly deliverability and security audits of your mail domains.</p>',
    '</body></html>',
  );
  return { subject: subjectOf(s), text: `${text.join('\n')}\n`, html: html.join('\n'), changed: s.newsworthy };
}

/** The immediate alert for a domain newly on a blocklist. */
export function renderListingAlert(domain: string, listings: Finding[], reportUrl: string): Omit<Summary, 'changed'> {
  const subject = `mailaudit alert: ${domain} is newly blocklisted (${listings.map((f) => f.params.zone).join(', ')})`;
  const text = [
    `${domain} appeared on ${listings.length === 1 ? 'a blocklist' : `${listings.length} blocklists`}:`,
    '',
    ...listings.map((f) => `  ${line(f)}`),
    '',
    `Report: ${reportUrl}`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;">',
    `<p><strong style="color:#cf222e;">${esc(domain)} appeared on ${listings.length === 1 ? 'a blocklist' : `${listings.length} blocklists`}.</strong></p><ul>`,
    ...listings.map((f) => `<li><code>${esc(f.code)}</code> (${esc(f.subject)}): ${esc(f.message)}</li>`),
    `</ul><p><a href="${esc(reportUrl)}">The report</a></p></body></html>`,
  ].join('\n');
  return { subject, text, html };
}
