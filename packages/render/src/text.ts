/**
 * A report as text for a terminal: the grade and score, then each category with its status and
 * its findings, most severe first, with the record that fixes each where there is one. Colour
 * only when asked (the CLI asks on a TTY without NO_COLOR).
 */
import { displayDomain } from '@mailaudit/catalog';
import type { CategoryId, CategoryStatus, Finding, Report, Severity } from '@mailaudit/engine';

const CATEGORY_NAMES: Record<CategoryId, string> = {
  domain: 'Domain',
  mx: 'MX and reverse DNS',
  spf: 'SPF',
  dkim: 'DKIM',
  dmarc: 'DMARC',
  'mta-sts': 'MTA-STS',
  'tls-rpt': 'TLS reporting',
  bimi: 'BIMI',
  dnssec: 'DNSSEC',
  transport: 'Mail hosts (SMTP, IMAP, POP3, TLS)',
  blocklist: 'Blocklists',
};

const STATUS_LABEL: Record<CategoryStatus, string> = {
  pass: 'pass',
  warn: 'warn',
  fail: 'FAIL',
  error: 'error',
  skipped: 'skipped',
};

const SEVERITY_MARK: Record<Severity, string> = {
  critical: '✖ critical',
  warning: '▲ warning ',
  notice: '● notice  ',
  info: '· info    ',
};

export interface TextOptions {
  /** ANSI colours. @default false */
  color?: boolean;
}

type Paint = (code: number, s: string) => string;

export function renderText(report: Report, opts: TextOptions = {}): string {
  const paint: Paint = opts.color ? (code, s) => `\u001b[${code}m${s}\u001b[0m` : (_code, s) => s;
  const grade = report.grade ?? '-';
  const gradeColor = grade.startsWith('A') ? 32 : grade === 'B' || grade === 'C' ? 33 : 31;
  const statusColor: Record<CategoryStatus, number> = { pass: 32, warn: 33, fail: 31, error: 35, skipped: 2 };
  const sevColor: Record<Severity, number> = { critical: 31, warning: 33, notice: 36, info: 2 };
  const lines: string[] = [];
  // An IDN is shown in Unicode, its ASCII form beside it (the form to type in DNS and the JSON).
  const shown = displayDomain(report.domain);
  const domain = shown === report.domain ? shown : `${shown} (${report.domain})`;
  if (report.outcome === 'inconclusive') {
    lines.push(`${paint(1, domain)}  ${paint(35, 'inconclusive')}: no grade, no score  (${report.durationMs} ms)`);
    for (const f of report.findings) lines.push(`  ${f.code}  ${f.message}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `${paint(1, domain)}  grade ${paint(1, paint(gradeColor, grade))}  score ${report.score}/100  (${report.durationMs} ms)`,
  );
  const leftOut = report.categories.filter((c) => c.score === null && c.status !== 'skipped');
  if (leftOut.length > 0)
    lines.push(
      `  partial: ${leftOut.map((c) => CATEGORY_NAMES[c.id]).join(', ')} could not be checked and ${leftOut.length === 1 ? 'is' : 'are'} left out of the score`,
    );
  const byCategory = new Map<CategoryId, Finding[]>();
  for (const f of report.findings) byCategory.set(f.category, [...(byCategory.get(f.category) ?? []), f]);
  for (const c of report.categories) {
    const findings = byCategory.get(c.id) ?? [];
    if (c.status === 'skipped' && findings.length === 0) {
      lines.push(paint(2, `  ${CATEGORY_NAMES[c.id].padEnd(36)} skipped`));
      continue;
    }
    const score = c.status === 'skipped' || c.score === null ? '' : ` ${c.score}`;
    lines.push(`  ${CATEGORY_NAMES[c.id].padEnd(36)} ${paint(statusColor[c.status], STATUS_LABEL[c.status])}${score}`);
    for (const f of findings) {
      lines.push(
        `    ${paint(sevColor[f.severity], SEVERITY_MARK[f.severity])} ${f.code}  ${paint(2, displayDomain(f.subject))}`,
      );
      lines.push(`      ${f.message}`);
      // Files first: they must be served before the record is published.
      for (const file of f.fix?.files ?? [])
        lines.push(`      fix: ${file.url} file (${file.contentType}) ${paint(1, JSON.stringify(file.content))}`);
      if (f.fix) lines.push(`      fix: ${f.fix.name} ${f.fix.type} ${paint(1, JSON.stringify(f.fix.value))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
