/**
 * The report page from templates, with hand-made reports: escaping in one place, a problem on
 * several ports shown once, the record published now beside the suggested one, the history chart,
 * both languages, no inline script.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Report } from '@mailaudit/engine';
import {
  asset,
  logoDataUrl,
  logoPath,
  mergePorts,
  parseLogo,
  pickLocale,
  renderErrorPage,
  renderReportPage,
  sniffImage,
  textOn,
} from '../src/index.js';

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
    // A date in a finding's sentence is marked as a time, for the page's script to show in the reader's zone.
    assert.ok(html.includes('<time datetime="2026-11-02T00:00:00.000Z" data-local-date>2 Kasım 2026</time>'), html);
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

  it("words the evidence in the reader's language, IDN names in Unicode, times as times of the reader", () => {
    const withEvidence: Report = {
      ...report,
      evidence: {
        mx: {
          records: [{ preference: 10, exchange: 'mx.xn--bcher-kva.example' }],
          hosts: [{ name: 'mx.xn--bcher-kva.example', addresses: ['192.0.2.7', '192.0.2.8'] }],
        },
        dmarc: { name: '_dmarc.xn--bcher-kva.example', record: 'v=DMARC1; p=none' },
        dkim: { keys: [{ selector: 's1', keyType: 'rsa', bits: 1024, testing: true }] },
        ptr: [
          { address: '192.0.2.7', state: 'confirmed', names: ['mx.xn--bcher-kva.example'] },
          { address: '192.0.2.8', state: 'missing', names: [] },
        ],
        dnssec: { state: 'insecure' },
        mtaStsPolicy: { url: 'https://mta-sts.xn--bcher-kva.example/.well-known/mta-sts.txt', state: 'unreachable' },
        transport: {
          ports: [
            {
              host: 'mx.xn--bcher-kva.example',
              address: '192.0.2.7',
              port: 25,
              protocol: 'smtp',
              tlsMode: 'starttls',
              state: 'open',
              tls: {
                protocol: 'TLSv1.3',
                trusted: true,
                expired: true,
                chain: [
                  { subject: 'CN=mx', issuer: 'CN=ca', validTo: '2026-11-02T21:30:00.000Z', fingerprint256: 'AA' },
                ],
              },
            },
            {
              host: 'mx.xn--bcher-kva.example',
              address: '192.0.2.8',
              port: 465,
              protocol: 'smtp',
              tlsMode: 'implicit',
              state: 'timeout',
            },
          ],
        },
        blocklistsAsked: { ip: ['zen.example'], domain: [] },
        blocklists: [{ zone: 'zen.example', subject: '192.0.2.7', state: 'listed', answers: ['127.0.0.2'] }],
      },
    };
    const tr = renderReportPage(withEvidence, { ...opts, locale: 'tr' });
    const evidence = tr.slice(tr.indexOf('id="h-evidence"'));
    for (const raw of [
      '>open<',
      '>timeout<',
      'starttls',
      'implicit',
      '>insecure<',
      '>listed<',
      'missing',
      ' bit<',
      'xn--',
    ])
      assert.ok(!evidence.includes(raw), `raw "${raw}" in the Turkish evidence`);
    for (const said of [
      'mx.bücher.example',
      'DMARC (_dmarc.bücher.example)',
      'RSA 1024 bit, deneme modunda (t=y)',
      '192.0.2.8: PTR kaydı yok',
      'SMTP / STARTTLS',
      'SMTP / baştan TLS',
      '>açık<',
      '>yanıt yok<',
      '>imzasız<',
      '>listede<',
      'TLS 1.3',
      'alınamadı',
    ])
      assert.ok(evidence.includes(said), `"${said}" in the Turkish evidence`);
    // The expiry as a time the page's script shows in the reader's zone (the tenant's without it).
    assert.ok(evidence.includes('<time datetime="2026-11-02T21:30:00.000Z" data-local>3 Kasım 2026 00:30'), evidence);
    const en = renderReportPage(withEvidence, { ...opts, locale: 'en' });
    for (const said of ['RSA 1024 bits, testing (t=y)', '>no answer<', 'TLS from the start', '>not signed<'])
      assert.ok(en.includes(said), `"${said}" in the English evidence`);
  });

  it('knows a logo by its bytes, keeps it as a data: URL and names a path that changes with it', () => {
    const b = (...x: number[]) => Uint8Array.from(x);
    assert.equal(sniffImage(b(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)), 'image/png');
    assert.equal(sniffImage(b(0xff, 0xd8, 0xff, 0xe0)), 'image/jpeg');
    assert.equal(sniffImage(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1')), 'image/webp');
    assert.equal(
      sniffImage(
        Buffer.from(
          '\uFEFF<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        ),
      ),
      'image/svg+xml',
    );
    for (const not of ['<html><svg></svg></html>', '<svgx/>', 'GIF89a', ''])
      assert.equal(sniffImage(Buffer.from(not)), undefined, not);
    const url = logoDataUrl('image/png', b(1, 2, 3));
    assert.deepEqual(parseLogo(url), { type: 'image/png', body: Buffer.from([1, 2, 3]) });
    assert.equal(parseLogo('data:text/html;base64,PGI+'), undefined);
    assert.match(logoPath('t1', url), /^\/brand\/t1\/logo\?v=[0-9a-f]{16}$/);
    assert.notEqual(logoPath('t1', url), logoPath('t1', logoDataUrl('image/png', b(1, 2, 4))));
  });
});
