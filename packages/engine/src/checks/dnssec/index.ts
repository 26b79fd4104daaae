/**
 * DNSSEC as a validating resolver sees it: the AD bit on the domain's answers (RFC 4035 3.2.3);
 * for unvalidated answers, whether the zone is provably insecure (a validated answer that no DS
 * exists at the delegation, RFC 4035 5.2); and bogus answers: SERVFAIL that a query with CD
 * answers (RFC 4035 3.2.2), with what the CD query saw, marked unvalidated in the evidence.
 */
import type { DnsClient, LookupRecord } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import type { RRType } from '../../dns/records.js';
import type { DnsAnswer } from '../../dns/resolver.js';
import { finding } from '../../findings.js';
import type { Finding } from '../../types.js';

export interface DnssecInput {
  domain: string;
  /** `secure`: answers validated; `insecure`: proven unsigned; `unknown`: the resolver does not validate or a lookup failed. */
  state: 'secure' | 'insecure' | 'unknown';
  /** Where the absence of a DS was proven. */
  provenAt?: string;
  bogus?: { name: string; type: string };
  /** What queries with CD saw of the records whose validation failed: data no validator accepts. */
  unvalidated?: UnvalidatedAnswer[];
}

/** Records as a query with Checking Disabled sees them, after validation of the same query failed. */
export interface UnvalidatedAnswer {
  name: string;
  type: RRType;
  status: DnsAnswer['status'];
  records: unknown[];
  validated: false;
}

async function unvalidated(dns: DnsClient, name: string, type: RRType): Promise<UnvalidatedAnswer | undefined> {
  const cd = await dns.query(name, type, { cd: true });
  return failed(cd) ? undefined : { name, type, status: cd.status, records: cd.records, validated: false };
}

/**
 * Why the domain's own MX lookup answered SERVFAIL: undefined when a CD query fails too (the
 * domain's servers or the path to them are broken); otherwise validation failed, and `zoneWide`
 * says whether it fails for the whole zone (its SOA does not validate either: a DS that matches
 * none of its keys, expired or missing signatures) or for some records only, so that the rest of
 * the audit can go on. `unvalidated` holds what CD queries see of the domain's main records.
 */
export async function diagnoseServfail(
  dns: DnsClient,
  domain: string,
): Promise<{ zoneWide: boolean; unvalidated: UnvalidatedAnswer[] } | undefined> {
  const mx = await unvalidated(dns, domain, 'MX');
  if (!mx) return undefined;
  const soa = await dns.query(domain, 'SOA');
  const zoneWide = failed(soa);
  const seen: UnvalidatedAnswer[] = [mx];
  if (zoneWide) {
    const more = await Promise.all(
      (
        [
          [domain, 'A'],
          [domain, 'AAAA'],
          [domain, 'TXT'],
          [`_dmarc.${domain}`, 'TXT'],
        ] as const
      ).map(([name, type]) => unvalidated(dns, name, type)),
    );
    for (const m of more) if (m) seen.push(m);
  }
  return { zoneWide, unvalidated: seen };
}

export async function fetchDnssec(dns: DnsClient, domain: string, apexAnswer: DnsAnswer): Promise<DnssecInput> {
  if (apexAnswer.ad) return { domain, state: 'secure' };
  if (failed(apexAnswer)) return { domain, state: 'unknown' };
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    const ds = await dns.query(name, 'DS');
    if (failed(ds)) return { domain, state: 'unknown' };
    if (!ds.ad) continue;
    if (ds.status === 'nodata' || ds.status === 'nxdomain') return { domain, state: 'insecure', provenAt: name };
    // A validated DS exists, yet the domain's answer was not validated: not provable either way.
    return { domain, state: 'unknown' };
  }
  return { domain, state: 'unknown' };
}

/**
 * Looks for bogus answers among the audit's lookups under the domain: SERVFAIL, then the same
 * query with CD. Returns what the CD queries saw, first bogus lookup first.
 */
export async function findBogus(dns: DnsClient, domain: string, log: LookupRecord[]): Promise<UnvalidatedAnswer[]> {
  const candidates = log.filter(
    (l) => l.status === 'servfail' && !l.cd && (l.name === domain || l.name.endsWith(`.${domain}`)),
  );
  const found = await Promise.all(candidates.slice(0, 5).map((c) => unvalidated(dns, c.name, c.type)));
  return found.filter((f): f is UnvalidatedAnswer => f !== undefined);
}

export function evaluateDnssec(input: DnssecInput): Finding[] {
  const out: Finding[] = [];
  if (input.bogus) {
    out.push(
      finding(
        'dnssec.bogus',
        input.domain,
        `DNSSEC validation fails for ${input.bogus.name} ${input.bogus.type}: validating resolvers answer SERVFAIL, as if the record did not exist.`,
        {
          name: input.bogus.name,
          type: input.bogus.type,
          unvalidated: (input.unvalidated ?? []).map((u) => `${u.name} ${u.type}`),
        },
      ),
    );
  }
  if (input.state === 'insecure') {
    out.push(
      finding(
        'dnssec.unsigned',
        input.domain,
        `${input.domain} is not signed with DNSSEC (no DS record at ${input.provenAt}): its records can be forged in transit.`,
        {
          provenAt: input.provenAt,
        },
      ),
    );
  }
  return out;
}
