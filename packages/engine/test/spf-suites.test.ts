/**
 * The openspf test suites run through checkHost with each suite's zone data: RFC 7208's (pyspf
 * rfc7208-tests.yml) and RFC 4408's (rfc4408-tests.yml, whose tests accept both the RFC 4408 and
 * the RFC 7208 answer where the two differ). The driver rules are in helpers/spf-suite.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSpfSuites, runSpfTest, zoneClient } from './helpers/spf-suite.js';

const EXPECTED_TESTS = { 'rfc7208-tests.json': 201, 'rfc4408-tests.json': 191 } as const;

for (const file of ['rfc7208-tests.json', 'rfc4408-tests.json'] as const) {
  const fixtures = loadSpfSuites(file);
  let total = 0;
  for (const suite of fixtures.suites) {
    describe(`${file}: ${suite.description}`, () => {
      const dns = zoneClient(suite.zonedata);
      for (const [name, t] of Object.entries(suite.tests)) {
        total++;
        it(`${name}: ${t.description}`, async () => {
          const r = await runSpfTest(dns, t);
          assert.ok(
            r.ok,
            `${name}: got ${r.got.result} (${r.got.reason ?? ''}; explanation ${r.got.explanation ?? 'none'}), want ${r.accepted.join(' or ')}${t.explanation ? ` with explanation ${t.explanation}` : ''}`,
          );
        });
      }
    });
  }
  describe(`${file} coverage`, () => {
    it('runs every test of the fixture file, which names its origin and license', () => {
      assert.equal(total, EXPECTED_TESTS[file]);
      assert.match(fixtures.origin.commit, /^[0-9a-f]{40}$/);
      assert.ok(fixtures.origin.license.length > 0);
    });
  });
}
