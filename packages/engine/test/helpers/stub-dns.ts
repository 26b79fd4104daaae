/**
 * An in-memory DnsClient for unit tests of pure check logic: names map to records by type;
 * a name with records of other types answers NODATA, an unknown name NXDOMAIN; `timeout` and
 * `servfail` make a name (or one type at it) fail; `bogus` types answer SERVFAIL unless asked
 * with CD, as a validating resolver does for data whose validation fails; a CNAME is followed.
 */
import type { DnsAnswer, DnsClient, RecordOf, RRType } from '../../src/index.js';

type Entry = { [T in RRType]?: RecordOf<T>[] | 'timeout' | 'servfail' } & {
  ad?: boolean;
  fail?: 'timeout' | 'servfail';
  bogus?: RRType[];
};

export type StubZone = Record<string, Entry>;

export interface StubDns extends DnsClient {
  asked: string[];
}

export function stubDns(zone: StubZone, opts: { ad?: boolean } = {}): StubDns {
  const asked: string[] = [];
  const lower = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  return {
    asked,
    async query<T extends RRType>(name: string, type: T, qopts: { cd?: boolean } = {}): Promise<DnsAnswer<T>> {
      asked.push(`${name} ${type}${qopts.cd ? ' +cd' : ''}`);
      const cnames: string[] = [];
      let owner = name.toLowerCase().replace(/\.$/, '');
      let entry = lower.get(owner);
      for (let i = 0; i < 8 && entry?.CNAME && type !== 'CNAME'; i++) {
        const target = (entry.CNAME as string[])[0] as string;
        cnames.push(target);
        owner = target;
        entry = lower.get(owner);
      }
      const base = { name, type, cnames, ad: entry?.ad ?? opts.ad ?? false, rcode: 0, records: [] as RecordOf<T>[] };
      if (!entry) return { ...base, status: 'nxdomain', rcode: 3 };
      if (entry.bogus?.includes(type) && !qopts.cd) {
        return { ...base, status: 'servfail', rcode: 2, detail: 'stub bogus' };
      }
      const v = entry[type];
      const failure: 'timeout' | 'servfail' | undefined = v === 'timeout' || v === 'servfail' ? v : entry.fail;
      if (failure && !(qopts.cd && failure === 'servfail' && Array.isArray(v))) {
        return { ...base, status: failure, rcode: failure === 'servfail' ? 2 : -1, detail: `stub ${failure}` };
      }
      if (Array.isArray(v) && v.length > 0) return { ...base, status: 'ok', records: v as RecordOf<T>[] };
      return { ...base, status: 'nodata' };
    },
  };
}

export const txt = (...texts: string[]) => texts.map((t) => ({ strings: [t], text: t }));
export const mx = (...targets: [number, string][]) =>
  targets.map(([preference, exchange]) => ({ preference, exchange }));
