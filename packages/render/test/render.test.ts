/**
 * Diff of two reports, the summary email and the terminal text, with hand-made reports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Report } from '@mailaudit/engine';
import {
  diffReports,
  InconclusiveError,
  renderListingAlert,
  renderSummary,
  renderText,
  reportLinkToken,
  type SummaryDomain,
  verifyReportLink,
} from '../src/index.js';

const f = (code: string, severity: Finding['severity'], subject = 'example.com'): Finding => ({
  code,
  severity,
  category: code.split('.')[0] === 'dkim' ? 'dkim' : 'spf',
  subject,
  message: `${code} message`,
  params: {},
});

describe('diffReports', () => {
  it('tells added, resolved and changed findings, score and grade, and new listings', () => {
    const from = { score: 90, grade: 'A', findings: [f('dkim.key.short', 'notice'), f('spf.all.neutral', 'warning')] };
    const to = {
      score: 60,
      grade: 'D',
      findings: [f('spf.all.neutral', 'critical'), f('blocklist.domain.listed', 'critical'), f('spf.ptr', 'notice')],
    };
    const d = diffReports(from, to);
    assert.deepEqual(
      d.added.map((x) => x.code),
      ['blocklist.domain.listed', 'spf.ptr'],
    );
    assert.deepEqual(
      d.resolved.map((x) => x.code),
      ['dkim.key.short'],
    );
    assert.deepEqual(
      d.changed.map((c) => [c.from.severity, c.to.severity]),
      [['warning', 'critical']],
    );
    assert.equal(d.scoreChange, -30);
    assert.deepEqual(
      d.newListings.map((x) => x.code),
      ['blocklist.domain.listed'],
    );
    assert.equal(d.regressed, true);
    assert.equal(diffReports(to, from).regressed, false, 'only improvements');
    assert.equal(d.different, true);
    assert.equal(diffReports(from, from).different, false);
  });
});

describe('diffReports compares only what was looked at', () => {
  const cats = (status: Record<string, string> = {}) =>
    (
      [
        'domain',
        'mx',
        'spf',
        'dkim',
        'dmarc',
        'mta-sts',
        'tls-rpt',
        'bimi',
        'dnssec',
        'transport',
        'blocklist',
      ] as const
    ).map((id) => ({ id, score: status[id] === 'error' ? null : 100, status: (status[id] ?? 'pass') as 'pass' }));
  const listed: Finding = { ...f('blocklist.ip.listed', 'critical', '192.0.2.1'), category: 'blocklist' };
  const lookup: Finding = { ...f('dns.lookup_failed', 'warning', 'zen.test'), category: 'blocklist' };
  const v2 = (findings: Finding[], status: Record<string, string> = {}, score = 100, grade = 'A+') => ({
    score,
    grade,
    outcome: 'complete' as const,
    scoringVersion: 2,
    categories: cats(status),
    findings,
  });

  it('a finding of a category the newer report could not check is not resolved, and not worse', () => {
    const before = v2([listed], { blocklist: 'fail' }, 69, 'D');
    const after = { ...v2([lookup], { blocklist: 'error' }, 100, 'A+'), outcome: 'partial' as const };
    const d = diffReports(before, after);
    assert.deepEqual(d.resolved, []);
    assert.deepEqual(d.added, []);
    assert.deepEqual([d.regressed, d.improved], [false, false]);
    assert.deepEqual(d.notCompared, ['blocklist']);
    // The listing seen again once the list answers: not new (compared with the last conclusive answer).
    const back = diffReports(after, v2([listed], { blocklist: 'fail' }, 69, 'D'));
    assert.deepEqual(back.newListings, []);
  });

  it('worse and better follow the score and the grade in the same direction', () => {
    const good = v2([]);
    const bad = v2([f('spf.all.pass', 'critical')], { spf: 'fail' }, 69, 'D');
    const worse = diffReports(good, bad);
    assert.deepEqual([worse.regressed, worse.improved, worse.gradeFrom, worse.gradeTo], [true, false, 'A+', 'D']);
    const better = diffReports(bad, good);
    assert.deepEqual([better.regressed, better.improved, better.scoreChange > 0], [false, true, true]);
  });

  it('never compares an inconclusive report, and says when scoring versions differ', () => {
    const inconclusive = { score: null, grade: null, outcome: 'inconclusive' as const, findings: [] };
    assert.throws(() => diffReports(v2([]), inconclusive), InconclusiveError);
    assert.throws(() => diffReports(inconclusive, v2([])), InconclusiveError);
    // Version 1: 91/D for SPF +all; scored again with version 2 it is 69/D: not "worse".
    const old = { ...v2([f('spf.all.pass', 'critical')], { spf: 'fail' }, 91, 'D'), scoringVersion: 1 };
    const now = v2([f('spf.all.pass', 'critical')], { spf: 'fail' }, 69, 'D');
    const d = diffReports(old, now);
    assert.deepEqual(d.scoringVersions, { from: 1, to: 2 });
    assert.deepEqual([d.scoreChange, d.regressed, d.different], [0, false, false]);
  });
});

describe('renderSummary', () => {
  const domain = (name: string, diff: SummaryDomain['diff'], grade = 'A'): SummaryDomain => ({
    domain: name,
    grade,
    score: 90,
    scoreChange: diff ? diff.scoreChange : null,
    previousGrade: diff ? diff.gradeFrom : null,
    reportUrl: `https://panel.example/r/${name}`,
    diff,
  });
  const same = diffReports({ score: 90, grade: 'A', findings: [] }, { score: 90, grade: 'A', findings: [] });
  const worse = diffReports(
    { score: 90, grade: 'A', findings: [] },
    { score: 60, grade: 'D', findings: [f('spf.all.pass', 'critical')] },
  );
  const better = diffReports(
    { score: 60, grade: 'D', findings: [f('spf.all.pass', 'critical')] },
    { score: 90, grade: 'A', findings: [] },
  );

  it('puts regressions first, then other changes, then the rest; text and HTML', () => {
    const s = renderSummary('Acme', '2026-12-02', [
      domain('a.test', same),
      domain('b.test', better),
      domain('z.test', worse, 'D'),
    ]);
    assert.match(s.subject, /1 domain got worse \(z\.test\); 1 domain got better \(b\.test\)/);
    assert.ok(s.text.indexOf('z.test') < s.text.indexOf('b.test'));
    assert.ok(s.text.indexOf('BETTER  b.test') > 0);
    assert.ok(s.text.includes('resolved: [critical] spf.all.pass'));
    assert.ok(s.html.indexOf('z.test') < s.html.indexOf('b.test'));
    assert.ok(s.html.includes('<a href="https://panel.example/r/z.test">z.test</a>'));
    assert.equal(s.changed, true);
  });

  it('says when nothing changed, and escapes HTML', () => {
    const s = renderSummary('<Acme & Co>', '2026-12-02', [domain('a.test', same), domain('b.test', same)]);
    assert.equal(s.changed, false);
    assert.match(s.subject, /no change in 2 domains/);
    assert.match(s.text, /Nothing changed since the previous night/);
    assert.ok(s.html.includes('&#60;Acme &#38; Co&#62;'));
    assert.ok(!s.html.includes('<Acme'));
  });

  it('wording: the first night says what was found, not "nothing changed"', () => {
    const first = (name: string, findings: Finding[]): SummaryDomain => ({
      ...domain(name, null, findings.length ? 'D' : 'A+'),
      findings,
    });
    const s = renderSummary('Acme', '2026-12-01', [
      first('a.test', [f('spf.all.pass', 'critical'), f('dkim.key.short', 'notice')]),
      first('b.test', []),
    ]);
    assert.equal(s.subject, 'mailaudit 2026-12-01: first audit of 2 domains, 1 with problems to fix');
    assert.ok(!/nothing changed/i.test(s.text), s.text);
    assert.match(s.text, /First audit of 2 domains: what was found/);
    assert.match(s.text, /a\.test: grade D \(score 90\), 1 problem to fix\n {2}\[critical\] spf\.all\.pass/);
    assert.match(s.text, /b\.test: grade A\+ \(score 90\), nothing to fix/);
    assert.ok(!s.text.includes('dkim.key.short'), 'notices are in the report, not the first summary');
    assert.equal(s.changed, true);
  });

  it('wording: one domain is "1 domain", in every sentence', () => {
    const one = renderSummary('Acme', '2026-12-02', [domain('a.test', same)]);
    assert.equal(one.subject, 'mailaudit 2026-12-02: no change in 1 domain');
    const worse1 = renderSummary('Acme', '2026-12-02', [domain('z.test', worse, 'D')]);
    assert.equal(worse1.subject, 'mailaudit 2026-12-02: 1 domain got worse (z.test)');
    const firstOne = renderSummary('Acme', '2026-12-02', [{ ...domain('n.test', null), findings: [] }]);
    assert.match(firstOne.subject, /first audit of 1 domain, nothing to fix$/);
    assert.match(firstOne.text, /First audit of 1 domain: what was found/);
    for (const s of [one, worse1, firstOne]) assert.ok(!/\b1 domains\b/.test(s.subject + s.text + s.html));
  });

  it('wording: an improvement is "better", following the score and the grade', () => {
    const s = renderSummary('Acme', '2026-12-02', [domain('b.test', better)]);
    assert.equal(better.improved, true);
    assert.ok(better.scoreChange > 0 && better.gradeFrom === 'D' && better.gradeTo !== 'D');
    assert.equal(s.subject, 'mailaudit 2026-12-02: 1 domain got better (b.test)');
    assert.match(s.text, /BETTER {2}b\.test: D -> A/);
    assert.ok(!/worse/i.test(s.text));
  });

  it('wording: domains that could not be checked tonight have their own heading and are not changes', () => {
    const s = renderSummary('Acme', '2026-12-02', [
      domain('a.test', same),
      { ...domain('x.test', null), grade: null, score: null, unchecked: true },
    ]);
    assert.equal(s.subject, 'mailaudit 2026-12-02: 1 domain could not be checked');
    assert.match(s.text, /Could not be checked tonight:\n\n {2}x\.test: our resolvers did not answer/);
    assert.ok(!/WORSE|BETTER|CHANGED|resolved/.test(s.text));
  });

  it('writes an alert for new listings', () => {
    const a = renderListingAlert(
      'x.test',
      [{ ...f('blocklist.domain.listed', 'critical', 'x.test'), params: { zone: 'dbl.example' } }],
      'https://p/r',
    );
    assert.match(a.subject, /x\.test is newly blocklisted \(dbl\.example\)/);
  });
});

describe('renderText', () => {
  it('shows IDN names in Unicode, the ASCII form beside the domain and in fix records', () => {
    const report: Report = {
      schema: 'mailaudit.report/1',
      domain: 'xn--rnek-4qa.com.tr',
      outcome: 'complete',
      startedAt: '2026-11-29T00:00:00.000Z',
      durationMs: 10,
      score: 70,
      grade: 'D',
      scoringVersion: 1,
      categories: [{ id: 'spf', score: 40, status: 'fail' }],
      findings: [
        {
          ...f('spf.missing', 'critical', 'xn--rnek-4qa.com.tr'),
          fix: { type: 'TXT', name: 'xn--rnek-4qa.com.tr', value: 'v=spf1 -all' },
        },
      ],
      evidence: {},
    };
    const text = renderText(report);
    assert.ok(text.startsWith('örnek.com.tr (xn--rnek-4qa.com.tr)  grade D'), text);
    assert.ok(text.includes('spf.missing  örnek.com.tr'), text);
    assert.ok(text.includes('fix: xn--rnek-4qa.com.tr TXT'), text);
  });

  it('groups findings under their categories, colour only when asked', () => {
    const report: Report = {
      schema: 'mailaudit.report/1',
      domain: 'example.com',
      startedAt: '2026-11-29T00:00:00.000Z',
      durationMs: 10,
      score: 70,
      grade: 'D',
      outcome: 'complete',
      scoringVersion: 1,
      categories: [
        { id: 'spf', score: 40, status: 'fail' },
        { id: 'transport', score: 100, status: 'skipped' },
      ],
      findings: [{ ...f('spf.missing', 'critical'), fix: { type: 'TXT', name: 'example.com', value: 'v=spf1 -all' } }],
      evidence: {},
    };
    const plain = renderText(report);
    assert.ok(plain.includes('example.com  grade D  score 70/100'));
    assert.ok(plain.includes('fix: example.com TXT "v=spf1 -all"'));
    assert.ok(!plain.includes('\u001b['));
    assert.ok(renderText(report, { color: true }).includes('\u001b['));
  });
});

describe('report links', () => {
  it('verify only with the secret and the report they were made for', () => {
    const t = reportLinkToken('a-secret-of-16-chars', 'r1');
    assert.equal(verifyReportLink('a-secret-of-16-chars', 'r1', t), true);
    assert.equal(verifyReportLink('a-secret-of-16-chars', 'r2', t), false);
    assert.equal(verifyReportLink('another-secret-16chars', 'r1', t), false);
    assert.equal(verifyReportLink('a-secret-of-16-chars', 'r1', t.slice(1)), false);
  });
});
