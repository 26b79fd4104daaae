/**
 * The summary and alert emails from their templates, with hand-made diffs: regressions first, both
 * parts (HTML and text), English and Turkish from the catalogue, the tenant's brand and never our
 * name, links to each report, the overview and the manage page, escaping, and styles inlined
 * from the one stylesheet.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '@mailaudit/engine';
import { parseEmailCss } from '../src/email-css.js';
import { diffReports, type EmailOptions, renderListingAlert, renderSummary, type SummaryDomain } from '../src/index.js';

const f = (code: string, severity: Finding['severity'], subject = 'example.com', params = {}): Finding => ({
  code,
  severity,
  category: (code.split('.')[0] ?? 'spf') as Finding['category'],
  subject,
  message: `${code} message`,
  params,
});

const domain = (name: string, diff: SummaryDomain['diff'], grade = 'A', score = 90): SummaryDomain => ({
  domain: name,
  grade,
  score,
  scoreChange: diff ? diff.scoreChange : null,
  previousGrade: diff ? diff.gradeFrom : null,
  reportUrl: `https://panel.example/r/${name}?t=tok`,
  diff,
});
const v = { scoringVersion: 2 };
const same = diffReports({ score: 90, grade: 'A', findings: [], ...v }, { score: 90, grade: 'A', findings: [], ...v });
const worse = diffReports(
  { score: 90, grade: 'A', findings: [f('dkim.key.short', 'notice')], ...v },
  { score: 60, grade: 'D', findings: [f('spf.all.pass', 'critical', 'z.test', { term: '+all' })], ...v },
);
const better = diffReports(
  { score: 60, grade: 'D', findings: [f('spf.all.pass', 'critical')], ...v },
  { score: 90, grade: 'A', findings: [], ...v },
);

const BRAND: EmailOptions = {
  brand: {
    name: 'Örnek Posta Kontrol',
    accentColor: '#0f766e',
    footerText: 'Örnek Hosting A.Ş. · İstanbul',
    supportUrl: 'https://destek.ornek.example/',
  },
  overviewUrl: 'https://panel.example/o/t1?e=1&t=x',
  manageUrl: 'https://panel.example/u/abc.def',
  recipient: 'ops@ornek.example',
};

describe('summary email', () => {
  const domains = [domain('a.test', same), domain('b.test', better), domain('z.test', worse, 'D', 60)];

  it('puts regressions first, then improvements, then the rest, in both parts', () => {
    const s = renderSummary('Acme', '2026-12-02', domains, BRAND);
    assert.match(s.subject, /: 1 domain got worse \(z\.test\); 1 domain got better \(b\.test\)$/);
    for (const part of [s.text, s.html]) {
      assert.ok(part.indexOf('z.test') < part.indexOf('b.test'), 'worse before better');
      assert.ok(part.indexOf('b.test') < part.indexOf('a.test'), 'better before the unchanged');
    }
    assert.match(s.text, /== Got worse ==\n\nz\.test: Grade A → D, now 60 of 100 points\./);
    assert.match(s.text, /- New: SPF allows the whole world to send \(Critical, z\.test\) \[spf\.all\.pass\]/);
    assert.match(s.text, /- Resolved: .*\[dkim\.key\.short\]/);
    assert.match(s.text, /== Got better ==\n\nb\.test: Grade D → A/);
    assert.ok(s.html.includes('<a href="https://panel.example/r/z.test?t=tok"'), 'a link to the report page');
    assert.equal(s.changed, true);
  });

  it('is branded: product name, colour, footer, support; links to the overview and the manage page', () => {
    const s = renderSummary('Acme Hosting', '2026-12-02', domains, BRAND);
    assert.ok(s.subject.startsWith('Örnek Posta Kontrol 2026-12-02: '), s.subject);
    for (const part of [s.subject, s.text, s.html]) assert.ok(!/mailaudit/i.test(part), 'never our name');
    assert.ok(!s.html.includes('Acme Hosting') && !s.text.includes('Acme Hosting'), 'the product name, not the tenant');
    assert.match(s.html, /background:#0f766e;color:#ffffff/);
    assert.ok(s.html.includes('Örnek Hosting A.Ş. · İstanbul'));
    assert.ok(s.html.includes('href="https://destek.ornek.example/"'));
    assert.ok(s.html.includes('href="https://panel.example/o/t1?e=1&amp;t=x"'));
    assert.ok(s.html.includes('href="https://panel.example/u/abc.def"'));
    assert.match(s.text, /See all your domains: https:\/\/panel\.example\/o\/t1\?e=1&t=x/);
    assert.match(s.text, /Manage these emails or unsubscribe: https:\/\/panel\.example\/u\/abc\.def/);
    assert.match(s.text, /\n-- \nÖrnek Posta Kontrol\n/);
    // Without a product name, the tenant's own name stands there.
    const plain = renderSummary('Acme Hosting', '2026-12-02', domains);
    assert.ok(plain.subject.startsWith('Acme Hosting 2026-12-02: '));
    assert.ok(plain.html.includes('<span>Acme Hosting</span>'));
  });

  it('speaks Turkish from the catalogue', () => {
    const s = renderSummary('Acme', '2026-12-02', domains, { ...BRAND, locale: 'tr' });
    assert.match(s.subject, /1 alan adı kötüleşti \(z\.test\); 1 alan adı iyileşti \(b\.test\)/);
    assert.match(s.html, /<html lang="tr">/);
    assert.match(s.text, /E-posta alan adlarınızın gece denetimi\n2 Aralık 2026 gecesi/);
    assert.match(s.text, /== Kötüleşenler ==\n\nz\.test: Not A → D, şimdi 100 üzerinden 60 puan\./);
    assert.match(s.text, /- Yeni: SPF tüm dünyaya gönderme izni veriyor \(Kritik, z\.test\)/);
    assert.match(s.html, /Tüm alan adlarınızı görün/);
    assert.match(s.html, /Bu e-postaları yönetin veya abonelikten çıkın/);
    assert.ok(!/Got worse|Grade|domain got/.test(s.text), 'no English left');
  });

  it('shows IDN names in Unicode and escapes what the tenant or a finding wrote', () => {
    const s = renderSummary('<Acme & Co>', '2026-12-02', [domain('xn--rnek-4qa.com.tr', worse, 'D')], {
      brand: { name: '<b>Acme</b> & "Co"', footerText: '<script>x</script>' },
    });
    assert.ok(s.html.includes('örnek.com.tr'));
    assert.ok(s.text.includes('örnek.com.tr: Grade A → D'));
    assert.ok(!s.html.includes('<b>Acme') && !s.html.includes('<script>'));
    assert.ok(s.html.includes('&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;Co&quot;'));
    assert.ok(s.text.includes('<b>Acme</b> & "Co"'), 'the text part is not HTML: nothing escaped');
  });

  it('says when nothing changed; one domain is "1 domain"', () => {
    const s = renderSummary('Acme', '2026-12-02', [domain('a.test', same)]);
    assert.equal(s.changed, false);
    assert.equal(s.subject, 'Acme 2026-12-02: no change in 1 domain');
    assert.match(s.text, /Nothing changed since the previous night\./);
    for (const part of [s.subject, s.text, s.html]) assert.ok(!/\b1 domains\b/.test(part));
  });

  it('the first night says what was found (critical and warning), not "nothing changed"', () => {
    const first = (name: string, findings: Finding[]): SummaryDomain => ({
      ...domain(name, null, findings.length ? 'D' : 'A+'),
      findings,
    });
    const s = renderSummary('Acme', '2026-12-01', [
      first('a.test', [f('spf.all.pass', 'critical', 'a.test', { term: '+all' }), f('dkim.key.short', 'notice')]),
      first('b.test', []),
    ]);
    assert.equal(s.subject, 'Acme 2026-12-01: first audit of 2 domains, 1 with problems to fix');
    assert.ok(!/nothing changed/i.test(s.text));
    assert.match(s.text, /First check of 2 domains: what was found/);
    assert.match(s.text, /a\.test: Grade D, 90 of 100 points\.\n {2}1 problem to fix:\n {2}- SPF allows/);
    assert.match(s.text, /b\.test: Grade A\+, 90 of 100 points\.\n {2}Nothing to fix\./);
    assert.ok(!s.text.includes('dkim.key.short'), 'notices are in the report, not the first summary');
  });

  it('domains that could not be checked have their own heading and are not changes', () => {
    const s = renderSummary('Acme', '2026-12-02', [
      domain('a.test', same),
      { ...domain('x.test', null), grade: null, score: null, unchecked: true },
    ]);
    assert.equal(s.subject, 'Acme 2026-12-02: 1 domain could not be checked');
    assert.match(s.text, /== Could not be checked tonight ==\n\nx\.test: The check could not reach the DNS/);
    assert.ok(!/Got worse|Got better|Resolved/.test(s.text));
  });

  it('inlines its styles from email.css and keeps only @media in the head', () => {
    const s = renderSummary('Acme', '2026-12-02', domains, BRAND);
    assert.ok(!/class="[^"]*"(?![^>]*style=)/.test(s.html.replace(/<h2 class="section-[a-z]+"/g, '')));
    assert.match(s.html, /<style>@media only screen and \(max-width: 480px\)/);
    assert.ok(!s.html.includes('<link'), 'no stylesheet to load');
    assert.match(s.html, /<h1 class="h1" style="margin:12px 0 4px;font-size:21px/);
  });
});

/** Rows of the "all your domains" table, its head row included. */
const tableRows = (html: string) => {
  const table = html.slice(html.indexOf('<table class="domains"'));
  return (table.slice(0, table.indexOf('</table>')).match(/<tr>/g) ?? []).length;
};

describe('summary email of many domains', () => {
  it('lists the first 100 in its table and sends the reader to the overview for the rest', () => {
    const many = Array.from({ length: 130 }, (_, i) => domain(`d${String(i).padStart(3, '0')}.test`, same));
    const s = renderSummary('Acme', '2026-12-02', [domain('z.test', worse, 'D', 60), ...many], BRAND);
    assert.ok(s.html.length < 102_000, `${s.html.length} bytes: Gmail clips beyond about 102 KB`);
    assert.equal(tableRows(s.html), 100 + 1, 'a head row and 100 domains');
    assert.ok(s.html.indexOf('z.test') < s.html.indexOf('d000.test'), 'the regression still first');
    assert.match(s.text, /…and 31 more domains: see them all on the overview page below\./);
    assert.ok(s.html.includes('href="https://panel.example/u/abc.def"'), 'the footer is not cut');
    const tr = renderSummary('Acme', '2026-12-02', many, { ...BRAND, locale: 'tr' });
    assert.match(tr.text, /…ve 30 alan adı daha/);
    // Without an overview link nothing is left out.
    const all = renderSummary('Acme', '2026-12-02', many);
    assert.equal(tableRows(all.html), 131);
  });
});

describe('email.css', () => {
  it('accepts one-class rules and @media blocks, and refuses what cannot be inlined', () => {
    const css = parseEmailCss(
      '/* c */ .a { color: red; margin : 0 } @media (max-width: 1px) { .a { color: blue } } .b{x:y}',
    );
    assert.equal(css.rules.get('a'), 'color:red;margin:0');
    assert.equal(css.rules.get('b'), 'x:y');
    assert.equal(css.media, '@media (max-width: 1px) { .a { color: blue } }');
    assert.throws(() => parseEmailCss('p.a { color: red }'), /not one class/);
  });
});

describe('alert email', () => {
  it('names the domain and the lists, in the language and brand of the recipient', () => {
    const listing = f('blocklist.domain.listed', 'critical', 'x.test', {
      domain: 'x.test',
      zone: 'dbl.example',
      answer: '127.0.1.2',
    });
    const en = renderListingAlert('Acme', 'x.test', [listing], 'https://p/r/1?t=x', BRAND);
    assert.equal(en.subject, 'Örnek Posta Kontrol alert: x.test is newly blocklisted (dbl.example)');
    assert.match(en.text, /x\.test appeared on a blocklist/);
    assert.match(en.text, /x\.test is listed on dbl\.example \(answer 127\.0\.1\.2\)\./);
    assert.match(en.text, /Open the report of x\.test: https:\/\/p\/r\/1\?t=x/);
    assert.ok(en.html.includes('href="https://panel.example/u/abc.def"'));
    const tr = renderListingAlert('Acme', 'x.test', [listing], 'https://p/r/1?t=x', { ...BRAND, locale: 'tr' });
    assert.equal(tr.subject, 'Örnek Posta Kontrol uyarısı: x.test yeni bir kara listede (dbl.example)');
    assert.match(tr.text, /x\.test bir kara listeye girdi/);
    for (const part of [en.subject, en.text, en.html, tr.text]) assert.ok(!/mailaudit/i.test(part));
  });
});
