/**
 * DNSSEC as a validating resolver sees it: the AD bit on the domain's answers (RFC 4035 3.2.3);
 * for unvalidated answers, whether the zone is provably insecure (a validated answer that no DS
 * exists at the delegation, RFC 4035 5.2); and bogus answers: SERVFAIL that a query with CD
 * answers (RFC 4035 3.2.2).
 */
import type { DnsClient, LookupRecord } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
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

/** Looks for a bogus answer among the audit's lookups under the domain: SERVFAIL, then CD. */
export async function findBogus(dns: DnsClient, domain: string, log: LookupRecord[]): Promise<DnssecInput['bogus']> {
  const candidates = log.filter(
    (l) => l.status === 'servfail' && !l.cd && (l.name === domain || l.name.endsWith(`.${domain}`)),
  );
  for (const c of candidates.slice(0, 3)) {
    const cd = await dns.query(c.name, c.type, { cd: true });
    if (cd.status === 'ok' || cd.status === 'nodata' || cd.status === 'nxdomain') return { name: c.name, type: c.type };
  }
  return undefined;
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
