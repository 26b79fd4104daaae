/**
 * Where the domain receives mail: its MX records (RFC 5321 5.1), a null MX (RFC 7505), the
 * implicit MX of a domain without MX records, and each target's addresses, CNAMEs (RFC 2181
 * 10.3 forbids them), IP literals and reserved addresses.
 */
import { isIP } from 'node:net';
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import type { DnsAnswer } from '../../dns/resolver.js';
import { finding } from '../../findings.js';
import { allowedAddresses, reservedRange } from '../../net/address.js';
import type { Finding } from '../../types.js';

export interface MxTarget {
  name: string;
  preference: number;
  ipLiteral: boolean;
  /** CNAME chain met when resolving the target. */
  cnames: string[];
  addresses: string[];
  /** Status of the A and AAAA lookups. */
  lookups: DnsAnswer['status'][];
}

export interface MxInput {
  domain: string;
  mx: Pick<DnsAnswer<'MX'>, 'status' | 'records'>;
  /** The domain's own A/AAAA addresses when it has no MX. */
  implicit?: { addresses: string[]; failed: boolean };
  targets: MxTarget[];
  allowPrivateTargets: boolean;
}

/** A host mail is delivered to, with the addresses an audit may look at. */
export interface MailHost {
  name: string;
  source: 'mx' | 'implicit';
  preference: number;
  addresses: string[];
  /** Addresses the audit may contact or look up (public ones, or all with --allow-private-targets). */
  usable: string[];
}

async function addressesOf(dns: DnsClient, name: string) {
  const [a, aaaa] = await Promise.all([dns.query(name, 'A'), dns.query(name, 'AAAA')]);
  return {
    addresses: [...a.records, ...aaaa.records],
    cnames: a.cnames.length ? a.cnames : aaaa.cnames,
    lookups: [a.status, aaaa.status],
  };
}

export async function fetchMx(
  dns: DnsClient,
  domain: string,
  mx: DnsAnswer<'MX'>,
  allowPrivateTargets: boolean,
): Promise<MxInput> {
  const input: MxInput = { domain, mx, targets: [], allowPrivateTargets };
  if (failed(mx) || mx.status === 'nxdomain') return input;
  if (mx.records.length === 0) {
    const own = await addressesOf(dns, domain);
    input.implicit = {
      addresses: own.addresses,
      failed: own.lookups.some(failed),
    };
    return input;
  }
  if (isNullMx(mx.records)) return input;
  input.targets = await Promise.all(
    mx.records
      .filter((r) => r.exchange !== '')
      .map(async (r) => {
        const ipLiteral = isIP(r.exchange.replace(/^\[|\]$/g, '')) !== 0;
        const res = await addressesOf(dns, r.exchange);
        return { name: r.exchange, preference: r.preference, ipLiteral, ...res };
      }),
  );
  input.targets.sort((x, y) => x.preference - y.preference || x.name.localeCompare(y.name));
  return input;
}

/** RFC 7505 3: a single MX with preference 0 and exchange ".". */
export function isNullMx(records: { preference: number; exchange: string }[]): boolean {
  return records.length === 1 && records[0]?.exchange === '';
}

/** The hosts receiving the domain's mail, for PTR, blocklist and transport checks. */
export function mailHosts(input: MxInput): MailHost[] {
  const usable = (addrs: string[]) => allowedAddresses(addrs, input.allowPrivateTargets);
  if (input.implicit) {
    if (input.implicit.addresses.length === 0) return [];
    return [
      {
        name: input.domain,
        source: 'implicit',
        preference: 0,
        addresses: input.implicit.addresses,
        usable: usable(input.implicit.addresses),
      },
    ];
  }
  return input.targets.map((t) => ({
    name: t.name,
    source: 'mx',
    preference: t.preference,
    addresses: t.addresses,
    usable: usable(t.addresses),
  }));
}

export function evaluateMx(input: MxInput): Finding[] {
  const out: Finding[] = [];
  const { domain } = input;
  if (failed(input.mx) || input.mx.status === 'nxdomain') return out;
  if (input.implicit) {
    if (input.implicit.addresses.length > 0) {
      out.push(
        finding(
          'mx.implicit',
          domain,
          `${domain} has no MX record: mail is delivered to its A/AAAA address (${input.implicit.addresses.join(', ')}) instead.`,
          {
            addresses: input.implicit.addresses,
          },
          { fix: { type: 'MX', name: domain, value: `10 ${domain}.` } },
        ),
      );
      // The implicit MX is the domain itself (RFC 5321 5.1): its addresses are judged as a target's.
      const privateOnly = privateAddressFinding(domain, input.implicit.addresses, input.allowPrivateTargets);
      if (privateOnly) out.push(privateOnly);
    } else if (!input.implicit.failed) {
      out.push(finding('mx.missing', domain, `${domain} has no MX record and no address: it cannot receive mail.`));
    }
    return out;
  }
  if (isNullMx(input.mx.records)) {
    out.push(
      finding('mx.null', domain, `${domain} publishes a null MX (RFC 7505): it declares that it accepts no mail.`),
    );
    return out;
  }
  for (const t of input.targets) {
    if (t.ipLiteral) {
      out.push(
        finding(
          'mx.ip_literal',
          t.name,
          `The MX target "${t.name}" is an IP address; an MX must name a host (RFC 5321 5.1).`,
          { target: t.name },
        ),
      );
    }
    if (t.cnames.length > 0) {
      out.push(
        finding(
          'mx.cname',
          t.name,
          `The MX target ${t.name} is an alias (CNAME to ${t.cnames.at(-1)}); RFC 2181 10.3 requires MX targets to be host names.`,
          {
            target: t.name,
            cname: t.cnames,
          },
        ),
      );
    }
    const lookupFailed = t.lookups.some(failed);
    if (t.addresses.length === 0 && !lookupFailed) {
      out.push(
        finding(
          'mx.host_unresolvable',
          t.name,
          `The MX target ${t.name} has no A or AAAA record: mail for it cannot be delivered there.`,
          { target: t.name },
        ),
      );
    }
    const privateOnly = privateAddressFinding(t.name, t.addresses, input.allowPrivateTargets);
    if (privateOnly) out.push(privateOnly);
  }
  return out;
}

/** `mx.private_address` when every address of a mail host (an MX target, or the implicit MX) is reserved. */
function privateAddressFinding(host: string, addresses: string[], allowPrivateTargets: boolean): Finding | undefined {
  if (allowPrivateTargets || addresses.length === 0 || !addresses.every((a) => reservedRange(a) !== undefined)) {
    return undefined;
  }
  return finding(
    'mx.private_address',
    host,
    `The MX target ${host} resolves only to non-public addresses (${addresses.map((a) => `${a}: ${reservedRange(a)}`).join('; ')}): no one on the internet can deliver to it.`,
    { target: host, addresses },
  );
}
