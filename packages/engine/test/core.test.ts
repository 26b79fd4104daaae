/**
 * Domain-name handling and scoring.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODES, type Code } from '../src/codes.js';
import { InvalidDomainError, normalizeDomain } from '../src/domain-name.js';
import { finding } from '../src/findings.js';
import {
  CANNOT_RECEIVE,
  CAPS,
  type CategoryInput,
  GRADE_TABLE,
  gradeOf,
  rescore,
  SCORING_VERSION,
  score,
  UNKNOWN_CODES,
  WEIGHTS,
} from '../src/scoring.js';
import { CATEGORY_IDS, type Finding } from '../src/types.js';

describe('domain names', () => {
  it('normalizes: case, trailing dot, IDN to punycode', () => {
    assert.equal(normalizeDomain('Example.COM.'), 'example.com');
    assert.equal(normalizeDomain('bücher.example'), 'xn--bcher-kva.example');
    assert.equal(normalizeDomain(' mail.example.org '), 'mail.example.org');
  });

  it('refuses what is not a domain, with a reason', () => {
    for (const bad of [
      '',
      'localhost',
      '192.0.2.1',
      '[2001:db8::1]',
      '2001:db8::1',
      'https://example.com',
      'example.com/path',
      'user@example.com',
      'exa mple.com',
      `${'a'.repeat(64)}.com`,
      `${'abcdefghi.'.repeat(26)}com`,
      'a..b.com',
      '-bad.com',
      'bad-.com',
      'x.123',
      '_dmarc.example.com',
    ]) {
      assert.throws(
        () => normalizeDomain(bad),
        (e: unknown) => e instanceof InvalidDomainError && e.reason.length > 5,
        bad,
      );
    }
  });
});

const all = (condition: CategoryInput['condition'] = 'checked'): CategoryInput[] =>
  CATEGORY_IDS.map((id) => ({ id, condition }));
const f = (code: Code) => finding(code, 'example.com', 'x');

describe('scoring', () => {
  it('gives 100 and A+ to a clean report', () => {
    assert.deepEqual([score(all(), []).score, score(all(), []).grade], [100, 'A+']);
  });

  it('caps the score into D on a critical finding and into F when mail cannot be received', () => {
    // Uncapped, one critical in DKIM would leave 91: the cap moves the score, not only the grade.
    const crit = score(all(), [f('dkim.key.insecure')]);
    assert.deepEqual([crit.score, crit.grade], [CAPS.critical, 'D']);
    for (const code of CANNOT_RECEIVE) {
      const r = score(all(), [f(code as Code)]);
      assert.equal(r.grade, 'F');
      assert.ok(r.score <= CAPS.cannotReceive);
    }
    assert.deepEqual([score(all(), [], true).score, score(all(), [], true).grade], [CAPS.cannotReceive, 'F']);
    // A+ means nothing left to fix: one warning keeps the score in A.
    assert.deepEqual([score(all(), [f('tlsrpt.syntax')]).score, score(all(), [f('tlsrpt.syntax')]).grade], [94, 'A']);
  });

  it('the weights add up to 100 and the grade table covers 0..100 without gaps or overlaps', () => {
    assert.equal(
      Object.values(WEIGHTS).reduce((a, b) => a + b, 0),
      100,
    );
    for (let s = 0; s <= 100; s++) assert.equal(GRADE_TABLE.filter((r) => s >= r.min && s <= r.max).length, 1, `${s}`);
    assert.equal(SCORING_VERSION, 2);
  });

  it('leaves categories that could not be checked out of the score, never counting them as 100', () => {
    const conditions = all().map((c) => (c.id === 'spf' ? { ...c, condition: 'error' as const } : c));
    const lookup = finding('dns.lookup_failed', 'example.com', 'x', {}, { category: 'spf' });
    const r = score(conditions, [lookup, f('dmarc.policy.none')]);
    assert.deepEqual(r.leftOut, ['spf']);
    assert.equal(r.categories.find((c) => c.id === 'spf')?.score, null);
    // DMARC at 75 over the 85 points of weight left: (75*15 + 100*70)/85 = 95.6 -> 96, capped at 94 by the warning.
    assert.equal(r.score, 94);
    // What could not be looked up costs nothing and caps nothing.
    assert.equal(score(conditions, [lookup]).score, 100);
  });

  it('property: over generated reports, the grade is monotone in the score, one score never has two grades, and a critical finding never leaves a grade above D', () => {
    const codes = (Object.keys(CODES) as Code[]).filter((c) => !UNKNOWN_CODES.has(c));
    const order = ['A+', 'A', 'B', 'C', 'D', 'F'];
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const gradeOfScore = new Map<number, string>();
    const seen: { score: number; grade: string }[] = [];
    for (let round = 0; round < 2000; round++) {
      const set: Finding[] = codes.filter(() => rand() < 0.05).map((c) => f(c));
      const conditions = CATEGORY_IDS.map((id) => ({
        id,
        condition: rand() < 0.08 ? ('error' as const) : rand() < 0.05 ? ('skipped' as const) : ('checked' as const),
      }));
      const r = score(conditions, set, rand() < 0.05);
      assert.equal(gradeOfScore.get(r.score) ?? r.grade, r.grade, `score ${r.score} gave two grades`);
      gradeOfScore.set(r.score, r.grade);
      assert.equal(r.grade, gradeOf(r.score));
      if (set.some((x) => x.severity === 'critical')) {
        assert.ok(order.indexOf(r.grade) >= order.indexOf('D'), `a critical finding left ${r.grade}`);
        assert.ok(r.score <= CAPS.critical);
      }
      seen.push({ score: r.score, grade: r.grade });
    }
    seen.sort((a, b) => a.score - b.score);
    for (let i = 1; i < seen.length; i++) {
      const [lo, hi] = [seen[i - 1], seen[i]] as [(typeof seen)[0], (typeof seen)[0]];
      assert.ok(order.indexOf(hi.grade) <= order.indexOf(lo.grade), `${hi.score} graded below ${lo.score}`);
    }
    assert.ok(gradeOfScore.size > 30, 'the generated reports cover many scores');
  });

  it('scores a version-1 report again with this table, an F staying F', () => {
    const v1 = {
      scoringVersion: 1,
      score: 91,
      grade: 'D' as const,
      categories: CATEGORY_IDS.map((id) => ({
        id,
        score: 100,
        status: id === 'spf' ? ('fail' as const) : ('pass' as const),
      })),
      findings: [f('spf.all.pass')],
    };
    assert.deepEqual(rescore(v1), { score: CAPS.critical, grade: 'D' });
    const v1F = { ...v1, score: 89, grade: 'F' as const, findings: [] };
    assert.equal(rescore(v1F).grade, 'F');
  });

  it('gives 0 and F when nothing could be checked', () => {
    assert.deepEqual([score(all('error'), []).score, score(all('error'), []).grade], [0, 'F']);
  });

  it('never lowers the score or the grade when a finding is fixed (every subset of a sample)', () => {
    const codes = Object.keys(CODES) as Code[];
    const order = ['A+', 'A', 'B', 'C', 'D', 'F'];
    // A deterministic walk over many sets: removing any one finding must not make things worse.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 300; round++) {
      const set: Finding[] = codes.filter(() => rand() < 0.12).map((c) => f(c));
      const conditions = CATEGORY_IDS.map((id) => ({
        id,
        condition: rand() < 0.1 ? ('error' as const) : ('checked' as const),
      }));
      const before = score(conditions, set);
      for (let i = 0; i < set.length; i++) {
        const after = score(
          conditions,
          set.filter((_, j) => j !== i),
        );
        assert.ok(after.score >= before.score, `removing ${set[i]?.code} lowered the score`);
        assert.ok(
          order.indexOf(after.grade) <= order.indexOf(before.grade),
          `removing ${set[i]?.code} lowered the grade`,
        );
      }
    }
  });

  it('marks statuses: fail on critical, warn on warning, error on failed lookups, skipped', () => {
    const conditions: CategoryInput[] = all().map((c) =>
      c.id === 'bimi' ? { ...c, condition: 'skipped' } : c.id === 'dnssec' ? { ...c, condition: 'error' } : c,
    );
    const r = score(conditions, [f('spf.missing'), f('dmarc.policy.none'), f('dkim.key.short')]);
    const status = Object.fromEntries(r.categories.map((c) => [c.id, c.status]));
    assert.deepEqual(
      [status.spf, status.dmarc, status.dkim, status.bimi, status.dnssec, status.mx],
      ['fail', 'warn', 'pass', 'skipped', 'error', 'pass'],
    );
  });
});
