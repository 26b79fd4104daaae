/**
 * Diff of two reports, the summary email and the terminal text, with hand-made reports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Report } from '@mailaudit/engine';
import {
  diffReports,
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
    assert.match(s.subject, /1 domain got worse \(z\.test\)/);
    assert.ok(s.text.indexOf('z.test') < s.text.indexOf('b.test'));
    assert.ok(s.text.indexOf('CHANGED  b.test') > 0);
    assert.ok(s.text.includes('resolved: [critical] spf.all.pass'));
    assert.ok(s.html.indexOf('z.test') < s.html.indexOf('b.test'));
    assert.ok(s.html.includes('<a href="https://panel.example/r/z.test">z.test</a>'));
    assert.equal(s.changed, true);
  });

  it('says when nothing changed, and escapes HTML', () => {
    const s = renderSummary('<Acme & Co>', '2026-12-02', [domain('a.test', same), domain('new.test', null)]);
    assert.equal(s.changed, false);
    assert.match(s.subject, /no change in 2 domains/);
    assert.ok(s.html.includes('&#60;Acme &#38; Co&#62;'));
    assert.ok(!s.html.includes('<Acme'));
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
  it('groups findings under their categories, colour only when asked', () => {
    const report: Report = {
      schema: 'mailaudit.report/1',
      domain: 'example.com',
      startedAt: '2026-11-29T00:00:00.000Z',
      durationMs: 10,
      score: 70,
      grade: 'D',
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
