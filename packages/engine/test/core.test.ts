/**
 * Domain-name handling and scoring.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODES, type Code } from '../src/codes.js';
import { InvalidDomainError, normalizeDomain } from '../src/domain-name.js';
import { finding } from '../src/findings.js';
import { CANNOT_RECEIVE, type CategoryInput, score } from '../src/scoring.js';
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

  it('caps the grade at D on a critical finding and gives F when mail cannot be received', () => {
    const crit = score(all(), [f('dkim.key.insecure')]);
    assert.ok(crit.score >= 90);
    assert.equal(crit.grade, 'D');
    for (const code of CANNOT_RECEIVE) assert.equal(score(all(), [f(code as Code)]).grade, 'F');
    assert.equal(score(all(), [], true).grade, 'F');
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
