/**
 * The nightly summary email of one recipient list: its domains with grade, score and trend, what
 * changed since the previous night (regressions first), links to each report; a plain-text part
 * and an HTML part with inline styles only (what common mail clients render). Pure.
 */
import type { Finding } from '@mailaudit/engine';
import type { ReportDiff } from './diff.js';

export interface SummaryDomain {
  domain: string;
  grade: string;
  score: number;
  /** Score change since the previous report; null for the first. */
  scoreChange: number | null;
  previousGrade: string | null;
  reportUrl: string;
  /** null when there was no previous report to compare with. */
  diff: ReportDiff | null;
  /** The audit failed: no report this night. */
  failed?: string;
}

export interface Summary {
  subject: string;
  text: string;
  html: string;
  changed: boolean;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const trend = (d: SummaryDomain) =>
  d.scoreChange === null
    ? 'new'
    : d.scoreChange > 0
      ? `+${d.scoreChange}`
      : d.scoreChange < 0
        ? `${d.scoreChange}`
        : '=';
const isChanged = (d: SummaryDomain) => !!d.failed || !!d.diff?.different;
const line = (f: Finding) => `[${f.severity}] ${f.code} (${f.subject}): ${f.message}`;

/** Regressions first, then other changes, then the rest; by domain within each. */
function order(domains: SummaryDomain[]): SummaryDomain[] {
  const rank = (d: SummaryDomain) => (d.failed ? 1 : d.diff?.regressed ? 0 : isChanged(d) ? 2 : 3);
  return [...domains].sort((a, b) => rank(a) - rank(b) || a.domain.localeCompare(b.domain));
}

export function renderSummary(tenant: string, night: string, domains: SummaryDomain[]): Summary {
  const sorted = order(domains);
  const regressions = sorted.filter((d) => d.diff?.regressed);
  const changed = sorted.some(isChanged);
  const subject = regressions.length
    ? `mailaudit ${night}: ${regressions.length} domain${regressions.length > 1 ? 's' : ''} got worse (${regressions.map((d) => d.domain).join(', ')})`
    : changed
      ? `mailaudit ${night}: changes in ${sorted.filter(isChanged).length} of ${sorted.length} domains`
      : `mailaudit ${night}: no change in ${sorted.length} domains`;

  const text: string[] = [`Nightly mail audit for ${tenant}, ${night}.`, ''];
  const changedDomains = sorted.filter(isChanged);
  if (changedDomains.length) {
    text.push('What changed since the previous night:', '');
    for (const d of changedDomains) {
      text.push(
        `${d.diff?.regressed ? 'WORSE' : d.failed ? 'FAILED' : 'CHANGED'}  ${d.domain}: ${d.previousGrade ?? '-'} -> ${d.grade} (score ${d.score}, ${trend(d)})`,
      );
      if (d.failed) text.push(`  the audit failed: ${d.failed}`);
      for (const f of d.diff?.added ?? []) text.push(`  new:      ${line(f)}`);
      for (const f of d.diff?.resolved ?? []) text.push(`  resolved: ${line(f)}`);
      for (const c of d.diff?.changed ?? [])
        text.push(`  now ${c.to.severity} (was ${c.from.severity}): ${c.to.code} (${c.to.subject})`);
      text.push(`  report: ${d.reportUrl}`, '');
    }
  } else {
    text.push('Nothing changed since the previous night.', '');
  }
  text.push('All domains:', '');
  for (const d of sorted)
    text.push(
      `  ${d.domain.padEnd(40)} ${d.grade.padEnd(3)} ${String(d.score).padStart(3)}  ${trend(d).padStart(4)}  ${d.reportUrl}`,
    );
  text.push('', '-- ', 'mailaudit: nightly deliverability and security audits of your mail domains.');

  const cell = 'padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;';
  const color = (g: string) => (g.startsWith('A') ? '#1a7f37' : g === 'B' || g === 'C' ? '#9a6700' : '#cf222e');
  const html: string[] = [
    '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#24292f;">',
    `<h2 style="font-size:18px;">Nightly mail audit for ${esc(tenant)}, ${esc(night)}</h2>`,
  ];
  if (changedDomains.length) {
    html.push('<h3 style="font-size:16px;">What changed since the previous night</h3>');
    for (const d of changedDomains) {
      const label = d.diff?.regressed ? 'Worse' : d.failed ? 'Failed' : 'Changed';
      html.push(
        `<p style="margin:12px 0 4px;"><strong style="color:${d.diff?.regressed || d.failed ? '#cf222e' : '#24292f'};">${label}</strong> <a href="${esc(d.reportUrl)}">${esc(d.domain)}</a>: ${esc(d.previousGrade ?? '-')} &rarr; <span style="color:${color(d.grade)};font-weight:bold;">${esc(d.grade)}</span> (score ${d.score}, ${esc(trend(d))})</p>`,
      );
      html.push('<ul style="margin:0 0 8px;">');
      if (d.failed) html.push(`<li>the audit failed: ${esc(d.failed)}</li>`);
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
  } else {
    html.push('<p>Nothing changed since the previous night.</p>');
  }
  html.push(
    '<h3 style="font-size:16px;">All domains</h3>',
    '<table style="border-collapse:collapse;" cellpadding="0" cellspacing="0">',
    `<tr><th style="${cell}">Domain</th><th style="${cell}">Grade</th><th style="${cell}">Score</th><th style="${cell}">Trend</th></tr>`,
  );
  for (const d of sorted) {
    html.push(
      `<tr><td style="${cell}"><a href="${esc(d.reportUrl)}">${esc(d.domain)}</a></td><td style="${cell}color:${color(d.grade)};font-weight:bold;">${esc(d.grade)}</td><td style="${cell}">${d.score}</td><td style="${cell}">${esc(trend(d))}</td></tr>`,
    );
  }
  html.push(
    '</table>',
    '<p style="color:#57606a;font-size:12px;">mailaudit: nightly deliverability and security audits of your mail domains.</p>',
    '</body></html>',
  );
  return { subject, text: `${text.join('\n')}\n`, html: html.join('\n'), changed };
}

/** The immediate alert for a domain newly on a blocklist. */
export function renderListingAlert(domain: string, listings: Finding[], reportUrl: string): Omit<Summary, 'changed'> {
  const subject = `mailaudit alert: ${domain} is newly blocklisted (${listings.map((f) => f.params.zone).join(', ')})`;
  const text = [
    `${domain} appeared on a blocklist:`,
    '',
    ...listings.map((f) => `  ${line(f)}`),
    '',
    `Report: ${reportUrl}`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;">',
    `<p><strong style="color:#cf222e;">${esc(domain)} appeared on a blocklist.</strong></p><ul>`,
    ...listings.map((f) => `<li><code>${esc(f.code)}</code> (${esc(f.subject)}): ${esc(f.message)}</li>`),
    `</ul><p><a href="${esc(reportUrl)}">The report</a></p></body></html>`,
  ].join('\n');
  return { subject, text, html };
}
