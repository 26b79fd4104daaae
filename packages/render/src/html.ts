/**
 * A report as one self-contained HTML page (inline styles, no scripts), for the links in summary
 * emails. Pure.
 */
import type { Report } from '@mailaudit/engine';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const SEVERITY_COLOR = { critical: '#cf222e', warning: '#9a6700', notice: '#0969da', info: '#57606a' } as const;
const STATUS_COLOR = {
  pass: '#1a7f37',
  warn: '#9a6700',
  fail: '#cf222e',
  error: '#8250df',
  skipped: '#57606a',
} as const;

export function renderHtml(report: Report): string {
  const byCategory = new Map<string, Report['findings']>();
  for (const f of report.findings) byCategory.set(f.category, [...(byCategory.get(f.category) ?? []), f]);
  const rows = report.categories.map((c) => {
    const findings = byCategory.get(c.id) ?? [];
    const items = findings
      .map(
        (f) =>
          `<li style="margin:6px 0;"><strong style="color:${SEVERITY_COLOR[f.severity]};">${esc(f.severity)}</strong> <code>${esc(f.code)}</code> <span style="color:#57606a;">${esc(f.subject)}</span><br>${esc(f.message)}${
            f.fix
              ? `<br><span style="color:#57606a;">fix:</span> <code>${esc(f.fix.name)} ${esc(f.fix.type)} ${esc(JSON.stringify(f.fix.value))}</code>`
              : ''
          }</li>`,
      )
      .join('');
    return `<tr><td style="padding:8px;border-bottom:1px solid #ddd;vertical-align:top;"><strong>${esc(c.id)}</strong></td><td style="padding:8px;border-bottom:1px solid #ddd;vertical-align:top;color:${STATUS_COLOR[c.status]};">${esc(c.status)}${c.status === 'skipped' ? '' : ` ${c.score}`}</td><td style="padding:8px;border-bottom:1px solid #ddd;">${items ? `<ul style="margin:0;padding-left:18px;">${items}</ul>` : ''}</td></tr>`;
  });
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>mailaudit: ${esc(report.domain)} ${esc(report.grade)}</title></head>`,
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#24292f;max-width:960px;margin:24px auto;padding:0 12px;">',
    `<h1 style="font-size:22px;">${esc(report.domain)}: grade ${esc(report.grade)}, score ${report.score}/100</h1>`,
    `<p style="color:#57606a;">Audited ${esc(report.startedAt)} in ${report.durationMs} ms (scoring version ${report.scoringVersion}).</p>`,
    '<table style="border-collapse:collapse;width:100%;">',
    ...rows,
    '</table>',
    '</body></html>',
  ].join('\n');
}
