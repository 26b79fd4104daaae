/**
 * A message test as text for a terminal: what the message proved (SPF, each DKIM signature,
 * DMARC, ARC, BIMI, the sending address's reverse DNS, HELO and blocklists), then the findings,
 * most severe first. Colour only when asked.
 */
import type { AuthResult, MessageReport, Severity } from '@mailaudit/engine';

const SEVERITY_MARK: Record<Severity, string> = {
  critical: '✖ critical',
  warning: '▲ warning ',
  notice: '● notice  ',
  info: '· info    ',
};

export function renderMessageText(report: MessageReport, opts: { color?: boolean } = {}): string {
  const paint = opts.color
    ? (code: number, s: string) => `\u001b[${code}m${s}\u001b[0m`
    : (_code: number, s: string) => s;
  const resultColor = (r: AuthResult) =>
    r === 'pass' ? 32 : r === 'fail' || r === 'permerror' ? 31 : r === 'none' ? 2 : 33;
  const sevColor: Record<Severity, number> = { critical: 31, warning: 33, notice: 36, info: 2 };
  const row = (label: string, result: AuthResult, detail: string) =>
    `  ${label.padEnd(10)} ${paint(resultColor(result), result.padEnd(9))} ${detail}`.trimEnd();
  const e = report.envelope;
  const tls = e.tls === undefined ? '' : e.tls === null ? ', no TLS' : `, ${e.tls.version}`;
  const lines = [
    `${paint(1, `Message from ${report.headers.from.join(', ') || '(no From)'}`)}`,
    `  via ${e.ip} (HELO ${e.helo}), MAIL FROM <${e.mailFrom}>${tls}  (${report.durationMs} ms)`,
    row('SPF', report.spf.result, `${report.spf.domain} (${report.spf.identity})`),
  ];
  if (report.dkim.length === 0) lines.push(row('DKIM', 'none', 'not signed'));
  for (const s of report.dkim) {
    const bits = s.keyBits ? ` ${s.keyBits} bits` : '';
    const detail = `d=${s.domain} s=${s.selector} ${s.algorithm ?? ''}${bits}${s.aligned ? ', aligned' : ''}${s.comment ? ` (${s.comment})` : ''}`;
    lines.push(row('DKIM', s.result, detail));
  }
  const d = report.dmarc;
  lines.push(
    row(
      'DMARC',
      d.result,
      [
        report.fromDomain,
        d.policy ? `policy ${d.policy}` : '',
        d.comment && d.result !== 'pass' ? `(${d.comment})` : '',
      ]
        .filter(Boolean)
        .join(' '),
    ),
  );
  lines.push(row('ARC', report.arc.result, report.arc.instance ? `i=${report.arc.instance}` : ''));
  lines.push(row('BIMI', report.bimi.result, report.bimi.location ?? ''));
  lines.push(row('iprev', report.iprev.result, report.iprev.names.join(', ') || (report.iprev.comment ?? '')));
  lines.push(row('HELO', report.helo.result, report.helo.comment ?? ''));
  const listed = report.blocklists.filter((b) => b.state === 'listed').map((b) => b.zone);
  if (report.blocklists.length > 0) {
    lines.push(
      `  ${'blocklists'.padEnd(10)} ${listed.length ? paint(31, `listed on ${listed.join(', ')}`) : `not listed on ${report.blocklists.filter((b) => b.state === 'clear').length} of ${report.blocklists.length}`}`,
    );
  }
  if (report.findings.length > 0) {
    lines.push('Findings:');
    for (const f of report.findings) {
      lines.push(`  ${paint(sevColor[f.severity], SEVERITY_MARK[f.severity])} ${f.code}  ${paint(2, f.subject)}`);
      lines.push(`    ${f.message}`);
    }
  } else {
    lines.push(paint(32, 'No findings.'));
  }
  return `${lines.join('\n')}\n`;
}
