/**
 * The report page from templates, with hand-made reports: escaping in one place, a problem on
 * several ports shown once, the record published now beside the suggested one, the history chart,
 * both languages, no inline script.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Report } from '@mailaudit/engine';
import { asset, mergePorts, pickLocale, renderErrorPage, renderReportPage, textOn } from '../src/index.js';

const cert = (port: number): Finding => ({
  code: 'tls.cert.expired',
  severity: 'critical',
  category: 'transport',
  subject: `imap.example.com:${port}`,
  message: `expired on port ${port}`,
  params: { host: 'imap.example.com', address: '192.0.2.7', port, validTo: '2026-11-02T00:00:00.000Z' },
});

const report: Report = {
  schema: 'mailaudit.report/1',
  domain: 'xn--bcher-kva.example',
  startedAt: '2026-12-01T03:00:00.000Z',
  durationMs: 400,
  score: 62,
  grade: 'D',
  outcome: 'complete',
  scoringVersion: 1,
  categories: [
    { id: 'spf', score: 40, status: 'fail' },
    { id: 'transport', score: 40, status: 'fail' },
    { id: 'bimi', score: 100, status: 'skipped' },
  ],
  findings: [
    cert(993),
    cert(143),
    { ...cert(25), params: { ...cert(25).params, validTo: '2025-01-01T00:00:00.000Z' } },
    {
      code: 'spf.all.pass',
      severity: 'critical',
      category: 'spf',
      subject: 'xn--bcher-kva.example',
      message: 'ends in +all <script>alert(1)</script>',
      params: { term: '<script>alert(1)</script>' },
      fix: { type: 'TXT', name: 'xn--bcher-kva.example', value: 'v=spf1 mx -all' },
    },
  ],
  evidence: { spf: { record: 'v=spf1 mx +all "quoted" <b>', lookups: 1 } },
};

const opts = { brand: { name: 'Örnek <Hosting>' }, nonce: 'abc', timeZone: 'Europe/Istanbul' } as const;

describe('report page', () => {
  it('merges a problem of one host on several ports, not different problems', () => {
    const merged = mergePorts(report.findings);
    assert.equal(merged.length, 3);
    assert.deepEqual(merged[0]?.ports, [143, 993]);
    assert.equal(merged[0]?.subject, 'imap.example.com');
    assert.deepEqual(merged[1]?.ports, [], 'another expiry date is another problem');
  });

  it('escapes what it shows, shows IDN names in Unicode, the records side by side, and no inline script', () => {
    const html = renderReportPage(report, { ...opts, locale: 'en' });
    assert.ok(html.includes('<h1>bücher.example</h1>'));
    assert.ok(html.includes('Örnek &lt;Hosting&gt;'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!html.includes('<script>alert'));
    assert.ok(html.includes('<pre><code>v=spf1 mx +all &quot;quoted&quot; &lt;b&gt;</code></pre>'), 'current record');
    assert.match(html, /<pre><code id="fix-[^"]+">v=spf1 mx -all<\/code><\/pre>/);
    assert.match(html, /ports 143, 993/);
    assert.match(html, /imap.example.com on port 143 and 993 expired/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /<script src="\/assets\/page.js" defer><\/script>/);
    assert.ok(html.includes('<style nonce="abc">'));
    assert.ok(!/mailaudit/i.test(html), 'nothing says mailaudit');
  });

  it('speaks Turkish, with Turkish plurals and dates', () => {
    const html = renderReportPage(report, { ...opts, locale: 'tr' });
    assert.ok(html.includes('<html lang="tr">'));
    assert.ok(html.includes('3 kritik sorun'));
    assert.ok(html.includes('1 Aralık 2026 06:00'));
    assert.ok(html.includes('Teknik ayrıntılar'));
  });

  it('draws the score history as SVG when there are two reports or more', () => {
    const history = [
      { at: '2026-11-29T03:00:00Z', score: 90, grade: 'A' },
      { at: '2026-11-30T03:00:00Z', score: 80, grade: 'B' },
      { at: '2026-12-01T03:00:00Z', score: 62, grade: 'D' },
    ];
    const html = renderReportPage(report, { ...opts, locale: 'en', history });
    assert.equal((html.match(/<circle class="point"/g) ?? []).length, 3);
    assert.ok(html.includes('from 90 to 62 points'));
    assert.ok(!renderReportPage(report, { ...opts, locale: 'en', history: history.slice(0, 1) }).includes('<svg'));
  });

  it('has an error page, an asset list and a readable text colour on any accent', () => {
    assert.match(renderErrorPage('notFound', { ...opts, locale: 'tr' }), /Bu bağlantı çalışmıyor/);
    assert.ok(asset('style.css')?.type.startsWith('text/css'));
    assert.equal(asset('../package.json'), undefined);
    assert.equal(textOn('#ffff00'), '#111111');
    assert.equal(textOn('#1f6feb'), '#ffffff');
  });

  it('picks the language from ?lang=, Accept-Language, then the default', () => {
    assert.equal(pickLocale('tr'), 'tr');
    assert.equal(pickLocale(undefined, 'de-DE, tr;q=0.8, en;q=0.5'), 'tr');
    assert.equal(pickLocale('xx', null, 'tr'), 'tr');
    assert.equal(pickLocale(), 'en');
  });
});
