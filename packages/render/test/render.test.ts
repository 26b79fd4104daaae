/**
 * Diff of two reports and the terminal text, with hand-made reports (the emails: emails.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Report } from '@mailaudit/engine';
import {
  diffReports,
  InconclusiveError,
  readUnsubscribeToken,
  renderText,
  reportLinkToken,
  unsubscribeToken,
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

  it('port 25 that could not be checked is not compared, even where another port makes transport fail', () => {
    const transport = (code: string, severity: Finding['severity'], subject: string): Finding => ({
      ...f(code, severity, subject),
      category: 'transport',
    });
    const unreachable = transport('smtp.unreachable', 'critical', 'example.com');
    const notChecked = transport('smtp.not_checked', 'info', 'example.com');
    const plaintext = transport('imap.plaintext_auth', 'critical', 'mail.example.com:143');
    const before = v2([unreachable, plaintext], { transport: 'fail' }, 69, 'D');
    // Tonight port 25 could not be checked; IMAP still allows login in clear, so transport is `fail`.
    const after = { ...v2([notChecked, plaintext], { transport: 'fail' }, 69, 'D'), outcome: 'partial' as const };
    const d = diffReports(before, after);
    assert.deepEqual([d.resolved, d.added], [[], []], 'smtp.unreachable is not "resolved"');
    assert.deepEqual(d.notCompared, ['transport']);
    assert.equal(d.different, false);
    // And back: the unreachable port 25 is not "new" either.
    const back = diffReports(after, before);
    assert.deepEqual([back.resolved, back.added, back.regressed], [[], [], false]);
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

  it('unsubscribe tokens name their tenant and address, and only under the secret', () => {
    const tenant = '6f1c2a4e-0b7d-4c1e-9a55-2f0e8d9b7c31';
    const t = unsubscribeToken('a-secret-of-16-chars', tenant, 'Ops+night@örnek.example');
    assert.match(t, /^[\w-]+\.[\w-]{32}$/, 'URL-safe as it is');
    assert.deepEqual(readUnsubscribeToken('a-secret-of-16-chars', t), {
      tenantId: tenant,
      address: 'Ops+night@örnek.example',
    });
    assert.equal(readUnsubscribeToken('another-secret-16chars', t), undefined);
    const other = Buffer.from(`${tenant}:eve@example.com`).toString('base64url');
    assert.equal(readUnsubscribeToken('a-secret-of-16-chars', `${other}.${t.split('.')[1]}`), undefined);
    for (const bad of ['', '.', 'abc', `${t}x`, t.replace('.', ''), `${t.split('.')[0]}.${'A'.repeat(32)}`])
      assert.equal(readUnsubscribeToken('a-secret-of-16-chars', bad), undefined, bad);
  });
});
