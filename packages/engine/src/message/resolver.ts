/**
 * The engine's DNS as mailauth's `resolver` option: `(name, rrtype) => Promise<answers>`, answers
 * shaped as `dns.promises.resolve` shapes them, failures as errors carrying the `code` Node's
 * resolver would give. mailauth reads `ENOTFOUND` and `ENODATA` as "no record" (NXDOMAIN, NODATA)
 * and every other code as a temporary error, so "could not look" stays apart from "no record"
 * (mailauth's NO_RECORD_CODES) — and every lookup goes through the engine's resolver, the lab's in
 * tests, with its timeouts, its per-analysis cache and its failure log.
 *
 * The private-address guard: without `allowPrivateTargets`, the PTR of a loopback, private or
 * reserved address is not asked (CONTRACT.md section 5, as for an audit's PTR lookups); the
 * lookup fails with `EPRIVATE`, which mailauth treats as a temporary error, never as "no record".
 */
import { isIP } from 'node:net';
import type { DNSResolver } from 'mailauth';
import type { AuditDns } from '../dns/audit-dns.js';
import type { RRType } from '../dns/records.js';
import type { DnsStatus } from '../dns/resolver.js';
import { reservedRange } from '../net/address.js';
import type { CategoryId } from '../types.js';

/**
 * mailauth's resolver type (its index.d.ts `DNSResolver`). Its declaration names strings only;
 * MX answers are `{exchange, priority}` objects, as node:dns gives them and mailauth reads them.
 */
export type MailauthResolver = DNSResolver;

/** Record types mailauth asks for (SPF, DKIM, DMARC with its tree walk, ARC, BIMI). */
const SUPPORTED: ReadonlySet<string> = new Set(['A', 'AAAA', 'TXT', 'MX', 'PTR', 'CNAME', 'NS']);

/** Error codes of node:dns for each way a lookup can end without records. */
const CODES: Record<Exclude<DnsStatus, 'ok'>, string> = {
  nodata: 'ENODATA',
  nxdomain: 'ENOTFOUND',
  timeout: 'ETIMEOUT',
  refused: 'EREFUSED',
  servfail: 'ESERVFAIL',
  error: 'EBADRESP',
};

export class MailauthDnsError extends Error {
  constructor(
    readonly code: string,
    readonly hostname: string,
    readonly rrtype: string,
    detail: string,
  ) {
    super(`${rrtype} ${hostname}: ${detail}`);
    this.name = 'MailauthDnsError';
  }
}

/** The category a lookup is reported under when it fails (dns.lookup_failed), from its name. */
export function lookupCategory(name: string): CategoryId {
  if (/(^|\.)_domainkey\./.test(name)) return 'dkim';
  if (/(^|\.)_dmarc\./.test(name)) return 'dmarc';
  if (/(^|\.)_bimi\./.test(name)) return 'bimi';
  if (/\.(in-addr|ip6)\.arpa$/.test(name)) return 'mx';
  return 'spf';
}

/** The address whose PTR owner name this is (RFC 1035 3.5, RFC 3596 2.5), or undefined. */
export function addressOfReverseName(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  const v4 = /^((?:\d{1,3}\.){3}\d{1,3})\.in-addr\.arpa$/.exec(n);
  if (v4) {
    const a = (v4[1] as string).split('.').reverse().join('.');
    return isIP(a) === 4 ? a : undefined;
  }
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(n);
  if (v6) {
    const nibbles = (v6[1] as string).split('.').filter(Boolean).reverse().join('');
    const a = (nibbles.match(/.{4}/g) as string[]).join(':');
    return isIP(a) === 6 ? a : undefined;
  }
  return undefined;
}

/** Whether a name can exist in the DNS (RFC 1035 2.3.4): labels of 1 to 63 octets, 253 in all. */
function validName(name: string): boolean {
  const n = name.replace(/\.$/, '');
  return n.length > 0 && n.length <= 253 && n.split('.').every((l) => l.length > 0 && l.length <= 63);
}

export function mailauthResolver(dns: AuditDns, opts: { allowPrivateTargets: boolean }): MailauthResolver {
  return async (name, rrtype) => {
    const type = String(rrtype).toUpperCase();
    const fail = (code: string, detail: string): never => {
      throw new MailauthDnsError(code, name, type, detail);
    };
    if (!SUPPORTED.has(type)) fail('ENOTIMP', `record type ${type} is not asked by mailaudit`);
    if (typeof name !== 'string' || !validName(name)) fail('EBADNAME', 'not a valid domain name');
    if (type === 'PTR' && !opts.allowPrivateTargets) {
      const address = addressOfReverseName(name);
      const range = address && reservedRange(address);
      if (range) fail('EPRIVATE', `not looked up: ${address} is a ${range} address (see --allow-private-targets)`);
    }
    const ask = async <T extends RRType>(t: T) => {
      const answer = await dns.query(lookupCategory(name.toLowerCase()), name, t);
      if (answer.status !== 'ok') fail(CODES[answer.status], answer.detail ?? answer.status);
      return answer.records;
    };
    if (type === 'TXT') return (await ask('TXT')).map((r) => r.strings);
    if (type === 'MX') {
      const mx = (await ask('MX')).map((r) => ({ exchange: r.exchange, priority: r.preference }));
      return mx as unknown as string[];
    }
    return ask(type as 'A' | 'AAAA' | 'PTR' | 'CNAME' | 'NS');
  };
}
