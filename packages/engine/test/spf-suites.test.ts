/**
 * The openspf RFC 7208 test suite (fixtures/rfc7208-tests.json, converted from pyspf's
 * rfc7208-tests.yml) run through checkHost with the suite's zone data. The suite's driver rules
 * apply: SPF-type records stand in for TXT where a name has no TXT; TIMEOUT answers a type that
 * has no records at that name with a timeout.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkHost, type DnsAnswer, type DnsClient, type RRType } from '../src/index.js';

interface ZoneRecord {
  type: string;
  data?: unknown;
}
interface Suite {
  description: string;
  zonedata: Record<string, ZoneRecord[]>;
  tests: Record<
    string,
    {
      description: string;
      helo: string;
      host: string;
      mailfrom: string;
      result: string | string[];
      explanation?: string;
    }
  >;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/rfc7208-tests.json', import.meta.url), 'utf8')) as {
  suites: Suite[];
};

function zoneClient(zone: Record<string, ZoneRecord[]>): DnsClient {
  const lower = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  return {
    async query<T extends RRType>(name: string, type: T): Promise<DnsAnswer<T>> {
      const cnames: string[] = [];
      let owner = name.toLowerCase().replace(/\.$/, '');
      let recs = lower.get(owner);
      for (let i = 0; i < 8 && recs && type !== 'CNAME'; i++) {
        const c = recs.find((r) => r.type === 'CNAME');
        if (!c) break;
        owner = String(c.data).toLowerCase().replace(/\.$/, '');
        cnames.push(owner);
        recs = lower.get(owner);
      }
      const base = { name, type, cnames, ad: false, rcode: 0 };
      if (!recs) return { ...base, status: 'nxdomain', rcode: 3, records: [] };
      let matching = recs.filter((r) => r.type === type);
      if (type === 'TXT' && matching.length === 0) matching = recs.filter((r) => r.type === 'SPF');
      // "TXT: NONE" in the suite means: no TXT records, and SPF records are not copied.
      matching = matching.filter((r) => !(r.type === 'TXT' && JSON.stringify(r.data) === '["NONE"]'));
      if (matching.length === 0) {
        if (recs.some((r) => r.type === 'TIMEOUT')) return { ...base, status: 'timeout', rcode: -1, records: [] };
        return { ...base, status: 'nodata', records: [] };
      }
      const records = matching.map((r) => {
        switch (type) {
          case 'TXT': {
            const strings = (r.data as string[]).map(String);
            return { strings, text: strings.join('') };
          }
          case 'MX': {
            const [preference, exchange] = r.data as [number, string];
            return { preference, exchange: String(exchange).toLowerCase().replace(/\.$/, '') };
          }
          case 'PTR':
          case 'CNAME':
            return String(r.data).toLowerCase().replace(/\.$/, '');
          default:
            return String(r.data);
        }
      });
      return { ...base, status: 'ok', records } as DnsAnswer<T>;
    },
  };
}

let total = 0;
for (const suite of fixtures.suites) {
  describe(`RFC 7208 suite: ${suite.description}`, () => {
    const dns = zoneClient(suite.zonedata);
    for (const [name, t] of Object.entries(suite.tests)) {
      total++;
      it(`${name}: ${t.description}`, async () => {
        const r = await checkHost(dns, {
          ip: t.host,
          sender: t.mailfrom,
          helo: t.helo,
          receiver: 'receiver.com',
          now: 1_700_000_000,
        });
        const accepted = ([] as string[]).concat(t.result);
        assert.ok(
          accepted.includes(r.result),
          `${name}: got ${r.result} (${r.reason ?? ''}), want ${accepted.join(' or ')}`,
        );
        // The suite's driver gives receivers the default explanation "DEFAULT" (pyspf's test harness).
        if (t.explanation !== undefined && r.result === 'fail') {
          assert.equal(r.explanation ?? 'DEFAULT', t.explanation, `${name}: explanation`);
        }
      });
    }
  });
}

describe('RFC 7208 suite coverage', () => {
  it('runs every test of the fixture file', () => {
    assert.equal(total, 201);
  });
});
