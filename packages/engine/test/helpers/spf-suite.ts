/**
 * The openspf test suites (fixtures/rfc7208-tests.json and rfc4408-tests.json, converted from
 * pyspf's YAML) and the suites' driver rules: a zone of records per suite, SPF-type records
 * standing in for TXT where a name has no TXT, TIMEOUT answering a type that has no records at
 * that name with a timeout; the receiver is "receiver.com" and the default explanation "DEFAULT".
 */
import { readFileSync } from 'node:fs';
import { type CheckHostResult, checkHost, type DnsAnswer, type DnsClient, type RRType } from '../../src/index.js';

export interface ZoneRecord {
  type: string;
  data?: unknown;
}

export interface SpfTest {
  description: string;
  helo: string;
  host: string;
  mailfrom: string;
  result: string | string[];
  explanation?: string;
}

export interface SpfSuite {
  description: string;
  zonedata: Record<string, ZoneRecord[]>;
  tests: Record<string, SpfTest>;
}

export interface SpfSuiteFile {
  source: string;
  origin: { repository: string; commit: string; path: string; license: string };
  suites: SpfSuite[];
}

export function loadSpfSuites(file: 'rfc7208-tests.json' | 'rfc4408-tests.json'): SpfSuiteFile {
  return JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as SpfSuiteFile;
}

export function zoneClient(zone: Record<string, ZoneRecord[]>): DnsClient {
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

/** Runs one test of a suite through checkHost; `ok` when the result (and explanation) is one the suite accepts. */
export async function runSpfTest(
  dns: DnsClient,
  t: SpfTest,
): Promise<{ ok: boolean; got: CheckHostResult; accepted: string[] }> {
  const got = await checkHost(dns, {
    ip: t.host,
    sender: t.mailfrom,
    helo: t.helo,
    receiver: 'receiver.com',
    now: 1_700_000_000,
  });
  const accepted = ([] as string[]).concat(t.result);
  let ok = accepted.includes(got.result);
  // The suite's driver gives receivers the default explanation "DEFAULT" (pyspf's test harness).
  if (ok && t.explanation !== undefined && got.result === 'fail') ok = (got.explanation ?? 'DEFAULT') === t.explanation;
  return { ok, got, accepted };
}
